/**
 * Auxiliary IRIs (contact point, publisher, location, licence document, vocabulary terms, pages...) that name
 * another dataset's subject (its `{base}/dataset/{id}` URI or explicit `uri`), a distribution, the catalog or
 * another IRI of the service: the export of a dataset B holding them adds no triple to those subjects, in any
 * format, whether one dataset, a catalog page or the streamed dump (in this thread and in the worker thread), and
 * B's export keeps its links (contact point and publisher as blank nodes with their description).
 */
import t, { type Test } from 'tap'
import { availableParallelism } from 'node:os'
import type * as RDF from '@rdfjs/types'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { catalogUri, datasetToQuads, datasetUri, organizationUri, resourceUri, type PackageDict } from '../../src/dcat/mapping.js'
import { catalogMappingContext, describableIris } from '../../src/dcat/context.js'
import { seedDatasets } from '../../src/catalog/seed.js'
import { PUBLIC_DATASETS } from '../../src/auth/viewer.js'
import type { App } from '../../src/app.js'
import { parseWith, tripleKey } from './support.js'

const FORMATS = ['ttl', 'nt', 'rdf', 'jsonld'] as const
type Format = (typeof FORMATS)[number]
const DCAT = 'http://www.w3.org/ns/dcat#'
const DCT = 'http://purl.org/dc/terms/'
const VCARD = 'http://www.w3.org/2006/vcard/ns#'
const FOAF = 'http://xmlns.com/foaf/0.1/'
const SKOS = 'http://www.w3.org/2004/02/skos/core#'

async function get(app: App, url: string): Promise<string> {
  const response = await app.fastify.inject({ method: 'GET', url })
  if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body.slice(0, 300)}`)
  return response.body
}

async function show(app: App, name: string): Promise<PackageDict> {
  const response = await app.fastify.inject({ method: 'GET', url: '/api/3/action/package_show', query: { id: name } })
  if (response.statusCode !== 200) throw new Error(`package_show ${name}: ${response.statusCode}`)
  return (response.json() as { result: PackageDict }).result
}

/**
 * The triples about the protected subjects, sorted (a set: each dataset of a Kommune describes its publisher
 * node alike). The catalog's dct:modified (the newest dataset's) and its dcat:dataset links (one more per new
 * dataset) are checked apart.
 */
function protectedTriples(quads: RDF.Quad[], subjects: Set<string>): string[] {
  const triples = quads
    .filter((q) => q.subject.termType === 'NamedNode' && subjects.has(q.subject.value))
    .filter((q) => !(q.predicate.value === `${DCT}modified` || q.predicate.value === `${DCAT}dataset`))
    .map(tripleKey)
  return [...new Set(triples)].sort()
}

/** A document's parse; a document that does not parse fails the test. */
async function parsed(t: Test, label: string, format: Format, text: string): Promise<RDF.Quad[]> {
  try {
    return await parseWith(format, text)
  } catch (err) {
    t.fail(`${label}: does not parse: ${(err as Error).message.slice(0, 300)}`)
    return []
  }
}

/** The streamed dump of a format, once the worker thread has taken part (its blank nodes are labelled n3w...). */
async function dumpFromWorker(app: App, format: 'ttl' | 'nt'): Promise<string> {
  let text = ''
  for (let attempt = 0; attempt < 50 && !/_:n3w\d/.test(text); attempt++) {
    text = await get(app, `/catalog.${format}?page=all`)
    if (!/_:n3w\d/.test(text)) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return text
}

forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const base = backend.config.baseUrl
  const marburgEditor = await userWithToken(app, `aux-marburg-${backend.name}`, { org: 'marburg', role: 'editor' })
  const kasselEditor = await userWithToken(app, `aux-kassel-${backend.name}`, { org: 'kassel', role: 'editor' })

  // A1: the service's own URIs; A2: explicit URIs, claimed through package_create (package_uri).
  await insertDatasets(app, [
    { name: 'aux-a1', title: 'A1', notes: 'Unberührt.', owner_org: 'marburg', groups: ['envi'], license_id: 'dl-by-de/2.0', resources: [{ name: 'CSV', url: 'https://www.marburg.de/a1.csv', format: 'CSV' }] },
  ])
  const a2Uri = 'https://www.marburg.de/daten/a2'
  const a2DistUri = 'https://www.marburg.de/daten/a2/csv'
  const created = await call(app, marburgEditor, 'package_create', validDataset('marburg', {
    name: 'aux-a2',
    extras: [{ key: 'uri', value: a2Uri }, { key: 'contact_uri', value: 'https://www.marburg.de/kontakt' }, { key: 'contact_name', value: 'Stadt Marburg' }, { key: 'contact_email', value: 'daten@marburg.de' }],
    resources: [{ url: 'https://www.marburg.de/a2.csv', format: 'CSV', name: 'A2', license: 'http://dcat-ap.de/def/licenses/dl-by-de/2.0', uri: a2DistUri }],
  }))
  t.equal(created.status, 200, 'A2 with explicit URIs is created')
  const a1 = await show(app, 'aux-a1')
  const a2 = await show(app, 'aux-a2')
  const a1Uri = datasetUri(a1, base)
  const a1DistUri = resourceUri(a1.resources![0]!, a1, base)
  t.equal(datasetUri(a2, base), a2Uri, 'A2 has its explicit URI')
  t.equal(resourceUri(a2.resources![0]!, a2, base), a2DistUri, "A2's distribution has its explicit URI")
  const marburgUri = organizationUri(app.service.reference.organization('marburg')!, base)
  const targets = [a1Uri, a1DistUri, a2Uri, a2DistUri, catalogUri(base), marburgUri, `${base}/publisher`, base]
  const subjects = new Set(targets)

  /** Every document to check, parsed: the datasets A1 and A2, a catalog page and the dump, in every format. */
  async function documents(t: Test, extra: string[] = []): Promise<Map<string, RDF.Quad[]>> {
    const docs = new Map<string, RDF.Quad[]>()
    for (const format of FORMATS) {
      for (const url of [`/dataset/aux-a1.${format}`, `/dataset/aux-a2.${format}`, `/catalog.${format}`, `/catalog.${format}?page=all`, ...extra.map((name) => `/dataset/${name}.${format}`)]) {
        docs.set(url, await parsed(t, url, format, await get(app, url)))
      }
    }
    return docs
  }
  const before = await documents(t)
  const baseline = new Map([...before].map(([url, quads]) => [url, protectedTriples(quads, subjects)]))
  t.ok(baseline.get('/catalog.ttl')!.some((k) => k.startsWith(`<${a1Uri}> `)), 'the baseline holds A1')
  t.ok(baseline.get('/catalog.ttl')!.some((k) => k.startsWith(`<${marburgUri}> <${FOAF}name>`)), "the baseline holds A1's publisher, the Kommune Marburg")

  // B: Kassel datasets whose every IRI-valued field names one target (stored directly: older or harvested data).
  const bNames = targets.map((_, i) => `aux-b-${i}`)
  await insertDatasets(app, targets.map((target, i) => ({
    name: bNames[i]!,
    title: `B ${i}`,
    notes: 'Greift an.',
    url: target,
    owner_org: 'kassel',
    groups: ['envi'],
    license_id: 'dl-by-de/2.0',
    extras: [
      ['contact_uri', target], ['contact_name', 'Böse'], ['contact_email', 'boese@example.org'],
      ['publisher_uri', target], ['publisher_name', 'Böse'], ['publisher_url', target], ['publisher_type', target],
      ['spatial_uri', target], ['spatial_text', 'Böse'],
      ['theme', JSON.stringify([target])], ['documentation', JSON.stringify([target])], ['conforms_to', JSON.stringify([target])],
      ['hvd_category', JSON.stringify([target])], ['politicalGeocodingURI', JSON.stringify([target])], ['qualityProcessURI', target],
      ['provenance', target], ['access_rights', target], ['dcat_type', target], ['availability', target], ['language', JSON.stringify([target])],
      ['frequency', target], ['originator_name', 'Böse'], ['originator_url', target], ['originator_type', target],
    ].map(([key, value]) => ({ key: key!, value: value! })),
    resources: [{
      name: 'B', url: 'https://www.kassel.de/b.csv', format: target, mimetype: 'text/csv', license: target, rights: target,
      documentation: JSON.stringify([target]), conforms_to: JSON.stringify([target]), status: target, availability: target,
      plannedAvailability: target, language: JSON.stringify([target]), compress_format: target, package_format: target,
    }],
  })))
  // And one through the API: package_create takes such values.
  const throughApi = await call(app, kasselEditor, 'package_create', validDataset('kassel', {
    name: 'aux-b-api',
    extras: [{ key: 'contact_uri', value: a2Uri }, { key: 'contact_name', value: 'Böse' }, { key: 'contact_email', value: 'boese@example.org' }, { key: 'publisher_uri', value: a2DistUri }, { key: 'publisher_name', value: 'Böse' }, { key: 'spatial_uri', value: a1Uri }],
  }))
  t.equal(throughApi.status, 200, 'package_create takes auxiliary IRIs naming other datasets')
  bNames.push('aux-b-api')

  await t.test("no B adds a triple to A's, A's distributions', the catalog's or the service's subjects", async (t) => {
    const after = await documents(t, bNames)
    for (const [url, triples] of baseline) t.same(protectedTriples(after.get(url)!, subjects), triples, `${url}: as without B`)
    for (const name of bNames) {
      for (const format of FORMATS) {
        const url = `/dataset/${name}.${format}`
        t.same(protectedTriples(after.get(url)!, subjects), [], `${url}: nothing about the targets`)
      }
    }
    for (const format of FORMATS) {
      const dump = after.get(`/catalog.${format}?page=all`)!
      const linked = dump.filter((q) => q.subject.value === catalogUri(base) && q.predicate.value === `${DCAT}dataset`).map((q) => q.object.value).sort()
      const expected = [a1Uri, a2Uri, ...(await Promise.all(bNames.map(async (n) => datasetUri(await show(app, n), base))))].sort()
      t.same(linked, expected, `/catalog.${format}?page=all: the catalog lists the datasets and nothing else`)
    }
  })

  await t.test("B keeps its links: contact point and publisher as blank nodes with B's description, other IRIs as links", async (t) => {
    for (const [i, target] of targets.entries()) {
      const quads = await parseWith('ttl', await get(app, `/dataset/${bNames[i]}.ttl`))
      const b = datasetUri(await show(app, bNames[i]!), base)
      const objectOf = (p: string) => quads.filter((q) => q.subject.value === b && q.predicate.value === p).map((q) => q.object)
      const about = (node: RDF.Term) => quads.filter((q) => q.subject.equals(node)).map((q) => `${q.predicate.value} ${q.object.value}`)
      const [contact] = objectOf(`${DCAT}contactPoint`)
      t.equal(contact?.termType, 'BlankNode', `B ${i}: the contact point is a blank node`)
      if (contact) t.ok(about(contact).includes(`${VCARD}fn Böse`) && about(contact).includes(`http://www.w3.org/1999/02/22-rdf-syntax-ns#type ${VCARD}Kind`), `B ${i}: described (vcard:Kind, vcard:fn)`)
      const [publisher] = objectOf(`${DCT}publisher`)
      t.equal(publisher?.termType, 'BlankNode', `B ${i}: the publisher is a blank node`)
      if (publisher) t.ok(about(publisher).includes(`${FOAF}name Böse`) && about(publisher).includes(`http://www.w3.org/1999/02/22-rdf-syntax-ns#type ${FOAF}Agent`), `B ${i}: described (foaf:Agent, foaf:name)`)
      const spatial = objectOf(`${DCT}spatial`)
      t.ok(spatial.some((o) => o.termType === 'BlankNode' && about(o).includes(`${SKOS}prefLabel Böse`)), `B ${i}: the location is a blank node with its label`)
      t.ok(objectOf(`${DCAT}landingPage`).some((o) => o.value === target), `B ${i}: the landing page stays a link to the IRI`)
    }
  })

  if (availableParallelism() >= 2) {
    await t.test('the streamed Turtle / N-Triples dumps, serialized in the worker thread too', async (t) => {
      for (const format of ['ttl', 'nt'] as const) {
        const text = await dumpFromWorker(app, format)
        t.match(text, /_:n3w\d/, `${format}: part of the dump came from the worker thread`)
        const quads = await parsed(t, `/catalog.${format}?page=all (worker)`, format, text)
        t.same(protectedTriples(quads, subjects), baseline.get(`/catalog.${format}?page=all`), `/catalog.${format}?page=all (worker): as without B`)
      }
    })
  }

  await t.test('on ordinary data the check changes nothing: every IRI the mapping describes is found free', async (t) => {
    await seedDatasets(backend.store, app.service.vocab, { count: 120, seed: 11 })
    await app.service.catchUpChangeFeed()
    const ids = (await app.service.db.selectFrom('package').select('id').execute()).map((r) => r.id)
    const dicts = (await app.service.packageDicts(ids, PUBLIC_DATASETS)) as PackageDict[]
    const seeded = dicts.filter((d) => !String(d.name).startsWith('aux-'))
    t.ok(seeded.length >= 100, `${seeded.length} seeded public datasets`)
    const describable = await describableIris(app.service, backend.config, 'dcat_ap_de_2', seeded)
    let named = 0
    for (const dict of seeded) {
      const unchecked = datasetToQuads(dict, catalogMappingContext(app.service, backend.config, 'dcat_ap_de_2', dict)).map(tripleKey)
      const checked = datasetToQuads(dict, catalogMappingContext(app.service, backend.config, 'dcat_ap_de_2', dict, describable)).map(tripleKey)
      if (JSON.stringify(checked) !== JSON.stringify(unchecked)) t.same(checked, unchecked, `${dict.name}: the same quads with the check`)
      named += unchecked.filter((k) => /^<https?:/.test(k) && !k.startsWith(`<${datasetUri(dict, base)}`)).length
    }
    t.ok(named > 0, `${named} quads about auxiliary IRIs, all kept`)
  })
})
