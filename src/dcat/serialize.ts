/**
 * RDF/JS quads -> Turtle, N-Triples, RDF/XML or JSON-LD, whole or streamed batch by batch (one batch per
 * dataset), so that a large catalog is never held in memory as one graph.
 *  - Turtle / N-Triples: n3's StreamWriter.
 *  - RDF/XML: graphy's streaming RDF/XML scriber (@graphy/content.xml.scribe), one rdf:RDF root.
 *  - JSON-LD: jsonld.js fromRDF + compact with the local context (catalog/jsonld-context.json) per batch; the
 *    compacted nodes of every batch are appended to one `{"@context": ..., "@graph": [...]}` document.
 */
import { createRequire } from 'node:module'
import { PassThrough, type Readable, type Transform } from 'node:stream'
import { StreamWriter, Writer } from 'n3'
import jsonld from 'jsonld'
import type * as RDF from '@rdfjs/types'
import { DEFAULT_PREFIXES } from './namespaces.js'
import { CONTENT_TYPES, localDocumentLoader, localJsonLdContext, type RdfFormat } from './parse.js'

export { CONTENT_TYPES, type RdfFormat }

const require = createRequire(import.meta.url)
const xmlScriber = require('@graphy/content.xml.scribe') as (config: { prefixes?: Record<string, string> }) => Transform

export interface RdfStream {
  /** Writes one batch (for example one dataset's quads); resolves when the stream can take more. */
  write(quads: Iterable<RDF.Quad>): Promise<void>
  /** Closes the document; resolves when every chunk has been handed to `readable`. */
  end(): Promise<void>
  /** The serialized text, chunk by chunk (UTF-8 strings). */
  readable: Readable
}

/** N-Quads text of some quads (the input format jsonld.js reads). */
function toNQuads(quads: Iterable<RDF.Quad>): string {
  const writer = new Writer({ format: 'N-Quads' })
  let out = ''
  for (const q of quads) writer.addQuad(q)
  writer.end((err, result) => {
    if (err) throw err
    out = result
  })
  return out
}

/** The compacted JSON-LD node objects of one batch (without @context). */
async function jsonLdNodes(quads: Iterable<RDF.Quad>, context: Record<string, unknown>): Promise<unknown[]> {
  const nquads = toNQuads(quads)
  if (!nquads) return []
  const documentLoader = localDocumentLoader() as never
  const expanded = await jsonld.fromRDF(nquads, { format: 'application/n-quads', useNativeTypes: false } as never)
  const compacted = (await jsonld.compact(expanded as never, context as never, { documentLoader } as never)) as unknown as Record<string, unknown>
  delete compacted['@context']
  if (Array.isArray(compacted['@graph'])) return compacted['@graph'] as unknown[]
  return Object.keys(compacted).length ? [compacted] : []
}

function waitDrain(stream: NodeJS.WritableStream & { writableNeedDrain?: boolean }): Promise<void> {
  return new Promise((resolve) => stream.once('drain', resolve))
}

/** A streaming writer for `format`; consume `readable` while writing batches. */
export function createRdfStream(format: RdfFormat, prefixes: Record<string, string> = DEFAULT_PREFIXES): RdfStream {
  if (format === 'jsonld') return createJsonLdStream(prefixes)
  const writer: Transform =
    format === 'rdf'
      ? xmlScriber({ prefixes: { ...prefixes } })
      : (new StreamWriter({ format: format === 'ttl' ? 'text/turtle' : 'N-Triples', prefixes: format === 'ttl' ? prefixes : {} }) as unknown as Transform)
  writer.setEncoding?.('utf8')
  const finished = new Promise<void>((resolve, reject) => {
    writer.once('finish', resolve)
    writer.once('error', reject)
  })
  finished.catch(() => undefined)
  return {
    readable: writer,
    async write(quads) {
      let needDrain = false
      for (const q of quads) needDrain = !writer.write(q) || needDrain
      if (needDrain) await waitDrain(writer)
    },
    async end() {
      writer.end()
      await finished
    },
  }
}

function createJsonLdStream(prefixes: Record<string, string>): RdfStream {
  const context = { ...localJsonLdContext(), ...prefixes }
  const out = new PassThrough({ encoding: 'utf8' })
  let count = 0
  let started = false
  const push = async (text: string): Promise<void> => {
    if (!out.write(text)) await waitDrain(out)
  }
  const start = async (): Promise<void> => {
    if (started) return
    started = true
    await push(`{\n  "@context": ${JSON.stringify(context)},\n  "@graph": [`)
  }
  return {
    readable: out,
    async write(quads) {
      await start()
      const nodes = await jsonLdNodes(quads, context)
      for (const node of nodes) {
        await push(`${count++ === 0 ? '\n' : ',\n'}    ${JSON.stringify(node)}`)
      }
    },
    async end() {
      await start()
      out.end(`${count ? '\n' : ''}  ]\n}\n`)
      await new Promise<void>((resolve) => (out.writableFinished ? resolve() : out.once('finish', () => resolve())))
    },
  }
}

/**
 * Text chunks of a document made from batches of quads (one batch per dataset is the intended use).
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
    const writer = new Writer({ format: format === 'ttl' ? 'text/turtle' : 'N-Triples', prefixes: format === 'ttl' ? prefixes : {} })
    for (const q of quads) writer.addQuad(q)
    return new Promise((resolve, reject) => writer.end((err, result) => (err ? reject(err) : resolve(result))))
  }
  let text = ''
  for await (const chunk of serializeBatches([quads], format, prefixes)) text += chunk
  return text
}

export function contentType(format: RdfFormat): string {
  return CONTENT_TYPES[format]
}
