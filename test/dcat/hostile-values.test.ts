/**
 * Hostile values in every writable field of datasets and their resources, stored directly (as older or harvested
 * data may hold anything) and through package_create where the API takes them: every RDF export of each dataset
 * and of the whole catalog must parse with an independent parser (n3 for Turtle / N-Triples, rdfxml-streaming-parser
 * for RDF/XML, jsonld.js toRDF for JSON-LD), and the triples of each dataset's and distribution's subject must be
 * exactly the ones the mapping makes of it: nothing injected into any subject, nothing lost.
 */
import t, { type Test } from 'tap'
import { sql } from 'kysely'
import { availableParallelism } from 'node:os'
import type * as RDF from '@rdfjs/types'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { userWithToken, call } from '../helpers/users.js'
import { parseWith, tripleKey } from './support.js'
import { catalogMappingContext, describableIris } from '../../src/dcat/context.js'
import { revisionTag } from '../../src/catalog/revision-tag.js'
import { datasetToQuads, datasetUri, ownDatasetUri, type PackageDict } from '../../src/dcat/mapping.js'
import { isHttpIri } from '../../src/dcat/iri.js'
import type { App } from '../../src/app.js'
import type { AppConfig } from '../../src/config.js'

const DCAT = 'http://www.w3.org/ns/dcat#'
const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type'
const VICTIM_NAME = 'opfer-datensatz'

/** The hostile values; `long` is put in by the test (its length depends on the store's column sizes). */
function corpus(victimUri: string, long: string): string[] {
  return [
    'a b<c>',
    '<script>"quoted" {x} |y| ^z^ `w` \\v</script>',
    '"""',
    `> <${victimUri}> <http://purl.org/dc/terms/title> "INJECTED" .`,
    `http://evil.example/x> <${victimUri}> <http://purl.org/dc/terms/publisher> <http://evil.example/p> .\n<http://evil.example/y`,
    '"; dct:title "INJECTED"; a dcat:Dataset; dct:x "',
    'line one\nline two\r\nline three\rend',
    'para\u2028graph\u2029end',
    'nul\u0000byte\u0001\u001f',
    'lone \ud800 high and \udc00 low',
    '😀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 中文 العربية ελληνικά русский',
    'javascript:alert(1)',
    'relative/path/x.csv',
    'http://example.org/a b/ä"x".csv',
    'dct:title',
    ']]></dct:title><rdf:Description rdf:about="http://evil.example/">',
    '@prefix dct: <http://evil.example/>.',
    '..',
    long,
  ]
}

/** A dataset with `value` in every field that ends up in the RDF (the name and id kept apart). */
function hostileDataset(value: string, i: number, small: (v: string, max: number) => string, textMax: number) {
  const v = (max = 90) => small(value, max)
  const LONG_EXTRAS = new Set(['uri', 'identifier', 'provenance', 'contact_name', 'spatial_text', 'publisher_name', 'legalbasisText', 'version_notes'])
  const extras = [
    'uri', 'identifier', 'alternate_identifier', 'issued', 'modified', 'language', 'frequency', 'theme', 'documentation',
    'conforms_to', 'related_resource', 'source', 'has_version', 'is_version_of', 'sample', 'references', 'dcat_type', 'provenance',
    'access_rights', 'temporal_start', 'temporal_end', 'temporal_resolution', 'spatial_resolution_in_meters', 'spatial_uri',
    'spatial_text', 'spatial', 'spatial_bbox', 'spatial_centroid', 'politicalGeocodingURI', 'politicalGeocodingLevelURI',
    'contact_uri', 'contact_name', 'contact_email', 'contact_url', 'contact_tel', 'contact_street', 'contact_city', 'contact_zip',
    'contact_country', 'publisher_uri', 'publisher_name', 'publisher_email', 'publisher_url', 'publisher_type', 'publisher_identifier',
    'originator_name', 'originator_email', 'originator_url', 'originator_type', 'contributor_name', 'contributor_url', 'maintainer_url',
    'author_type', 'qualityProcessURI', 'legalbasisText', 'geocodingText', 'granularity', 'availability', 'version_notes', 'hvd_category',
    'applicable_legislation',
  ].map((key) => ({ key, value: v(LONG_EXTRAS.has(key) ? textMax : 2000) }))
  // A JSON list holding the value, as list-valued extras are stored.
  extras.push({ key: 'free_list', value: JSON.stringify([v(1000), v(1000)]) })
  const resource = (n: number) => ({
    id: `${i}-${n}-${small(value, 20)}`,
    uri: v(2000),
    url: v(2000),
    access_url: v(2000),
    download_url: v(2000),
    name: v(900),
    description: v(textMax),
    format: v(90),
    mimetype: v(90),
    license: v(200),
    licenseAttributionByText: v(2000),
    hash: v(200),
    hash_algorithm: v(200),
    rights: v(2000),
    language: v(200),
    conforms_to: v(2000),
    documentation: v(2000),
    status: v(200),
    availability: v(200),
    plannedAvailability: v(200),
    compress_format: v(200),
    package_format: v(200),
    issued: v(200),
    modified: v(200),
  })
  return {
    // Ids as hostile as a database holds them (line breaks, NUL, quotes, any script; no lone surrogate, which UTF-8
    // cannot store): the ETags of package_show and the DCAT dataset endpoint name a hash of such an id
    // (catalog/revision-tag.ts).
    id: `${i}${small(value, 34)}`.slice(0, 36).replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '_'),
    name: `hostile-${i}`,
    title: v(400),
    notes: v(textMax),
    url: v(1900),
    version: v(90),
    author: v(90),
    author_email: v(90),
    maintainer: v(90),
    maintainer_email: v(90),
    license_id: v(90),
    owner_org: 'kassel',
    groups: ['envi'],
    tags: [{ name: small(value, 90) }, { name: `tag-${i}` }],
    extras,
    resources: [resource(1), resource(2)],
  }
}

interface Expected {
  name: string
  datasetIri: string
  /** The dataset's and its distributions' IRIs. */
  subjects: Set<string>
  /** Their triples, sorted. */
  triples: string[]
}

async function expectedOf(dict: PackageDict, app: App, config: AppConfig): Promise<Expected> {
  const describable = await describableIris(app.service, config, 'dcat_ap_de_2', [dict])
  const quads = datasetToQuads(dict, catalogMappingContext(app.service, config, 'dcat_ap_de_2', dict, describable))
  const datasetIri = datasetUri(dict, config.baseUrl)
  const subjects = new Set([datasetIri])
  for (const q of quads) if (q.subject.value === datasetIri && q.predicate.value === `${DCAT}distribution`) subjects.add(q.object.value)
  const triples = quads.filter((q) => q.subject.termType === 'NamedNode' && subjects.has(q.subject.value)).map(tripleKey).sort()
  return { name: String(dict.name), datasetIri, subjects, triples }
}

async function checkDocument(t: Test, label: string, format: 'ttl' | 'nt' | 'rdf' | 'jsonld', text: string, datasets: Expected[]) {
  let quads: RDF.Quad[]
  try {
    quads = await parseWith(format, text)
  } catch (err) {
    t.fail(`${label}: does not parse: ${(err as Error).message.slice(0, 300)}`)
    return
  }
  const typed = new Set(quads.filter((q) => q.predicate.value === RDF_TYPE && q.object.value === `${DCAT}Dataset`).map((q) => q.subject.value))
  t.same([...typed].sort(), datasets.map((d) => d.datasetIri).sort(), `${label}: one dcat:Dataset subject per dataset, and only those`)
  let exact = 0
  for (const d of datasets) {
    const got = quads.filter((q) => q.subject.termType === 'NamedNode' && d.subjects.has(q.subject.value)).map(tripleKey).sort()
    if (JSON.stringify(got) === JSON.stringify(d.triples)) exact++
    else t.same(got, d.triples, `${label}: the triples of ${d.name} and its distributions are the mapping's`)
  }
  t.equal(exact, datasets.length, `${label}: every dataset's triples exactly the mapping's (${datasets.map((d) => d.triples.length).join('+')} triples)`)
}

const FORMATS = ['ttl', 'nt', 'rdf', 'jsonld'] as const

async function get(app: App, url: string): Promise<string> {
  const response = await app.fastify.inject({ method: 'GET', url })
  if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body.slice(0, 300)}`)
  return response.body
}

/** Every export of every given dataset and of the whole catalog, checked. */
async function checkExports(t: Test, app: App, config: AppConfig, names: string[]) {
  const expected: Expected[] = []
  for (const name of names) {
    const shown = await app.fastify.inject({ method: 'GET', url: '/api/3/action/package_show', query: { id: name } })
    t.equal(shown.statusCode, 200, `package_show ${name}`)
    if (shown.statusCode !== 200) continue
    expected.push(await expectedOf((shown.json() as { result: PackageDict }).result, app, config))
  }
  for (const d of expected) {
    for (const format of FORMATS) await checkDocument(t, `/dataset/${d.name}.${format}`, format, await get(app, `/dataset/${d.name}.${format}`), [d])
  }
  for (const format of FORMATS) {
    await checkDocument(t, `/catalog.${format}?page=all`, format, await get(app, `/catalog.${format}?page=all`), expected)
    await checkDocument(t, `/catalog.${format}`, format, await get(app, `/catalog.${format}`), expected)
  }
  return expected
}

forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const config = backend.config
  // MariaDB's TEXT columns hold 64 KB: the longest value there is what they can hold.
  const longLength = backend.name === 'mysql' ? 60_000 : 100_000
  const long = `${'Lang '.repeat(longLength / 5 - 2)}"""\n> <`.slice(0, longLength)
  // Column sizes of the store (varchar(100) for names...): each value cut to what its field holds, on a code point.
  const small = (value: string, max: number) => (value.length <= max ? value : value.slice(0, max))

  await insertDatasets(app, [{ name: VICTIM_NAME, title: 'Opfer', notes: 'Ein Datensatz, der unberührt bleiben muss.', owner_org: 'marburg', groups: ['envi'], license_id: 'dl-by-de/2.0', resources: [{ name: 'CSV', url: 'https://www.marburg.de/opfer.csv', format: 'CSV' }] }])
  const victimShown = await app.fastify.inject({ method: 'GET', url: '/api/3/action/package_show', query: { id: VICTIM_NAME } })
  const victimUri = ownDatasetUri((victimShown.json() as { result: PackageDict }).result.id, config.baseUrl)
  const values = corpus(victimUri, long)

  await t.test('stored directly, bypassing the API', async (t) => {
    await insertDatasets(app, values.map((v, i) => hostileDataset(v, i, small, longLength)))
    const expected = await checkExports(t, app, config, [VICTIM_NAME, ...values.map((_, i) => `hostile-${i}`)])
    for (const d of expected.slice(1)) t.ok(isHttpIri(d.datasetIri), `${d.name}: its URI ${d.datasetIri.slice(0, 80)} is an http(s) IRI`)
    t.equal(new Set(expected.map((d) => d.datasetIri)).size, expected.length, 'every dataset has a URI of its own')
    const withOwnUri = expected.filter((d, i) => i > 0 && d.datasetIri.startsWith(`${config.baseUrl}/dataset/`))
    t.equal(withOwnUri.length, values.length, 'no hostile `uri` extra is taken as the dataset URI: each keeps the service URI')
  })

  if (availableParallelism() >= 2) {
    await t.test('the streamed Turtle / N-Triples dumps, serialized in the worker thread too', async (t) => {
      const names = [VICTIM_NAME, ...values.map((_, i) => `hostile-${i}`)]
      const expected: Expected[] = []
      for (const name of names) {
        const shown = await app.fastify.inject({ method: 'GET', url: '/api/3/action/package_show', query: { id: name } })
        expected.push(await expectedOf((shown.json() as { result: PackageDict }).result, app, config))
      }
      for (const format of ['ttl', 'nt'] as const) {
        // The worker starts with the first dump and takes batches once ready (its blank nodes are labelled n3w...,
        // or f<hash>w<thread>x in a stored Turtle fragment rendered there). The stored fragments are dropped before
        // each Turtle dump, so that it renders them again.
        const fromWorker = /_:n3w\d|_:f[0-9a-f]{24}w\d/
        let text = ''
        for (let attempt = 0; attempt < 50 && !fromWorker.test(text); attempt++) {
          if (format === 'ttl') await sql`delete from dcat_fragment`.execute(app.service.db)
          text = await get(app, `/catalog.${format}?page=all`)
          if (!fromWorker.test(text)) await new Promise((resolve) => setTimeout(resolve, 200))
        }
        t.match(text, fromWorker, `${format}: part of the dump came from the worker thread`)
        await checkDocument(t, `/catalog.${format}?page=all (worker)`, format, text, expected)
      }
    })
  }

  await t.test('through package_create, where the API takes the values', async (t) => {
    const editor = await userWithToken(app, `hostile-editor-${backend.name}`, { org: 'kassel', role: 'editor' })
    const accepted: string[] = []
    for (const [i, value] of values.entries()) {
      const { id: _id, owner_org: _org, groups: _groups, ...body } = hostileDataset(value, i, small, longLength)
      const resources = body.resources.map(({ id: _rid, ...r }) => r)
      for (const [variant, input] of [
        ['all fields', { ...body, resources }],
        ['text fields', { title: body.title, notes: body.notes, tags: [{ name: `tag-${i}` }], author: body.author, maintainer: body.maintainer, extras: body.extras.filter((e) => /name|text|street|city|notes/.test(e.key)), resources: [{ name: resources[0]!.name, description: resources[0]!.description, url: 'https://www.kassel.de/x.csv', format: 'CSV' }] }],
      ] as const) {
        const name = `api-${variant === 'all fields' ? 'a' : 't'}-${i}`
        const response = await call(app, editor, 'package_create', { ...input, name, owner_org: 'kassel', license_id: 'dl-by-de/2.0', groups: [{ name: 'envi' }] })
        if (response.status === 200) accepted.push(name)
        else t.ok(response.status >= 400 && response.status < 500, `${name} (${variant}): refused with ${response.status}, not a server error`)
      }
    }
    t.comment(`package_create took ${accepted.length} of ${values.length * 2} hostile datasets`)
    t.ok(accepted.length > 0, 'the API takes hostile text in its free-text fields')
    await checkExports(t, app, config, [VICTIM_NAME, ...values.map((_, i) => `hostile-${i}`), ...accepted])
  })

  await t.test('ids with a line break or beyond Latin-1 (older data): package_show, the DCAT dataset endpoint and If-Match work', async (t) => {
    const editor = await userWithToken(app, `etag-editor-${backend.name}`, { org: 'kassel', role: 'editor' })
    for (const [i, id] of ['line\nbreak', 'ümlaut-中文-😀', 'quote"dot.id', 'plain-id_1'].entries()) {
      const name = `etag-id-${i}`
      await insertDatasets(app, [{ id, name, title: 'x', notes: 'Beschreibung', owner_org: 'kassel', license_id: 'dl-by-de/2.0', groups: ['envi'], resources: [{ name: 'CSV', url: 'https://www.kassel.de/x.csv', format: 'CSV' }] }])
      const shown = await app.fastify.inject({ method: 'GET', url: '/api/3/action/package_show', query: { id: name } })
      t.equal(shown.statusCode, 200, `${JSON.stringify(id)}: package_show`)
      const etag = shown.headers.etag as string
      t.match(etag, /^"[A-Za-z0-9_~-]+\.\d+"$/, `${JSON.stringify(id)}: the ETag is header-safe`)
      t.equal(etag, revisionTag(id, 1), `${JSON.stringify(id)}: the ETag is the revision tag`)
      if (id === 'plain-id_1') t.equal(etag, '"plain-id_1.1"', 'a header-safe id stands in its tag as it is')
      for (const format of ['ttl', 'nt', 'rdf', 'jsonld']) {
        const rdf = await app.fastify.inject({ method: 'GET', url: `/dataset/${name}.${format}` })
        t.equal(rdf.statusCode, 200, `${JSON.stringify(id)}: /dataset/{name}.${format}`)
        t.match(rdf.headers.etag, /^(?:W\/)?"[A-Za-z0-9_~.-]+"$/, `${JSON.stringify(id)}: its ETag is header-safe`)
        const again = await app.fastify.inject({ method: 'GET', url: `/dataset/${name}.${format}`, headers: { 'if-none-match': rdf.headers.etag as string } })
        t.equal(again.statusCode, 304, `${JSON.stringify(id)}: If-None-Match with it is a 304`)
      }
      const other = await call(app, editor, 'package_patch', { id: name, title: 'falsch' }, { 'if-match': revisionTag(`${id}x`, 1) })
      t.same([other.status, other.body.error?.__type], [409, 'Conflict'], `${JSON.stringify(id)}: If-Match naming another dataset is a conflict`)
      const patched = await call(app, editor, 'package_patch', { id: name, title: 'neu' }, { 'if-match': etag })
      t.same({ status: patched.status, error: patched.body.error }, { status: 200, error: undefined }, `${JSON.stringify(id)}: package_patch with If-Match of package_show`)
      t.equal(patched.headers.etag, revisionTag(id, 2), `${JSON.stringify(id)}: the answer names the new revision`)
      const stale = await call(app, editor, 'package_patch', { id: name, title: 'zu spät' }, { 'if-match': etag })
      t.same([stale.status, stale.body.error?.__type], [409, 'Conflict'], `${JSON.stringify(id)}: a stale If-Match is a conflict`)
      const current = await call(app, editor, 'package_update', { ...patched.body.result, title: 'aktuell' }, { 'if-match': patched.headers.etag as string })
      t.same({ status: current.status, error: current.body.error }, { status: 200, error: undefined }, `${JSON.stringify(id)}: package_update with the If-Match of the answer`)
    }
  })
})
