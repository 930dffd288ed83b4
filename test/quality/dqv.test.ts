import t from 'tap'
import { Parser, Store as N3Store, DataFactory } from 'n3'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { parseRdf } from '../../src/dcat/parse.js'
import { createValidator, officialShapesMissingReason, type Finding } from '../../src/validation/index.js'
import { DQV, PV } from '../../src/dcat/quality.js'

const { namedNode } = DataFactory
const violations = (findings: Finding[]) =>
  [...new Set(findings.filter((f) => f.severity === 'violation').map((f) => `${f.path} ${f.message.en}`))].slice(0, 10)

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const editor = await userWithToken(app, 'q-dqv', { org: 'marburg', role: 'editor' })
  const hostile = 'Bäume <script>"\'&\u2028'
  const created: any[] = []
  for (let i = 0; i < 3; i++) {
    const r = await call(
      app,
      editor,
      'package_create',
      validDataset('marburg', { name: `q-dqv-${i}`, title: `${hostile} ${i}`, ...(i === 2 ? { tags: [] } : {}) }),
    )
    t.equal(r.status, 200)
    created.push(r.body.result)
  }
  const priv = await call(
    app,
    editor,
    'package_create',
    validDataset('marburg', { name: 'q-dqv-privat', private: true }),
  )
  t.equal(priv.status, 200)

  const measurements = (store: N3Store, dataset: string) => {
    const out = new Map<string, string>()
    for (const m of store.getObjects(namedNode(dataset), namedNode(`${DQV}hasQualityMeasurement`), null)) {
      const metric = store.getObjects(m, namedNode(`${DQV}isMeasurementOf`), null)[0].value.slice(PV.length)
      t.equal(store.getObjects(m, namedNode(`${DQV}computedOn`), null)[0]?.value, dataset)
      out.set(metric, store.getObjects(m, namedNode(`${DQV}value`), null)[0].value)
    }
    return out
  }

  for (const profile of [
    { param: '', own: 'dcat_ap_de_2' as const, official: 'official-de-2' as const },
    { param: '&profiles=dcat_ap_de_3', own: 'dcat_ap_de_3' as const, official: 'official-de-3' as const },
  ]) {
    await t.test(`the catalog with ?quality=1 carries DQV and still conforms (${profile.own})`, async (t) => {
      const response = await app.fastify.inject({ url: `/catalog.ttl?quality=1${profile.param}` })
      t.equal(response.statusCode, 200)
      const quads = await parseRdf(response.body, 'text/turtle')
      const own = await createValidator({ profile: profile.own })
      t.same(violations((await own.validate(quads)).findings), [], 'our shapes')
      const missing = officialShapesMissingReason(profile.official)
      if (missing) t.comment(`official shapes skipped: ${missing}`)
      else {
        const official = await createValidator({ profile: profile.own, shapes: profile.official })
        t.same(violations((await official.validate(quads)).findings), [], `the official ${profile.official} shapes`)
      }
      const store = new N3Store(new Parser().parse(response.body))
      for (const dataset of created) {
        const iri = `${backend.config.baseUrl}/dataset/${dataset.id}`
        const m = measurements(store, iri)
        t.equal(Number(m.get('scoring')), dataset.quality.score, 'the stored score')
        t.equal(m.get('keywordAvailability'), dataset.name === 'q-dqv-2' ? 'false' : 'true')
        t.equal(m.get('dcatApCompliance'), 'true')
        t.notOk(m.has('accessUrlStatusCode'), 'unknown link health is no measurement')
      }
      t.notOk(response.body.includes(priv.body.result.id), 'nothing of the private dataset')
      const plain = await app.fastify.inject({
        url: `/catalog.ttl${profile.param ? `?${profile.param.slice(1)}` : ''}`,
      })
      t.notOk(plain.body.includes(DQV), 'only when asked for')
    })
  }

  await t.test('the streamed dump (page=all) with ?quality=1 carries DQV in every format', async (t) => {
    const response = await app.fastify.inject({ url: '/catalog.ttl?page=all&quality=1' })
    t.equal(response.statusCode, 200)
    const store = new N3Store(new Parser().parse(response.body))
    for (const dataset of created) {
      const m = measurements(store, `${backend.config.baseUrl}/dataset/${dataset.id}`)
      t.equal(Number(m.get('scoring')), dataset.quality.score, `${dataset.name}: the stored score`)
    }
    t.notOk(response.body.includes(priv.body.result.id), 'nothing of the private dataset')
    const own = await createValidator({ profile: 'dcat_ap_de_2' })
    t.same(violations((await own.validate(await parseRdf(response.body, 'text/turtle'))).findings), [], 'our shapes')
    const plain = await app.fastify.inject({ url: '/catalog.ttl?page=all' })
    t.notOk(plain.body.includes(DQV), 'only when asked for')
    t.not(plain.headers.etag, response.headers.etag, 'the two dumps have their own ETags')
    for (const format of ['nt', 'jsonld', 'rdf']) {
      const r = await app.fastify.inject({ url: `/catalog.${format}?page=all&quality=1` })
      t.equal(r.statusCode, 200, format)
      t.ok(r.body.includes('hasQualityMeasurement'), `${format} carries DQV`)
    }
  })

  await t.test('one dataset with ?quality=1; visibility as without', async (t) => {
    const one = await app.fastify.inject({ url: `/dataset/${created[0].id}.ttl?quality=1` })
    t.equal(one.statusCode, 200)
    const store = new N3Store(new Parser().parse(one.body))
    t.equal(
      Number(measurements(store, `${backend.config.baseUrl}/dataset/${created[0].id}`).get('scoring')),
      created[0].quality.score,
    )
    const plain = await app.fastify.inject({ url: `/dataset/${created[0].id}.ttl` })
    t.not(one.headers.etag, plain.headers.etag, 'the two answers have their own ETags')
    for (const format of ['jsonld', 'rdf', 'nt']) {
      const r = await app.fastify.inject({ url: `/dataset/${created[0].id}.${format}?quality=1` })
      t.equal(r.statusCode, 200, format)
      t.ok(r.body.includes('hasQualityMeasurement'), `${format} carries DQV`)
    }
    const hidden = await app.fastify.inject({ url: `/dataset/q-dqv-privat.ttl?quality=1` })
    t.equal(hidden.statusCode, (await app.fastify.inject({ url: `/dataset/q-dqv-privat.ttl` })).statusCode)
    t.notOk(hidden.body.includes('QualityMeasurement'))
  })
})
