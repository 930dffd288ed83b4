/**
 * RDF/JS quads -> Turtle, N-Triples, RDF/XML or JSON-LD, whole or streamed batch by batch, so that a large
 * catalog is never held in memory as one graph. Each batch (for example the datasets of one catalog page) is
 * serialized into one string and handed to the readable side as one chunk: few large chunks instead of one
 * stream event per quad.
 *  - Turtle / N-Triples: one n3 Writer for the whole document (prefixes once; statements may continue across
 *    batches exactly as in a single-shot document), writing into a string; encoded IRIs are cached per writer.
 *  - RDF/XML: graphy's RDF/XML scriber (@graphy/content.xml.scribe), one rdf:RDF root, fed a batch at a time.
 *  - JSON-LD: jsonld.js fromRDF (directly from the quads) + compact with the local context
 *    (catalog/jsonld-context.json) per batch; the compacted nodes of every batch are appended to one
 *    `{"@context": ..., "@graph": [...]}` document.
 */
import { createRequire } from 'node:module'
import { Readable, type Transform } from 'node:stream'
import { Writer } from 'n3'
import jsonld from 'jsonld'
import type * as RDF from '@rdfjs/types'
import { DEFAULT_PREFIXES } from './namespaces.js'
import { CONTENT_TYPES, localDocumentLoader, localJsonLdContext, type RdfFormat } from './parse.js'

export { CONTENT_TYPES, type RdfFormat }

const require = createRequire(import.meta.url)
const xmlScriber = require('@graphy/content.xml.scribe') as (config: { prefixes?: Record<string, string> }) => Transform & {
  serialize(event: { type: 'array'; value: RDF.Quad[] }): string | undefined
}

export interface RdfStream {
  /** Writes one batch (for example the quads of some datasets); resolves when the stream can take more. */
  write(quads: Iterable<RDF.Quad>): Promise<void>
  /** Closes the document; resolves when every chunk has been handed to `readable`. */
  end(): Promise<void>
  /** The serialized text, chunk by chunk (UTF-8 strings, each ending on a character boundary). */
  readable: Readable
}

/** Raised by RdfStream.write when the consumer has gone away (the client closed the connection). */
export class RdfStreamClosedError extends Error {
  readonly code = 'ERR_STREAM_DESTROYED'
  constructor() {
    super('the RDF stream was closed by its consumer')
    this.name = 'RdfStreamClosedError'
  }
}

// ---------------------------------------------------------------------------------------------------
// The readable side: text chunks pushed by the producer, which waits while the consumer is behind.

class TextReadable extends Readable {
  private waiting: (() => void) | undefined

  constructor() {
    // Strings stay strings (no Buffer round trip): the HTTP layer encodes each chunk once.
    super({ encoding: 'utf8', highWaterMark: 1 << 16 })
  }

  override _read(): void {
    this.release()
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.release()
    callback(err)
  }

  private release(): void {
    const wake = this.waiting
    this.waiting = undefined
    wake?.()
  }

  /** Pushes one chunk; resolves when the consumer wants more. */
  async send(text: string): Promise<void> {
    if (this.destroyed) throw new RdfStreamClosedError()
    if (!text) return
    if (!this.push(text)) {
      await new Promise<void>((resolve) => (this.waiting = resolve))
      if (this.destroyed) throw new RdfStreamClosedError()
    }
  }

  finish(text: string): void {
    if (this.destroyed) return
    if (text) this.push(text)
    this.push(null)
  }
}

// ---------------------------------------------------------------------------------------------------
// Turtle and N-Triples: n3's Writer, with the encoding of IRIs and plain literals made cheap.

/** The n3 Writer internals that FastWriter speeds up (n3 2.x); the output stays byte for byte n3's. */
interface WriterInternals {
  _encodeIriOrBlank(entity: RDF.Term | { termType: 'NamedNode'; value: string }): string
  _encodeLiteral(literal: RDF.Literal): string
  addPrefixes(prefixes: Record<string, string | RDF.NamedNode>, done?: () => void): void
  _escape: RegExp
  _escapeAll: RegExp
  _characterReplacer: (character: string) => string
}

const IRI_CACHE_MAX = 20_000
type WriterConstructor = new (output: unknown, options: Record<string, unknown>) => Writer & WriterInternals

class FastWriter extends (Writer as unknown as WriterConstructor) {
  /** Encoded named nodes by IRI (`dct:title`, `<http://...>`): predicates, classes and vocabulary IRIs recur. */
  private iriCache: Map<string, string> | undefined = new Map()

  override addPrefixes(prefixes: Record<string, string | RDF.NamedNode>, done?: () => void): void {
    // Called from the n3 constructor too, before this class's fields exist.
    this.iriCache?.clear()
    super.addPrefixes(prefixes, done)
  }

  override _encodeIriOrBlank(entity: RDF.Term | { termType: 'NamedNode'; value: string }): string {
    if (entity.termType !== 'NamedNode') return super._encodeIriOrBlank(entity)
    const cache = this.iriCache!
    const iri = entity.value
    let encoded = cache.get(iri)
    if (encoded === undefined) {
      encoded = super._encodeIriOrBlank(entity)
      if (cache.size >= IRI_CACHE_MAX) cache.clear()
      cache.set(iri, encoded)
    }
    return encoded
  }

  override _encodeLiteral(literal: RDF.Literal): string {
    // n3 literals hold `"value"`, `"value"@lang` or `"value"^^datatype` as id: a plain string literal is
    // written as n3 writes it, without decoding the language and datatype.
    const id = (literal as unknown as { id?: unknown }).id
    if (typeof id === 'string' && id.length > 1 && id.charCodeAt(0) === 34 && id.charCodeAt(id.length - 1) === 34) {
      let value = id.substring(1, id.length - 1)
      if (this._escape.test(value)) value = value.replace(this._escapeAll, this._characterReplacer)
      return `"${value}"`
    }
    return super._encodeLiteral(literal)
  }
}

/** Collects what a Writer writes; `take` hands it over. */
class StringSink {
  private text = ''
  write(chunk: string, _encoding?: string, done?: () => void): void {
    this.text += chunk
    done?.()
  }
  end(done?: (error?: Error | null, result?: string) => void): void {
    done?.(null, this.text)
  }
  take(): string {
    const text = this.text
    this.text = ''
    return text
  }
}

function textWriter(sink: StringSink, format: 'ttl' | 'nt', prefixes: Record<string, string>): FastWriter {
  return new FastWriter(sink, { format: format === 'ttl' ? 'text/turtle' : 'N-Triples', prefixes: format === 'ttl' ? prefixes : {}, end: false })
}

/** Adds quads to an n3 writer; a quad it cannot write fails the batch (n3 reports it to a callback only). */
function addAll(writer: FastWriter, quads: Iterable<RDF.Quad>): void {
  let failure: Error | undefined
  const done = (error?: Error): void => {
    failure ??= error
  }
  for (const q of quads) (writer.addQuad as (quad: RDF.Quad, done: (error?: Error) => void) => void)(q, done)
  if (failure) throw failure
}

function createTextStream(format: 'ttl' | 'nt', prefixes: Record<string, string>): RdfStream {
  const out = new TextReadable()
  const sink = new StringSink()
  const writer = textWriter(sink, format, prefixes)
  return {
    readable: out,
    async write(quads) {
      addAll(writer, quads)
      await out.send(sink.take())
    },
    async end() {
      writer.end()
      out.finish(sink.take())
    },
  }
}

// ---------------------------------------------------------------------------------------------------
// RDF/XML

function createXmlStream(prefixes: Record<string, string>): RdfStream {
  const out = new TextReadable()
  const scriber = xmlScriber({ prefixes: { ...prefixes } })
  scriber.setEncoding('utf8')
  // The scriber pushes the document head (xml declaration, rdf:RDF with the namespaces) when created.
  let head = ''
  for (let chunk = scriber.read() as string | null; chunk !== null; chunk = scriber.read() as string | null) head += chunk
  return {
    readable: out,
    async write(quads) {
      const text = head + (scriber.serialize({ type: 'array', value: Array.isArray(quads) ? quads : [...quads] }) ?? '')
      head = ''
      await out.send(text)
    },
    async end() {
      // Ending the scriber closes the open rdf:Description and the root.
      let tail = head
      head = ''
      scriber.on('data', (chunk: string) => (tail += chunk))
      await new Promise<void>((resolve, reject) => {
        scriber.once('end', resolve)
        scriber.once('error', reject)
        scriber.end()
      })
      out.finish(tail)
    },
  }
}

// ---------------------------------------------------------------------------------------------------
// JSON-LD

/** The quads without exact duplicates (several datasets of a batch type the same vocabulary term). */
function distinctQuads(quads: Iterable<RDF.Quad>): RDF.Quad[] {
  const seen = new Set<string>()
  const out: RDF.Quad[] = []
  const idOf = (t: RDF.Term): string => {
    const id = (t as { id?: unknown }).id
    if (typeof id === 'string') return id
    return t.termType === 'Literal' ? `"${t.value}"@${t.language}^^${t.datatype.value}` : `${t.termType}:${t.value}`
  }
  for (const q of quads) {
    const key = `${q.subject.termType[0]}${idOf(q.subject)}\u0001${idOf(q.predicate)}\u0001${q.object.termType[0]}${idOf(q.object)}\u0001${idOf(q.graph)}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(q)
  }
  return out
}

/** The compacted JSON-LD node objects of one batch (without @context). */
async function jsonLdNodes(quads: Iterable<RDF.Quad>, context: Record<string, unknown>): Promise<unknown[]> {
  const dataset = distinctQuads(quads)
  if (!dataset.length) return []
  const documentLoader = localDocumentLoader() as never
  // jsonld.js reads RDF/JS quads directly (no N-Quads text in between).
  const expanded = await jsonld.fromRDF(dataset as never, { useNativeTypes: false } as never)
  const compacted = (await jsonld.compact(expanded as never, context as never, { documentLoader } as never)) as unknown as Record<string, unknown>
  delete compacted['@context']
  if (Array.isArray(compacted['@graph'])) return compacted['@graph'] as unknown[]
  return Object.keys(compacted).length ? [compacted] : []
}

function createJsonLdStream(prefixes: Record<string, string>): RdfStream {
  const context = { ...localJsonLdContext(), ...prefixes }
  const out = new TextReadable()
  let count = 0
  let head = `{\n  "@context": ${JSON.stringify(context)},\n  "@graph": [`
  return {
    readable: out,
    async write(quads) {
      const nodes = await jsonLdNodes(quads, context)
      let text = head
      head = ''
      for (const node of nodes) text += `${count++ === 0 ? '\n' : ',\n'}    ${JSON.stringify(node)}`
      await out.send(text)
    },
    async end() {
      out.finish(`${head}${count ? '\n' : ''}  ]\n}\n`)
      head = ''
    },
  }
}

// ---------------------------------------------------------------------------------------------------

/** A streaming writer for `format`; consume `readable` while writing batches. */
export function createRdfStream(format: RdfFormat, prefixes: Record<string, string> = DEFAULT_PREFIXES): RdfStream {
  if (format === 'jsonld') return createJsonLdStream(prefixes)
  if (format === 'rdf') return createXmlStream(prefixes)
  return createTextStream(format, prefixes)
}

/**
 * Text chunks of a document made from batches of quads (one chunk per batch, at least).
 * Only one batch and the unread output are held at a time.
 */
export async function* serializeBatches(
  batches: AsyncIterable<Iterable<RDF.Quad>> | Iterable<Iterable<RDF.Quad>>,
  format: RdfFormat,
  prefixes: Record<string, string> = DEFAULT_PREFIXES,
): AsyncGenerator<string> {
  const stream = createRdfStream(format, prefixes)
  const pump = (async () => {
    for await (const batch of batches) await stream.write(batch)
    await stream.end()
  })()
  pump.catch((err: Error) => stream.readable.destroy(err))
  for await (const chunk of stream.readable) yield typeof chunk === 'string' ? chunk : String(chunk)
  await pump
}

/** The whole document as one string. */
export async function serialize(quads: Iterable<RDF.Quad>, format: RdfFormat, prefixes: Record<string, string> = DEFAULT_PREFIXES): Promise<string> {
  if (format === 'ttl' || format === 'nt') {
    const sink = new StringSink()
    const writer = textWriter(sink, format, prefixes)
    addAll(writer, quads)
    writer.end()
    return sink.take()
  }
  let text = ''
  for await (const chunk of serializeBatches([quads], format, prefixes)) text += chunk
  return text
}

export function contentType(format: RdfFormat): string {
  return CONTENT_TYPES[format]
}
