import t from 'tap'
import type * as RDF from '@rdfjs/types'
import { NS } from '../../src/dcat/namespaces.js'
import { hydraQuads } from '../../src/dcat/mapping.js'
import { parseRdf } from '../../src/dcat/parse.js'
import { serialize } from '../../src/dcat/serialize.js'
import { HAVE_FIXTURES, NO_FIXTURES_REASON, fixture } from './support.js'

const H = NS.hydra
const XSD_STRING = NS.xsd + 'string'
const XSD_INTEGER = NS.xsd + 'integer'
const key = (q: RDF.Quad): string =>
  `${q.predicate.value} ${q.object.termType} ${q.object.value} ${q.object.termType === 'Literal' ? (q.object as RDF.Literal).datatype.value : ''}`

t.test('hydra:PagedCollection as ckanext-dcat writes it: old and new predicates, literal values', async (t) => {
  const page = 'https://daten.example/catalog.ttl?page=2'
  const quads = hydraQuads(page, {
    totalItems: 250,
    itemsPerPage: 100,
    first: 'https://daten.example/catalog.ttl?page=1',
    last: 'https://daten.example/catalog.ttl?page=3',
    next: 'https://daten.example/catalog.ttl?page=3',
    previous: 'https://daten.example/catalog.ttl?page=1',
  })
  t.ok(quads.every((q) => q.subject.termType === 'NamedNode' && q.subject.value === page), 'the node is the current page URL')
  const got = quads.map(key).sort()
  const lit = (p: string, v: string, dt = XSD_STRING) => `${H}${p} Literal ${v} ${dt}`
  t.same(
    got,
    [
      `${NS.rdf}type NamedNode ${H}PagedCollection `,
      lit('nextPage', 'https://daten.example/catalog.ttl?page=3'),
      lit('next', 'https://daten.example/catalog.ttl?page=3'),
      lit('previousPage', 'https://daten.example/catalog.ttl?page=1'),
      lit('previous', 'https://daten.example/catalog.ttl?page=1'),
      lit('firstPage', 'https://daten.example/catalog.ttl?page=1'),
      lit('first', 'https://daten.example/catalog.ttl?page=1'),
      lit('lastPage', 'https://daten.example/catalog.ttl?page=3'),
      lit('last', 'https://daten.example/catalog.ttl?page=3'),
      lit('totalItems', '250', XSD_INTEGER),
      lit('itemsPerPage', '100', XSD_INTEGER),
    ].sort(),
  )
  for (const q of quads.filter((q) => q.object.termType === 'Literal')) t.equal((q.object as RDF.Literal).language, '', 'no language tag')

  const last = hydraQuads('https://daten.example/catalog.ttl?page=3', {
    totalItems: 250,
    itemsPerPage: 100,
    first: 'https://daten.example/catalog.ttl?page=1',
    last: 'https://daten.example/catalog.ttl?page=3',
    previous: 'https://daten.example/catalog.ttl?page=2',
  })
  t.notOk(last.some((q) => /next/.test(q.predicate.value)), 'no next link on the last page')

  // The harvester (ckanext-dcat rdf.py) finds the collection by type and follows hydra:next, else hydra:nextPage.
  const text = await serialize(quads, 'ttl')
  const parsed = await parseRdf(text, 'ttl')
  const collection = parsed.find((q) => q.predicate.value === NS.rdf + 'type' && q.object.value === H + 'PagedCollection')!.subject
  const next = parsed.find((q) => q.subject.equals(collection) && q.predicate.value === H + 'next')
  t.equal(next?.object.value, 'https://daten.example/catalog.ttl?page=3')
})

t.test('matches the real /catalog.rdf output of ckanext-dcatde', { skip: HAVE_FIXTURES ? false : NO_FIXTURES_REASON }, async (t) => {
  const page = 'http://data.example-domain.de/catalog.rdf?page=1'
  const real = (await parseRdf(fixture('ckanext-dcatde/catalog-endpoint.rdf'), 'rdf', { baseIri: 'http://data.example-domain.de/catalog.rdf' })).filter((q) => q.subject.value === page)
  t.ok(real.length >= 5, 'the fixture has the paging node')
  const ours = hydraQuads(page, { totalItems: 6, itemsPerPage: 100, first: page, last: page })
  const ourKeys = new Set(ours.map(key))
  for (const q of real) t.ok(ourKeys.has(key(q)), `written like the fixture: ${q.predicate.value.slice(H.length)}`)
  // The fixture predates the new predicates (ckanext-dcat adds hydra:first/last next to firstPage/lastPage).
  const extra = ours.map(key).filter((k) => !real.map(key).includes(k)).sort()
  t.same(extra, [`${H}first Literal ${page} ${XSD_STRING}`, `${H}last Literal ${page} ${XSD_STRING}`])
})
