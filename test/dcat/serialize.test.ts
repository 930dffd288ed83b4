import t from 'tap'
import type * as RDF from '@rdfjs/types'
import { CONTENT_TYPES, LOCAL_CONTEXT_URL, RdfParseError, parseRdf, rdfFormat, type RdfFormat } from '../../src/dcat/parse.js'
import { contentType, createRdfStream, serialize, serializeBatches } from '../../src/dcat/serialize.js'
import { catalogQuads, datasetToQuads, hydraQuads, type MappingContext } from '../../src/dcat/mapping.js'
import { SAMPLE_DATASETS } from '../helpers/datasets.js'
import { BASE, CONTRIBUTOR, HAVE_FIXTURES, canonical, fixture, kommune, packageDict, vocab } from './support.js'

const FORMATS: RdfFormat[] = ['ttl', 'nt', 'rdf', 'jsonld']

/** One quad batch per sample dataset (blank nodes included), plus the catalog node and the paging node. */
function batches(copies = 1): RDF.Quad[][] {
  const out: RDF.Quad[][] = []
  for (let i = 0; i < copies; i++) {
    for (const input of SAMPLE_DATASETS.slice(0, 4)) {
      const { owner_org, ...rest } = input
      const org = kommune(owner_org)
      const ctx: MappingContext = { baseUrl: BASE, contributorId: CONTRIBUTOR, vocab, profile: 'dcat_ap_de_2', organization: org }
      out.push(datasetToQuads(packageDict({ ...rest, name: `${rest.name}-${i}` } as never, org), ctx))
    }
  }
  out.push(catalogQuads({ baseUrl: BASE, vocab }, { title: 'GoDonu', description: 'Katalog', language: 'de', datasetUris: [] }))
  out.push(hydraQuads(`${BASE}/catalog.ttl?page=1`, { totalItems: 4, itemsPerPage: 100, first: `${BASE}/catalog.ttl?page=1`, last: `${BASE}/catalog.ttl?page=1` }))
  return out
}

t.test('content types and format names', async (t) => {
  t.same(CONTENT_TYPES, { ttl: 'text/turtle', nt: 'application/n-triples', rdf: 'application/rdf+xml', jsonld: 'application/ld+json' })
  t.equal(contentType('rdf'), 'application/rdf+xml')
  t.equal(rdfFormat('text/turtle; charset=utf-8'), 'ttl')
  t.equal(rdfFormat('application/rdf+xml'), 'rdf')
  t.equal(rdfFormat('application/ld+json'), 'jsonld')
  t.equal(rdfFormat('application/n-triples'), 'nt')
  t.equal(rdfFormat('text/html'), undefined)
})

t.test('every format parses back to the same graph (isomorphic up to blank nodes)', async (t) => {
  const quads = batches().flat()
  const expected = await canonical(quads)
  for (const format of FORMATS) {
    const text = await serialize(quads, format)
    const back = await parseRdf(text, format)
    t.ok(back.length > 0, `${format}: ${back.length} triples read back`)
    t.equal(await canonical(back), expected, `${format}: isomorphic`)
  }
  if (HAVE_FIXTURES) {
    const real = await parseRdf(fixture('ckanext-dcatde/metadata_max_only_valid_uris.rdf'), 'rdf')
    const realCanon = await canonical(real)
    for (const format of FORMATS) t.equal(await canonical(await parseRdf(await serialize(real, format), format)), realCanon, `metadata_max via ${format}`)
  }
})

t.test('the streaming writer gives the same graph as the whole-document serializer', async (t) => {
  const parts = batches(3)
  const all = parts.flat()
  const expected = await canonical(all)
  for (const format of FORMATS) {
    let text = ''
    let chunks = 0
    async function* source() {
      for (const batch of parts) yield batch
    }
    for await (const chunk of serializeBatches(source(), format)) {
      text += chunk
      chunks++
    }
    t.ok(chunks > 1, `${format}: output arrives in ${chunks} chunks`)
    const back = await parseRdf(text, format)
    t.equal(await canonical(back), expected, `${format}: streamed output is isomorphic to the input`)
    t.equal(await canonical(await parseRdf(await serialize(all, format), format)), expected, `${format}: equals the non-streaming output`)
    if (format === 'rdf') t.equal(text.match(/<rdf:RDF[\s>]/g)?.length, 1, 'one rdf:RDF root')
    if (format === 'jsonld') {
      const doc = JSON.parse(text) as { '@context': unknown; '@graph': unknown[] }
      t.ok(doc['@context'] && Array.isArray(doc['@graph']), 'one {"@context", "@graph"} document')
    }
    if (format === 'ttl') t.equal(text.match(/@prefix dcat:/g)?.length, 1, 'prefixes written once')
  }
})

t.test('createRdfStream: write batches while reading', async (t) => {
  const parts = batches()
  for (const format of FORMATS) {
    const stream = createRdfStream(format)
    const read = (async () => {
      let s = ''
      for await (const chunk of stream.readable) s += chunk
      return s
    })()
    for (const batch of parts) await stream.write(batch)
    await stream.end()
    const text = await read
    t.equal(await canonical(await parseRdf(text, format)), await canonical(parts.flat()), `${format}`)
  }
  const empty = createRdfStream('jsonld')
  const read = (async () => {
    let s = ''
    for await (const chunk of empty.readable) s += chunk
    return s
  })()
  await empty.end()
  t.same(JSON.parse(await read)['@graph'], [], 'an empty catalog is still one JSON-LD document')
})

t.test('invalid input raises rdf_parse errors; nothing is fetched', async (t) => {
  const cases: Array<[string, string]> = [
    ['<a> <b> .', 'ttl'],
    ['<http://a> <http://b> "x" . garbage', 'nt'],
    ['<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description>', 'application/rdf+xml'],
    ['{"@id": ', 'application/ld+json'],
    ['{"@context": "https://schema.org/", "@id": "http://x", "name": "y"}', 'jsonld'],
  ]
  for (const [text, format] of cases) {
    await t.rejects(parseRdf(text, format), { code: 'rdf_parse' }, `${format}: ${text.slice(0, 30)}`)
  }
  const err = await parseRdf('{"@context": "https://schema.org/", "@id": "http://x", "name": "y"}', 'jsonld').catch((e: unknown) => e)
  t.ok(err instanceof RdfParseError)
  t.match((err as Error).message, /not available locally/)
  await t.rejects(parseRdf('x', 'text/html'), { code: 'rdf_parse', message: /unsupported RDF format/ })

  const local = await parseRdf(JSON.stringify({ '@context': LOCAL_CONTEXT_URL, '@id': 'http://x/ds', '@type': 'dcat:Dataset', 'dct:title': 'T' }), 'jsonld')
  t.equal(local.length, 2, 'the local context is served from disk')
  t.ok(local.some((q) => q.predicate.value === 'http://purl.org/dc/terms/title' && q.object.value === 'T'))
})
