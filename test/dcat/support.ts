/** Shared helpers of the DCAT tests (not a test file itself). */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import jsonld from 'jsonld'
import { Parser, Writer } from 'n3'
import { RdfXmlParser } from 'rdfxml-streaming-parser'
import type * as RDF from '@rdfjs/types'
import { Vocabularies } from '../../src/catalog/vocabularies.js'
import { buildPackageRecord, renderPackageDocument, type PackageInput } from '../../src/catalog/package.js'
import type { OrganizationLike, PackageDict } from '../../src/dcat/mapping.js'

export const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures', import.meta.url))
export const HAVE_FIXTURES = existsSync(FIXTURES)
export const NO_FIXTURES_REASON = `shared fixtures not found at ${FIXTURES} (the project's ../shared/fixtures); skipping`

export function fixture(relative: string): string {
  return readFileSync(`${FIXTURES}/${relative}`, 'utf8')
}

export const vocab = new Vocabularies()
export const BASE = 'https://daten.godonu.example'
export const CONTRIBUTOR = 'http://dcat-ap.de/def/contributors/hessen'
export const NOW = '2024-05-02T09:13:00.123456'

/** A Kommune as the organization table holds it. */
export function kommune(name: string): OrganizationLike & { title: string } {
  const k = vocab.kommunen.find((x) => x.name === name)
  if (!k) throw new Error(`no Kommune ${name}`)
  return { ...k, extras: '{}' }
}

/** The package dict package_show shows for a dataset stored from `input` (organization and groups joined). */
export function packageDict(
  input: Omit<PackageInput, 'owner_org' | 'themeIds'> & { groups?: string[] },
  org?: OrganizationLike & { title: string },
): PackageDict {
  const themes = (input.groups ?? []).map((g) => vocab.themes.find(g)!)
  const { groups: _groups, ...rest } = input
  const record = buildPackageRecord({ ...rest, owner_org: org?.id ?? null, themeIds: themes.map((t) => t.id) }, { vocab, now: NOW, previousRevision: 0 })
  const dict = renderPackageDocument(record, vocab) as PackageDict
  dict.organization = org ? { id: org.id, name: org.name, title: org.title } : null
  dict.groups = themes.map((t) => ({ id: t.id, name: t.name, title: t.title_de }))
  return dict
}

export function toNQuads(quads: Iterable<RDF.Quad>): string {
  const writer = new Writer({ format: 'N-Quads' })
  for (const q of quads) writer.addQuad(q)
  let out = ''
  writer.end((_err, result) => (out = result))
  return out
}

/** The RDFC-1.0 canonical N-Quads (blank nodes relabelled canonically, lines sorted): isomorphic graphs give the same text. */
export async function canonical(quads: Iterable<RDF.Quad>): Promise<string> {
  const nquads = toNQuads(quads)
  const canonize = jsonld.canonize as unknown as (input: string, options: Record<string, unknown>) => Promise<string>
  const canon = await canonize(nquads, { algorithm: 'RDFC-1.0', inputFormat: 'application/n-quads', format: 'application/n-quads', safe: false })
  return canon.split('\n').filter(Boolean).sort().join('\n')
}

/**
 * A document parsed by a parser independent of our writers: n3 for Turtle / N-Triples, rdfxml-streaming-parser
 * for RDF/XML, jsonld.js toRDF (no remote context) for JSON-LD.
 */
export async function parseWith(format: 'ttl' | 'nt' | 'rdf' | 'jsonld', text: string): Promise<RDF.Quad[]> {
  if (format === 'ttl' || format === 'nt') return new Parser({ format: format === 'ttl' ? 'text/turtle' : 'application/n-triples' }).parse(text)
  if (format === 'rdf') {
    return new Promise((resolve, reject) => {
      const quads: RDF.Quad[] = []
      const parser = new RdfXmlParser()
      parser.on('data', (q: RDF.Quad) => quads.push(q))
      parser.on('error', reject)
      parser.on('end', () => resolve(quads))
      parser.write(text)
      parser.end()
    })
  }
  const documentLoader = (url: string) => Promise.reject(new Error(`no remote context: ${url}`))
  return (await jsonld.toRDF(JSON.parse(text) as jsonld.JsonLdDocument, { documentLoader } as never)) as unknown as RDF.Quad[]
}

/** A triple as text, blank nodes as `_` (their labels differ between writers and parsers). */
export function tripleKey(q: RDF.Quad): string {
  const term = (x: RDF.Term): string =>
    x.termType === 'BlankNode' ? '_' : x.termType === 'Literal' ? `"${x.value}"@${x.language ?? ''}^^${x.language ? '' : x.datatype.value}` : `<${x.value}>`
  return `${term(q.subject)} ${term(q.predicate)} ${term(q.object)}`
}
