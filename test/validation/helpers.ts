import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DataFactory, Parser } from 'n3'
import type { Quad, Term } from '@rdfjs/types'
import type { Finding, ValidationReport } from '../../src/validation/validator.js'

export const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url))
export const NS = {
  dct: 'http://purl.org/dc/terms/',
  dcat: 'http://www.w3.org/ns/dcat#',
  dcatde: 'http://dcat-ap.de/def/dcatde/',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
}
export const DATASET = 'https://daten.example.org/dataset/haushaltsplan-2024'
export const DISTRIBUTION = 'https://daten.example.org/dataset/haushaltsplan-2024/csv'
const { namedNode, literal, quad } = DataFactory

export function parseTurtle(text: string, baseIRI = 'http://example.org/'): Quad[] {
  return new Parser({ baseIRI }).parse(text) as Quad[]
}

export function loadFixture(name: string): Quad[] {
  return parseTurtle(readFileSync(`${FIXTURES}/${name}`, 'utf8'))
}

/** The valid fixture with an edit applied: drop the quads `remove` matches, then add `add`. */
export function variant(
  base: Quad[],
  remove: (q: Quad) => boolean,
  add: Array<[string, string, Term]> = [],
): Quad[] {
  return [
    ...base.filter((q) => !remove(q)),
    ...add.map(([s, p, o]) => quad(namedNode(s), namedNode(p), o as never) as Quad),
  ]
}

export const iri = (v: string) => namedNode(v)
export const lit = (v: string, dt?: string) => (dt ? literal(v, namedNode(dt)) : literal(v))

export const is = (s: string, p: string) => (q: Quad) => q.subject.value === s && q.predicate.value === p

export interface BrokenCase {
  name: string
  quads: (base: Quad[]) => Quad[]
  focus: string
  path: string
}

export const BROKEN_CASES: BrokenCase[] = [
  {
    name: 'missing dct:title',
    quads: (b) => variant(b, is(DATASET, NS.dct + 'title')),
    focus: DATASET,
    path: NS.dct + 'title',
  },
  {
    name: 'missing dct:description',
    quads: (b) => variant(b, is(DATASET, NS.dct + 'description')),
    focus: DATASET,
    path: NS.dct + 'description',
  },
  {
    name: 'lower-case file-type URI',
    quads: (b) =>
      variant(b, is(DISTRIBUTION, NS.dct + 'format'), [
        [DISTRIBUTION, NS.dct + 'format', iri('http://publications.europa.eu/resource/authority/file-type/csv')],
      ]),
    focus: DISTRIBUTION,
    path: NS.dct + 'format',
  },
  {
    name: 'byteSize "12kB"',
    quads: (b) => variant(b, () => false, [[DISTRIBUTION, NS.dcat + 'byteSize', lit('12kB')]]),
    focus: DISTRIBUTION,
    path: NS.dcat + 'byteSize',
  },
  {
    name: 'two contributorIDs',
    quads: (b) =>
      variant(b, () => false, [[DATASET, NS.dcatde + 'contributorID', iri('http://dcat-ap.de/def/contributors/stadtFrankfurtAmMain')]]),
    focus: DATASET,
    path: NS.dcatde + 'contributorID',
  },
  {
    name: 'unknown licence URI',
    quads: (b) =>
      variant(b, is(DISTRIBUTION, NS.dct + 'license'), [
        [DISTRIBUTION, NS.dct + 'license', iri('http://dcat-ap.de/def/licenses/dl-de-by-2.0')],
      ]),
    focus: DISTRIBUTION,
    path: NS.dct + 'license',
  },
  {
    name: 'date "gestern"^^xsd:date',
    quads: (b) =>
      variant(b, is(DATASET, NS.dct + 'issued'), [[DATASET, NS.dct + 'issued', lit('gestern', NS.xsd + 'date')]]),
    focus: DATASET,
    path: NS.dct + 'issued',
  },
]

/** `focus path` of every violation, sorted and de-duplicated. */
export function violationKeys(report: ValidationReport): string[] {
  return [...new Set(report.findings.filter((f) => f.severity === 'violation').map((f) => `${f.focusNode} ${f.path}`))].sort()
}

export function describe(f: Finding): string {
  return `${f.severity} ${f.focusNode} ${f.path ?? '-'}${f.value ? ` value=${f.value}` : ''}: ${f.message.de} / ${f.message.en}`
}

/** A catalog with `count` copies of the valid fixture's dataset (each with its own IRIs). */
export function manyDatasets(base: Quad[], count: number): Quad[] {
  const own = (q: Quad) => q.subject.value.includes('haushaltsplan-2024') || q.object.value.includes('/dataset/haushaltsplan-2024')
  const rename = (term: Term, i: number) =>
    term.termType === 'NamedNode' && term.value.includes('haushaltsplan-2024')
      ? namedNode(term.value.replace('haushaltsplan-2024', `dataset-${i}`))
      : term
  const out = base.filter((q) => !own(q))
  for (let i = 0; i < count; i++) {
    for (const q of base) if (own(q)) out.push(quad(rename(q.subject, i) as never, q.predicate as never, rename(q.object, i) as never) as Quad)
  }
  return out
}
