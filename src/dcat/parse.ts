/**
 * RDF text -> RDF/JS quads (n3 terms) for Turtle, N-Triples, RDF/XML and JSON-LD.
 * Nothing is ever fetched: JSON-LD remote contexts are served only from local copies and fail closed otherwise.
 */
import { readFileSync } from 'node:fs'
import { DataFactory, Parser } from 'n3'
import type { JsonLdDocument } from 'jsonld'
import type * as RDF from '@rdfjs/types'
import { CATALOG_DIR } from '../catalog/vocabularies.js'

export type RdfFormat = 'ttl' | 'nt' | 'rdf' | 'jsonld'

export const CONTENT_TYPES: Record<RdfFormat, string> = {
  ttl: 'text/turtle',
  nt: 'application/n-triples',
  rdf: 'application/rdf+xml',
  jsonld: 'application/ld+json',
}

/** Raised for any input that is not valid RDF in the given format. */
export class RdfParseError extends Error {
  readonly code = 'rdf_parse' as const
  constructor(
    message: string,
    readonly format: RdfFormat | string,
    readonly cause?: unknown,
  ) {
    super(message)
    this.name = 'RdfParseError'
  }
}

const FORMAT_ALIASES: Record<string, RdfFormat> = {
  ttl: 'ttl',
  turtle: 'ttl',
  'text/turtle': 'ttl',
  'application/x-turtle': 'ttl',
  'application/turtle': 'ttl',
  nt: 'nt',
  ntriples: 'nt',
  'n-triples': 'nt',
  'application/n-triples': 'nt',
  rdf: 'rdf',
  xml: 'rdf',
  rdfxml: 'rdf',
  'rdf/xml': 'rdf',
  'application/rdf+xml': 'rdf',
  'application/xml': 'rdf',
  'text/xml': 'rdf',
  jsonld: 'jsonld',
  'json-ld': 'jsonld',
  'application/ld+json': 'jsonld',
  'application/json': 'jsonld',
}

/** `text/turtle; charset=utf-8`, `ttl`, `application/rdf+xml`... -> the format, or undefined. */
export function rdfFormat(contentTypeOrFormat: string): RdfFormat | undefined {
  const key = contentTypeOrFormat.split(';')[0]!.trim().toLowerCase()
  return FORMAT_ALIASES[key]
}

/** The JSON-LD context shipped with the catalog (catalog/jsonld-context.json), as a context object. */
export function localJsonLdContext(): Record<string, unknown> {
  localContext ??= (JSON.parse(readFileSync(`${CATALOG_DIR}/jsonld-context.json`, 'utf8')) as { '@context': Record<string, unknown> })['@context']
  return localContext
}
let localContext: Record<string, unknown> | undefined

/** The URL under which our own JSON-LD may reference the local context; the loader serves it from disk. */
export const LOCAL_CONTEXT_URL = 'urn:godonu:jsonld-context'

export interface ParseOptions {
  /** Base IRI for relative references. */
  baseIri?: string
  /** Further JSON-LD contexts to serve locally, by URL (each a `{"@context": ...}` document). */
  contexts?: Record<string, unknown>
}

/** A jsonld.js document loader that never touches the network. */
export function localDocumentLoader(extra: Record<string, unknown> = {}) {
  return async (url: string): Promise<{ contextUrl: null; documentUrl: string; document: unknown }> => {
    if (url === LOCAL_CONTEXT_URL) return { contextUrl: null, documentUrl: url, document: { '@context': localJsonLdContext() } }
    if (url in extra) return { contextUrl: null, documentUrl: url, document: extra[url] }
    throw new Error(`remote JSON-LD document ${url} is not available locally (nothing is fetched)`)
  }
}

export async function parseRdf(text: string, contentTypeOrFormat: string, options: ParseOptions = {}): Promise<RDF.Quad[]> {
  const format = rdfFormat(contentTypeOrFormat)
  if (!format) throw new RdfParseError(`unsupported RDF format "${contentTypeOrFormat}"`, contentTypeOrFormat)
  switch (format) {
    case 'ttl':
    case 'nt':
      return parseN3(text, format, options)
    case 'rdf':
      return parseRdfXml(text, options)
    case 'jsonld':
      return parseJsonLd(text, options)
  }
}

function parseN3(text: string, format: 'ttl' | 'nt', options: ParseOptions): RDF.Quad[] {
  const parser = new Parser({ format: format === 'ttl' ? 'text/turtle' : 'N-Triples', baseIRI: options.baseIri })
  try {
    return parser.parse(text)
  } catch (err) {
    throw new RdfParseError(`invalid ${format === 'ttl' ? 'Turtle' : 'N-Triples'}: ${(err as Error).message}`, format, err)
  }
}

async function parseRdfXml(text: string, options: ParseOptions): Promise<RDF.Quad[]> {
  // Loaded on first use (start-up time): most processes never read RDF/XML.
  const { RdfXmlParser } = await import('rdfxml-streaming-parser')
  return new Promise((resolve, reject) => {
    const quads: RDF.Quad[] = []
    const parser = new RdfXmlParser({
      dataFactory: DataFactory as unknown as RDF.DataFactory,
      baseIRI: options.baseIri,
      // Harvested portals write IRIs such as <tel:+49 40 ...>; keep them (the export cleans IRIs).
      validateUri: false,
    })
    let failed = false
    parser.on('data', (q: RDF.Quad) => quads.push(q))
    parser.on('error', (err: Error) => {
      if (failed) return
      failed = true
      reject(new RdfParseError(`invalid RDF/XML: ${err.message}`, 'rdf', err))
    })
    parser.on('end', () => {
      if (failed) return
      // The parser ends quietly on a truncated document; a cut-off catalog page must not look complete.
      const sax = (parser as unknown as { saxParser?: { closedRoot?: boolean } }).saxParser
      if (sax && sax.closedRoot === false) {
        failed = true
        reject(new RdfParseError('invalid RDF/XML: the document ends before its root element is closed', 'rdf'))
        return
      }
      resolve(quads)
    })
    try {
      parser.write(text)
      parser.end()
    } catch (err) {
      if (!failed) {
        failed = true
        reject(new RdfParseError(`invalid RDF/XML: ${(err as Error).message}`, 'rdf', err))
      }
    }
  })
}

interface JsonLdTerm {
  termType: string
  value: string
  language?: string
  datatype?: { value: string }
}
interface JsonLdQuad {
  subject: JsonLdTerm
  predicate: JsonLdTerm
  object: JsonLdTerm
  graph: JsonLdTerm
}

let jsonLdParses = 0

async function parseJsonLd(text: string, options: ParseOptions): Promise<RDF.Quad[]> {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new RdfParseError(`invalid JSON-LD: ${(err as Error).message}`, 'jsonld', err)
  }
  let dataset: JsonLdQuad[]
  try {
    // Loaded on first use (start-up time): most processes never read JSON-LD.
    const jsonld = (await import('jsonld')).default
    dataset = (await jsonld.toRDF(doc as JsonLdDocument, {
      base: options.baseIri ?? null,
      documentLoader: localDocumentLoader(options.contexts) as never,
    } as never)) as unknown as JsonLdQuad[]
  } catch (err) {
    const e = err as { message?: string; details?: { cause?: { message?: string } } }
    const cause = e.details?.cause?.message
    throw new RdfParseError(`invalid JSON-LD: ${e.message ?? String(err)}${cause ? ` (${cause})` : ''}`, 'jsonld', err)
  }
  const { namedNode, blankNode, literal, quad, defaultGraph } = DataFactory
  // jsonld.js numbers blank nodes b0, b1... per document: make them unique per parse, as n3 does.
  const prefix = `j${++jsonLdParses}_`
  const term = (t: JsonLdTerm): RDF.Quad_Object => {
    if (t.termType === 'BlankNode') return blankNode(prefix + t.value.replace(/^_:/, ''))
    if (t.termType === 'Literal') return t.language ? literal(t.value, t.language) : literal(t.value, namedNode(t.datatype?.value ?? 'http://www.w3.org/2001/XMLSchema#string'))
    return namedNode(t.value)
  }
  return dataset.map((q) =>
    quad(
      term(q.subject) as RDF.Quad_Subject,
      namedNode(q.predicate.value),
      term(q.object),
      q.graph.termType === 'DefaultGraph' ? defaultGraph() : (term(q.graph) as RDF.Quad_Graph),
    ),
  )
}
