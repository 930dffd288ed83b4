import t from 'tap'
import { Parser, Store as N3Store, DataFactory } from 'n3'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { SAMPLE_DATASETS } from '../helpers/datasets.js'
import { parseRdf } from '../../src/dcat/parse.js'
import { validDataset } from '../helpers/bodies.js'
import { packageFromDict } from '../../src/catalog/package-input.js'
import type { App } from '../../src/app.js'
import { userWithToken } from '../helpers/users.js'

const DCAT = 'http://www.w3.org/ns/dcat#'
const HYDRA = 'http://www.w3.org/ns/hydra/core#'
const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type'

function turtle(text: string): N3Store {
  const store = new N3Store()
  store.addQuads(new Parser({ format: 'text/turtle' }).parse(text))
  return store
}

function datasetUris(store: N3Store): string[] {
  return store.getSubjects(RDF_TYPE, DataFactory.namedNode(DCAT + 'Dataset'), null).map((s) => s.value)
}

function hydra(store: N3Store, predicate: string): string | undefined {
  return store.getObjects(null, DataFactory.namedNode(HYDRA + predicate), null)[0]?.value
}

async function addDatasets(app: App, count: number, prefix: string): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    const { input } = packageFromDict(validDataset(i % 2 ? 'marburg' : 'kassel', { name: `${prefix}-${i}` }), { reference: app.service.reference, vocab: app.service.vocab })
    ids.push(await app.service.createPackage(input))
  }
  return ids
}

await forEachBackend(
  t,
  async (t, backend) => {
    const app = await startApp(t, backend)
    await insertDatasets(app, SAMPLE_DATASETS)
    const base = backend.config.baseUrl

    await t.test('formats, content types, negotiation, HEAD', async (t) => {
      for (const [ext, type] of [['ttl', 'text/turtle'], ['rdf', 'application/rdf+xml'], ['xml', 'application/rdf+xml'], ['jsonld', 'application/ld+json'], ['nt', 'application/n-triples']]) {
        const response = await app.fastify.inject({ url: `/catalog.${ext}` })
        t.equal(response.statusCode, 200, `/catalog.${ext}`)
        t.match(response.headers['content-type'], type)
        const quads = await parseRdf(response.body, type!)
        t.ok(quads.some((q) => q.predicate.value === RDF_TYPE && q.object.value === DCAT + 'Catalog'), `${ext} parses and has the catalog`)
        const dataset = await app.fastify.inject({ url: `/dataset/haltestellen-fulda.${ext}` })
        t.equal(dataset.statusCode, 200)
        t.match(dataset.headers['content-type'], type)
      }
      const byAccept = await app.fastify.inject({ url: '/catalog', headers: { accept: 'text/html;q=0.9, application/ld+json;q=0.8, text/turtle;q=0.5' } })
      t.match(byAccept.headers['content-type'], 'application/ld+json', 'q-values honoured; html is not offered')
      const dsAccept = await app.fastify.inject({ url: '/dataset/haltestellen-fulda', headers: { accept: 'application/rdf+xml' } })
      t.match(dsAccept.headers['content-type'], 'application/rdf+xml')
      t.equal((await app.fastify.inject({ url: '/catalog', headers: { accept: 'image/png' } })).statusCode, 406)
      t.equal((await app.fastify.inject({ url: '/dataset/haltestellen-fulda', headers: { accept: 'text/html' } })).statusCode, 406)
      const head = await app.fastify.inject({ method: 'HEAD', url: '/catalog.rdf' })
      t.equal(head.statusCode, 200)
      t.match(head.headers['content-type'], 'application/rdf+xml')
      t.ok(Number(head.headers['content-length']) > 0, 'HEAD tells the length as the DCAT harvester checks it')
    })

    await t.test('errors as ckanext-dcat gives them', async (t) => {
      const page = await app.fastify.inject({ url: '/catalog.ttl?page=0' })
      t.equal(page.statusCode, 409)
      t.equal(page.body, 'Page param must be a positive integer starting in 1')
      t.equal((await app.fastify.inject({ url: '/catalog.ttl?page=abc' })).statusCode, 409)
      const date = await app.fastify.inject({ url: '/catalog.ttl?modified_since=yesterday' })
      t.equal(date.statusCode, 409)
      t.equal(date.body, 'Wrong modified date format. Use ISO-8601 format')
      t.equal((await app.fastify.inject({ url: '/catalog.ttl?profiles=nonsense' })).statusCode, 409)
      t.equal((await app.fastify.inject({ url: '/dataset/nope.ttl' })).statusCode, 404)
      t.equal((await app.fastify.inject({ url: '/dataset/interne-liste-kassel.ttl' })).statusCode, 403, 'private datasets stay private')
      t.equal((await app.fastify.inject({ url: '/dataset/alte-daten-fulda.ttl' })).statusCode, 403, 'deleted datasets are not served')
      t.equal((await app.fastify.inject({ url: '/organization/atlantis/catalog.ttl' })).statusCode, 404)
    })

    await t.test('private datasets for members of their Kommune only', async (t) => {
      const member = await userWithToken(app, 'kassel-mitglied', { org: 'kassel', role: 'member' })
      const other = await userWithToken(app, 'marburg-mitglied', { org: 'marburg', role: 'member' })
      t.equal((await app.fastify.inject({ url: '/dataset/interne-liste-kassel.ttl', headers: { authorization: member.token! } })).statusCode, 200)
      t.equal((await app.fastify.inject({ url: '/dataset/interne-liste-kassel.ttl', headers: { authorization: other.token! } })).statusCode, 403)
      const catalog = turtle((await app.fastify.inject({ url: '/catalog.ttl', headers: { authorization: member.token! } })).body)
      t.equal(datasetUris(catalog).length, 4, 'the public catalog never lists private datasets')
    })

    await t.test('the catalog lists public active datasets; per Kommune; modified_since; q and fq', async (t) => {
      const all = turtle((await app.fastify.inject({ url: '/catalog.ttl' })).body)
      t.equal(datasetUris(all).length, 4)
      t.equal(hydra(all, 'totalItems'), '4')
      const fulda = turtle((await app.fastify.inject({ url: '/organization/fulda/catalog.ttl' })).body)
      t.equal(datasetUris(fulda).length, 1)
      const fq = turtle((await app.fastify.inject({ url: `/catalog.ttl?fq=${encodeURIComponent('tags:verkehr')}` })).body)
      t.equal(datasetUris(fq).length, 2)
      const q = turtle((await app.fastify.inject({ url: '/catalog.ttl?q=wahlergebnisse' })).body)
      t.equal(datasetUris(q).length, 1)
      const future = turtle((await app.fastify.inject({ url: '/catalog.ttl?modified_since=2999-01-01' })).body)
      t.equal(datasetUris(future).length, 0)
      const past = turtle((await app.fastify.inject({ url: '/catalog.ttl?modified_since=2000-01-01T00:00:00' })).body)
      t.equal(datasetUris(past).length, 4)
    })

    await t.test('ETag and Last-Modified revalidate to 304', async (t) => {
      const first = await app.fastify.inject({ url: '/catalog.ttl' })
      t.ok(first.headers.etag)
      t.ok(first.headers['last-modified'])
      const again = await app.fastify.inject({ url: '/catalog.ttl', headers: { 'if-none-match': first.headers.etag as string } })
      t.equal(again.statusCode, 304)
      // A date cannot tell whether anything changed (a purge makes the newest change older): only ETags give 304.
      const since = await app.fastify.inject({ url: '/catalog.ttl', headers: { 'if-modified-since': first.headers['last-modified'] as string } })
      t.equal(since.statusCode, 200, 'If-Modified-Since alone is not honoured')
      const ds = await app.fastify.inject({ url: '/dataset/haltestellen-fulda.ttl' })
      t.equal((await app.fastify.inject({ url: '/dataset/haltestellen-fulda.ttl', headers: { 'if-none-match': ds.headers.etag as string } })).statusCode, 304)
      await addDatasets(app, 1, 'etag-change')
      const changed = await app.fastify.inject({ url: '/catalog.ttl', headers: { 'if-none-match': first.headers.etag as string } })
      t.equal(changed.statusCode, 200, 'a change invalidates the ETag')
      // The dataset's RDF names its Kommune: renaming the Kommune changes it, though the dataset's revision stays.
      const before = await app.fastify.inject({ url: '/dataset/haltestellen-fulda.ttl' })
      const fulda = app.service.reference.organization('fulda')!
      await app.service.updateOrganization(fulda.id, { title: 'Stadt Fulda (umbenannt)' })
      const renamed = await app.fastify.inject({ url: '/dataset/haltestellen-fulda.ttl', headers: { 'if-none-match': before.headers.etag as string } })
      t.equal(renamed.statusCode, 200, 'a change of the Kommune invalidates the dataset ETag')
      t.match(renamed.body, /Stadt Fulda \(umbenannt\)/)
      const page = await app.fastify.inject({ url: '/catalog.ttl', headers: { 'if-none-match': changed.headers.etag as string } })
      t.equal(page.statusCode, 200, 'and the catalog page ETag')
    })

    await t.test('Hydra paging as ckanext-dcat writes it, complete while the catalog is edited', async (t) => {
      const paged = await startApp(t, { ...backend, config: { ...backend.config, dcatPageSize: 10 } })
      const ids = await addDatasets(paged, 45, 'hydra')
      const expected = await paged.search.catalogPage({ fq_list: [], limit: 1000 }, { userId: null, userName: null, sysadmin: false, orgRoles: new Map() })
      const uris = new Set<string>()
      let url: string | undefined = `${base}/catalog.ttl`
      let pages = 0
      let edits = 0
      while (url) {
        const response = await paged.fastify.inject({ url: url.slice(base.length) })
        t.equal(response.statusCode, 200)
        const store = turtle(response.body)
        for (const uri of datasetUris(store)) uris.add(uri)
        if (pages === 0) {
          t.equal(hydra(store, 'totalItems'), String(expected.count))
          t.equal(hydra(store, 'itemsPerPage'), '10')
          t.equal(hydra(store, 'first'), hydra(store, 'firstPage'), 'old and new predicates')
          t.equal(hydra(store, 'last'), hydra(store, 'lastPage'))
          t.ok(hydra(store, 'next'))
          t.equal(hydra(store, 'next'), hydra(store, 'nextPage'))
          const collection = store.getSubjects(RDF_TYPE, DataFactory.namedNode(HYDRA + 'PagedCollection'), null)
          t.equal(collection.length, 1, 'one hydra:PagedCollection node')
        }
        // An editor works meanwhile: updates (metadata_modified changes), deletes one not yet crawled... and adds.
        const victim = ids[(pages * 7) % ids.length]!
        const { dict } = await paged.service.showPackage(victim, { userId: 'x', userName: 'x', sysadmin: true, orgRoles: new Map() })
        const { input } = packageFromDict(dict, { reference: paged.service.reference, vocab: paged.service.vocab })
        await paged.service.updatePackage(victim, { ...input, title: `${input.title} (bearbeitet)` })
        await addDatasets(paged, 1, `hydra-late-${edits++}`)
        url = hydra(store, 'next')
        pages++
        if (pages > 20) throw new Error('runaway paging')
      }
      const missing = expected.ids.filter((r) => ![...uris].some((u) => u.endsWith(r.id)))
      t.same(missing, [], 'every dataset that existed when the crawl began arrived')
    })

    await t.test('page=all streams the whole catalog', async (t) => {
      const response = await app.fastify.inject({ url: '/catalog.nt?page=all' })
      t.equal(response.statusCode, 200)
      const quads = await parseRdf(response.body, 'application/n-triples')
      const datasets = quads.filter((q) => q.predicate.value === RDF_TYPE && q.object.value === DCAT + 'Dataset')
      const count = (await app.fastify.inject({ url: '/api/3/action/package_search?rows=0' })).json().result.count
      t.equal(datasets.length, count, 'every public dataset, in one document')
      t.equal(quads.filter((q) => q.predicate.value === DCAT + 'dataset').length, count, 'each linked from the catalog')
    })
  },
)
