import t from 'tap'
import { readFileSync } from 'node:fs'
import { DataFactory } from 'n3'
import { SCHEMES, VOCABULARY_JSON_DIR, VocabularyGraph, vocabularyGraph } from '../../src/validation/vocabulary-graph.js'

const SKOS = 'http://www.w3.org/2004/02/skos/core#'
const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type'
const n = DataFactory.namedNode
const json = <T>(name: string): T => JSON.parse(readFileSync(`${VOCABULARY_JSON_DIR}/${name}`, 'utf8')) as T

function schemeOf(g: VocabularyGraph, iri: string): string[] {
  return g.quadsFor([n(iri)]).filter((q) => q.subject.value === iri && q.predicate.value === `${SKOS}inScheme`).map((q) => q.object.value)
}

t.test('built from catalog/vocabularies/*.json (no duplicate data)', async (t) => {
  const g = vocabularyGraph()
  t.equal(g, vocabularyGraph(), 'one shared instance')
  const concepts = (s: string) =>
    new Set(g.allQuads().filter((q) => q.predicate.value === `${SKOS}inScheme` && q.object.value === s).map((q) => q.subject.value))
  t.equal(concepts(SCHEMES.dataTheme).size, json<unknown[]>('themes.json').length, 'every theme')
  t.equal(concepts(SCHEMES.fileType).size, json<unknown[]>('file-types.json').length, 'every file type')
  t.equal(concepts(SCHEMES.frequency).size, json<unknown[]>('frequencies.json').length, 'every frequency')
  t.equal(concepts(SCHEMES.language).size, json<unknown[]>('languages.json').length, 'every language')
  t.equal(concepts(SCHEMES.contributors).size, json<unknown[]>('contributors.json').length, 'every contributor')
  t.equal(concepts(SCHEMES.geocodingLevel).size, json<unknown[]>('geocoding-levels.json').length, 'every geocoding level')
  const licenses = json<Array<{ status: string }>>('licenses.json')
  t.equal(concepts(SCHEMES.licenses).size, licenses.filter((l) => l.status === 'active').length, 'the active licences only')
})

t.test('quadsFor returns the triples of the IRIs the data uses, plus their schemes and the class axioms', async (t) => {
  const g = vocabularyGraph()
  const csv = 'http://publications.europa.eu/resource/authority/file-type/CSV'
  const quads = g.quadsFor([n(csv), DataFactory.literal('CSV')])
  t.same(schemeOf(g, csv), [SCHEMES.fileType])
  t.ok(quads.some((q) => q.subject.value === csv && q.predicate.value === RDF_TYPE && q.object.value === 'http://purl.org/dc/terms/MediaTypeOrExtent'), 'range class for sh:class')
  t.ok(quads.some((q) => q.subject.value === SCHEMES.fileType && q.predicate.value === 'http://purl.org/dc/terms/title'), 'the scheme, with a title')
  t.ok(quads.some((q) => q.subject.value === 'http://www.w3.org/2006/vcard/ns#Organization' && q.object.value === 'http://www.w3.org/2006/vcard/ns#Kind'), 'class axioms always')
  t.notOk(quads.some((q) => q.subject.value.endsWith('/file-type/JSON')), 'nothing the data does not use')
  t.same(schemeOf(g, 'http://publications.europa.eu/resource/authority/file-type/csv'), [], 'codes are case-sensitive')
})

t.test('pattern-based entries: political geocoding keys and IANA media types', async (t) => {
  const g = vocabularyGraph()
  const base = 'http://dcat-ap.de/def/politicalGeocoding/'
  t.same(schemeOf(g, `${base}regionalKey/066310009009`), [`${base}regionalKey`])
  t.same(schemeOf(g, `${base}municipalityKey/06631009`), [`${base}municipalityKey`])
  t.same(schemeOf(g, `${base}districtKey/06439`), [`${base}districtKey`])
  t.same(schemeOf(g, `${base}stateKey/06`), [`${base}stateKey`])
  t.same(schemeOf(g, `${base}regionalKey/06631`), [], 'wrong number of digits')
  t.same(schemeOf(g, 'https://www.iana.org/assignments/media-types/text/csv'), [SCHEMES.ianaMediaTypes])
  t.same(schemeOf(g, 'http://www.iana.org/assignments/media-types/application/json'), [SCHEMES.ianaMediaTypes], 'http form too')
  t.same(schemeOf(g, 'https://www.iana.org/assignments/media-types/text/csvx'), [])
})

t.test('hand-written vocabularies in catalog/vocabularies-rdf/', async (t) => {
  const g = vocabularyGraph()
  t.same(schemeOf(g, 'http://purl.org/adms/publishertype/LocalAuthority'), ['http://purl.org/adms/publishertype/1.0'])
  t.same(schemeOf(g, 'http://purl.org/adms/status/Completed'), ['http://purl.org/adms/status/1.0'])
  t.same(schemeOf(g, 'http://publications.europa.eu/resource/authority/distribution-status/COMPLETED'), [
    'http://publications.europa.eu/resource/authority/distribution-status',
  ])
  t.same(schemeOf(g, 'http://dcat-ap.de/def/hashAlgorithms/sha/256'), ['http://dcat-ap.de/def/hashAlgorithms'])
  t.ok(g.classAxioms.length >= 10, 'subclass axioms')
})
