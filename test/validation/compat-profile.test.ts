// The `compat` RDF profile over HTTP: the deprecated schema:startDate / schema:endDate only when asked for,
// on the dataset and the catalog endpoints, with an ETag of its own.
import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { SAMPLE_DATASETS } from '../helpers/datasets.js'

const sample = SAMPLE_DATASETS[0]!

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  await insertDatasets(app, [
    {
      ...sample,
      name: 'zeitraum-compat',
      extras: [
        ...(sample.extras ?? []),
        { key: 'temporal_start', value: '2020-01-01' },
        { key: 'temporal_end', value: '2020-12-31' },
      ],
    },
  ])
  const get = (url: string) => app.fastify.inject({ url })

  await t.test('dataset: dcat:startDate always, schema:startDate only with compat', async (t) => {
    const plain = await get('/dataset/zeitraum-compat.nt')
    t.equal(plain.statusCode, 200)
    t.match(plain.body, /<http:\/\/www\.w3\.org\/ns\/dcat#startDate> "2020-01-01"/)
    t.notMatch(plain.body, /schema\.org/, 'no schema.org property without compat')
    const compat = await get('/dataset/zeitraum-compat.nt?profiles=dcat_ap_de_2,compat')
    t.equal(compat.statusCode, 200)
    t.match(compat.body, /<http:\/\/schema\.org\/startDate> "2020-01-01"/)
    t.match(compat.body, /<http:\/\/schema\.org\/endDate> "2020-12-31"/)
    t.not(compat.headers.etag, plain.headers.etag, 'the compat answer has its own ETag')
    const revalidated = await app.fastify.inject({
      url: '/dataset/zeitraum-compat.nt?profiles=dcat_ap_de_2,compat',
      headers: { 'if-none-match': String(plain.headers.etag) },
    })
    t.equal(revalidated.statusCode, 200, "the plain answer's ETag does not validate the compat one")
    const v3 = await get('/dataset/zeitraum-compat.nt?profiles=dcat_ap_de_3,compat')
    t.match(v3.body, /schema\.org\/startDate/, 'compat works with the 3.0 profile too')
  })

  await t.test('catalog pages honour compat; unknown profiles are still refused', async (t) => {
    t.notMatch((await get('/catalog.nt')).body, /schema\.org\/startDate/)
    t.match((await get('/catalog.nt?profiles=compat')).body, /schema\.org\/startDate/)
    t.match((await get('/catalog.nt?page=all&profiles=compat')).body, /schema\.org\/startDate/)
    const unknown = await get('/catalog.nt?profiles=compatible')
    t.ok(unknown.statusCode >= 400 && unknown.statusCode < 500, `unknown profile: ${unknown.statusCode}`)
  })
})
