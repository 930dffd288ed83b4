/**
 * RDF/JS quads -> Turtle, N-Triples, RDF/XML or JSON-LD, whole or streamed batch by batch, so that a large
 * catalog is never held in memory as one graph. Text is handed to the readable side in chunks of about
 * CHUNK_CHARS characters, one at a time (the producer waits for the consumer).
 *  - Turtle / N-Triples: TextWriter over the term encoding of term-encoding.ts (the text n3's Writer gives, without
 *    relying on its internals). A document is the prefix lines and then fragments of batches, each closing its
 *    last statement (textFragment): a streamed dump serializes its batches partly in a worker thread
 *    (DatasetTextEncoder) and is still the text one writer gives.
 *  - RDF/XML: graphy's RDF/XML scriber (@graphy/content.xml.scribe), one rdf:RDF root, fed a few hundred quads
 *    at a time, each as writableQuad (term-encoding.ts) lets it be written.
 *  - JSON-LD: jsonld.js fromRDF (directly from the quads, each as writableQuad lets it be written) + compact with
 *    the local context (catalog/jsonld-context.json) per batch; the compacted nodes of every batch are appended to one
 *    `{"@context": ..., "@graph": [...]}` document.
 */
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { Readable, type Transform } from 'node:stream'
import { Worker, isMainThread, parentPort, threadId } from 'node:worker_threads'
import { DataFactory } from 'n3'
import type * as RDF from '@rdfjs/types'
import { vocabularies, type Vocabularies } from '../catalog/vocabularies.js'
import { AskedIris, datasetToQuads, datasetUri, type DcatProfile, type OrganizationLike, type PackageDict } from './mapping.js'
import { DEFAULT_PREFIXES, NS } from './namespaces.js'
import { internIri, labelBlankNodes, withBlankLabels } from './terms.js'
import { TextTermEncoder, writableQuad } from './term-encoding.js'
import { CONTENT_TYPES, localDocumentLoader, localJsonLdContext, type RdfFormat } from './parse.js'

export { CONTENT_TYPES, type RdfFormat }

const require = createRequire(import.meta.url)
type XmlScriber = (config: { prefixes?: Record<string, string> }) => Transform & {
  serialize(event: { type: 'array'; value: RDF.Quad[] }): string | undefined
}
// The RDF/XML and JSON-LD libraries are loaded on first use: most processes never write these formats, and
// loading them is a good part of the start-up time.
let xmlScriberModule: XmlScriber | undefined
const xmlScriber: XmlScriber = (config) => (xmlScriberModule ??= require('@graphy/content.xml.scribe') as XmlScriber)(config)
const loadJsonLd = async () => (await import('jsonld')).default

export interface RdfStream {
  /** Writes one batch (for example the quads of some datasets); resolves when the stream can take more. */
  write(quads: Iterable<RDF.Quad>): Promise<void>
  /**
   * Turtle / N-Triples only: writes a piece of the document made by textFragment or a DatasetTextEncoder (in this
   * thread or another) with the same format and prefixes, as one or more chunks.
   */
  writeFragment?(text: string | readonly string[]): Promise<void>
  /** Closes the document; resolves when every chunk has been handed to `readable`. */
  end(): Promise<void>
  /** The serialized text, chunk by chunk (strings). */
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
    // Strings stay strings: the socket copies each into memory of its own, freed when written (a Buffer made here
    // would be freed only by a garbage collection, which for a promoted one can be long in coming). One chunk is
    // buffered at a time: the producer makes the next when the consumer has taken this one.
    super({ encoding: 'utf8', highWaterMark: 1 })
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
// Turtle and N-Triples: statements of terms encoded by term-encoding.ts (the text n3's Writer gives for them).

/**
 * Writes quads as Turtle (statements grouped by subject and predicate with `;` and `,`) or N-Triples (a line each)
 * into a StringSink. A quad with a term the encoder refuses is left out (see term-encoding.ts).
 */
class TextWriter {
  private readonly encoder: TextTermEncoder
  /** The open statement's subject (as given and encoded) and predicate. */
  private subjectTerm: RDF.Term | undefined
  private subject: string | undefined
  private predicate: string | undefined

  constructor(
    private readonly sink: StringSink,
    format: 'ttl' | 'nt',
    prefixes: Record<string, string>,
  ) {
    this.encoder = TextTermEncoder.for(format, prefixes)
  }

  /** The prefix lines ('' for N-Triples). */
  get header(): string {
    return this.encoder.header
  }

  add(q: RDF.Quad): void {
    const encoder = this.encoder
    const sameSubject = this.subject !== undefined && (q.subject === this.subjectTerm || q.subject.equals(this.subjectTerm!))
    const s = sameSubject ? this.subject : encoder.subject(q.subject)
    const p = encoder.predicate(q.predicate)
    const o = encoder.object(q.object)
    if (s === undefined || p === undefined || o === undefined) return
    if (encoder.lineMode) {
      this.sink.text += `${s} ${p} ${o} .\n`
    } else if (sameSubject) {
      this.sink.text += p === this.predicate ? `, ${o}` : `;\n    ${p} ${o}`
      this.predicate = p
    } else {
      this.sink.text += `${this.subject === undefined ? '' : '.\n'}${s} ${p} ${o}`
      this.subjectTerm = q.subject
      this.subject = s
      this.predicate = p
    }
  }

  /** Closes the open statement, so that text made elsewhere can follow. */
  endStatement(): void {
    if (this.subject === undefined) return
    this.sink.text += '.\n'
    this.subject = undefined
    this.subjectTerm = undefined
    this.predicate = undefined
  }
}

/** Collects what a Writer writes (string concatenation: V8 joins the pieces once, when the text is used). */
class StringSink {
  text = ''
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

function textWriter(sink: StringSink, format: 'ttl' | 'nt', prefixes: Record<string, string>): TextWriter {
  return new TextWriter(sink, format, prefixes)
}

/**
 * Text is handed on in chunks of about this many characters: big enough to keep the per-chunk cost of the stream
 * and the socket small, small enough that a chunk is written before the young generation's next collections (a
 * longer-lived string would be promoted to the old generation) and that it is no large object (over 128 kB, that
 * is 64 k characters of two-byte text, a string lives in the large-object space until a full collection).
 */
const CHUNK_CHARS = 1 << 15

function addAll(writer: TextWriter, quads: Iterable<RDF.Quad>): void {
  for (const q of quads) writer.add(q)
}

/** The prefix lines a Turtle document starts with ('' for N-Triples). */
export function textHeader(format: 'ttl' | 'nt', prefixes: Record<string, string> = DEFAULT_PREFIXES): string {
  return textWriter(new StringSink(), format, prefixes).header
}

/**
 * Quads as a piece of a Turtle / N-Triples document: no prefix lines, the last statement closed. textHeader and
 * the fragments of consecutive batches make the document one writer makes of all of them (the very same text
 * when no subject runs on from one batch into the next), so that batches can be serialized apart.
 */
export function textFragment(quads: Iterable<RDF.Quad>, format: 'ttl' | 'nt', prefixes: Record<string, string> = DEFAULT_PREFIXES): string {
  const sink = new StringSink()
  const writer = textWriter(sink, format, prefixes)
  addAll(writer, quads)
  writer.endStatement()
  return sink.take()
}

/** One writer for the document; each write() closes its last statement, so fragments made elsewhere can follow. */
function createTextStream(format: 'ttl' | 'nt', prefixes: Record<string, string>): RdfStream {
  const out = new TextReadable()
  const sink = new StringSink()
  const writer = textWriter(sink, format, prefixes)
  sink.text = writer.header
  return {
    readable: out,
    async write(quads) {
      for (const q of quads) {
        writer.add(q)
        if (sink.text.length >= CHUNK_CHARS) await out.send(sink.take())
      }
      writer.endStatement()
      await out.send(sink.take())
    },
    async writeFragment(text) {
      const head = sink.take()
      if (typeof text === 'string') return out.send(head + text)
      if (head) await out.send(head)
      for (const chunk of text) await out.send(chunk)
    },
    async end() {
      writer.endStatement()
      out.finish(sink.take())
    },
  }
}

// ---------------------------------------------------------------------------------------------------
// RDF/XML

/** RDF/XML runs to some 110 characters a quad: about CHUNK_CHARS to a chunk. */
const XML_QUADS_PER_CHUNK = 300

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
      // A few hundred quads to a scriber call: chunks of some CHUNK_CHARS characters.
      let batch: RDF.Quad[] = []
      const flush = async (): Promise<void> => {
        const text = head + (scriber.serialize({ type: 'array', value: batch }) ?? '')
        head = ''
        batch = []
        await out.send(text)
      }
      for (const given of quads) {
        const q = writableQuad(given)
        if (q !== undefined && batch.push(q) >= XML_QUADS_PER_CHUNK) await flush()
      }
      if (batch.length || head) await flush()
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
    // Other RDF/JS terms: a key no n3 id can equal.
    return t.termType === 'Literal' ? `\u0002${t.value}\u0002${t.language}\u0002${t.datatype.value}` : `\u0002${t.value}`
  }
  for (const given of quads) {
    const q = writableQuad(given)
    if (q === undefined) continue
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
  const jsonld = await loadJsonLd()
  const expanded = await jsonld.fromRDF(dataset as never, { useNativeTypes: false } as never)
  // fromRDF gives expanded JSON-LD: compact need not expand it again.
  const compacted = (await jsonld.compact(expanded as never, context as never, { documentLoader, skipExpansion: true } as never)) as unknown as Record<string, unknown>
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
      for (const node of nodes) {
        text += `${count++ === 0 ? '\n' : ',\n'}    ${JSON.stringify(node)}`
        if (text.length >= CHUNK_CHARS) {
          await out.send(text)
          text = ''
        }
      }
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
    sink.text = writer.header
    addAll(writer, quads)
    writer.endStatement()
    return sink.take()
  }
  let text = ''
  for await (const chunk of serializeBatches([quads], format, prefixes)) text += chunk
  return text
}

export function contentType(format: RdfFormat): string {
  return CONTENT_TYPES[format]
}

// ---------------------------------------------------------------------------------------------------
// Package dicts -> Turtle / N-Triples fragments, shared between this thread and a worker thread.
//
// A streamed dump spends most of its time turning package_show JSON into text (JSON.parse, datasetToQuads,
// the writer). Batches of datasets are independent fragments (see textFragment), so a worker thread serializes
// some while this thread reads the database, writes the response and serializes others: the dump then uses two
// cores where there are two. The worker is started on first use, stopped after a while without work, and
// whatever goes wrong with it, the batches are serialized here instead.

export interface DatasetTextSettings {
  format: 'ttl' | 'nt'
  profile: DcatProfile
  /** The `compat` profile (MappingContext.compat). */
  compat?: boolean
  baseUrl: string
  contributorId: string
  /** Each dataset is followed by `<catalogUri> dcat:dataset <dataset>`. */
  catalogUri: string
}

type Organizations = ReadonlyMap<string, OrganizationLike>

const DCAT_DATASET = `${NS.dcat}dataset`

/**
 * Some datasets as text, in chunks, and the auxiliary IRIs that text describes when it was made optimistically
 * (`asked`; see TextFragmentCheck).
 */
export interface TextFragment {
  chunks: string[]
  asked: string[]
}

/**
 * The catalog-wide check of auxiliary IRIs for a text fragment: `null` maps optimistically (AskedIris: every
 * http(s) IRI asked about is described, and listed in TextFragment.asked for the caller to check before the text
 * is written); a list maps with exactly those IRIs describable.
 */
export type TextFragmentCheck = readonly string[] | null

/**
 * The fragment of some datasets (package_show JSON): each one's datasetToQuads (with the catalog-wide check of
 * their auxiliary IRIs, MappingContext.describableIris, as `check` says), then its dcat:dataset link; in chunks of
 * about CHUNK_CHARS characters.
 */
function datasetsFragment(
  jsons: readonly string[],
  check: TextFragmentCheck,
  settings: DatasetTextSettings,
  vocab: Vocabularies,
  organizations: Organizations,
): TextFragment {
  const asked = check === null ? new AskedIris() : undefined
  const describableIris = asked ?? new Set(check)
  const { baseUrl, contributorId, profile, compat } = settings
  const sink = new StringSink()
  const writer = textWriter(sink, settings.format, DEFAULT_PREFIXES)
  const catalog = DataFactory.namedNode(settings.catalogUri)
  const hasDataset = internIri(DCAT_DATASET)
  const chunks: string[] = []
  for (const json of jsons) {
    const dict = JSON.parse(json) as PackageDict
    const orgId = dict.organization?.id
    const organization = orgId ? (organizations.get(orgId) ?? null) : null
    for (const q of datasetToQuads(dict, { baseUrl, contributorId, vocab, profile, compat, organization, describableIris })) writer.add(q)
    writer.add(DataFactory.quad(catalog, hasDataset, DataFactory.namedNode(datasetUri(dict, baseUrl))))
    if (sink.text.length >= CHUNK_CHARS) chunks.push(sink.take())
  }
  writer.endStatement()
  const rest = sink.take()
  if (rest) chunks.push(rest)
  return { chunks, asked: asked ? [...asked.asked] : [] }
}

/**
 * One dataset's text as stored (fragment-store.ts): mapped optimistically (every auxiliary IRI it asks about
 * described; `asked` lists them for the reader to check) and followed by its dcat:dataset link, its last statement
 * closed, no prefix lines (written under DEFAULT_PREFIXES), its blank nodes labelled by datasetBlankPrefix.
 */
export interface DatasetFragment {
  text: string
  asked: string[]
}

/**
 * The blank node labels of a dataset's stored fragment start with this: derived from its id, so that the stored
 * fragments of different datasets, rendered at different times and in different threads, never share a label;
 * and no label n3 or the worker threads give (`n3-`, `n3w`) starts so.
 */
export function datasetBlankPrefix(id: string): string {
  // The thread that rendered it is named too (`m`, or `w` and its id): nothing depends on it but tests.
  return `f${createHash('sha1').update(id).digest('hex').slice(0, 24)}${isMainThread ? 'm' : `w${threadId}`}x`
}

/** Each dataset (package_show JSON) as a DatasetFragment. */
function eachDatasetFragment(jsons: readonly string[], settings: DatasetTextSettings, vocab: Vocabularies, organizations: Organizations): DatasetFragment[] {
  const { baseUrl, contributorId, profile, compat } = settings
  const catalog = DataFactory.namedNode(settings.catalogUri)
  const hasDataset = internIri(DCAT_DATASET)
  return jsons.map((json) => {
    const dict = JSON.parse(json) as PackageDict
    const orgId = dict.organization?.id
    const organization = orgId ? (organizations.get(orgId) ?? null) : null
    const asked = new AskedIris()
    const sink = new StringSink()
    const writer = textWriter(sink, settings.format, DEFAULT_PREFIXES)
    withBlankLabels(datasetBlankPrefix(String(dict.id)), () => {
      for (const q of datasetToQuads(dict, { baseUrl, contributorId, vocab, profile, compat, organization, describableIris: asked })) writer.add(q)
    })
    writer.add(DataFactory.quad(catalog, hasDataset, DataFactory.namedNode(datasetUri(dict, baseUrl))))
    writer.endStatement()
    return { text: sink.take(), asked: [...asked.asked] }
  })
}

/**
 * Serializes batches of datasets for one document: in the worker threads (the least busy one), else, while they
 * start or where there are none, right here.
 */
export class DatasetTextEncoder {
  private readonly organizations: Organizations
  private readonly key = nextEncoderKey++
  /** Taken from the pool on first use (an encoder that is never asked for text starts no worker). */
  private workers: FragmentWorker[] | undefined

  constructor(
    private readonly settings: DatasetTextSettings,
    private readonly vocab: Vocabularies,
    organizations: Organizations,
  ) {
    // A snapshot: the organizations the workers get are the ones this thread uses.
    this.organizations = new Map(organizations)
  }

  /** The worker threads, started when missing. A worker reads the vocabularies from catalog/ itself: only the process-wide ones are the same there. */
  private pool(): FragmentWorker[] {
    return (this.workers ??= this.vocab === vocabularies() ? FragmentWorker.pool() : [])
  }

  /** The fragment of these datasets (package_show JSON, in order), in chunks, checked as `check` says. */
  encode(jsons: string[], check: TextFragmentCheck): Promise<TextFragment> {
    let worker: FragmentWorker | undefined
    for (const w of this.pool()) if (w.usable() && w.load() < WORKER_IN_FLIGHT && (!worker || w.load() < worker.load())) worker = w
    if (worker) {
      return worker.run(this.key, this.organizations, this.settings, jsons, check).catch((err: unknown) => {
        if (!(err instanceof WorkerUnavailableError)) throw err
        return datasetsFragment(jsons, check, this.settings, this.vocab, this.organizations)
      })
    }
    try {
      return Promise.resolve(datasetsFragment(jsons, check, this.settings, this.vocab, this.organizations))
    } catch (err) {
      return Promise.reject(err as Error)
    }
  }

  /** The Kommune this encoder maps with (its snapshot). */
  organization(id: string): OrganizationLike | undefined {
    return this.organizations.get(id)
  }

  /** Each of these datasets (package_show JSON, in order) as it is stored (DatasetFragment). */
  encodeEach(jsons: string[]): Promise<DatasetFragment[]> {
    let worker: FragmentWorker | undefined
    for (const w of this.pool()) if (w.usable() && w.load() < WORKER_IN_FLIGHT && (!worker || w.load() < worker.load())) worker = w
    if (worker) {
      return worker.runEach(this.key, this.organizations, this.settings, jsons).catch((err: unknown) => {
        if (!(err instanceof WorkerUnavailableError)) throw err
        return eachDatasetFragment(jsons, this.settings, this.vocab, this.organizations)
      })
    }
    try {
      return Promise.resolve(eachDatasetFragment(jsons, this.settings, this.vocab, this.organizations))
    } catch (err) {
      return Promise.reject(err as Error)
    }
  }

  /** The document is done: the workers may forget its organizations. */
  close(): void {
    for (const w of this.workers ?? []) w.forget(this.key)
    this.workers = []
  }
}

let nextEncoderKey = 1

class WorkerUnavailableError extends Error {}

/**
 * Batches a worker holds at once. When every worker is busy, this thread serializes the next batch itself: the
 * work is shared, and few finished batches wait (text that waits long is promoted to the old generation).
 */
const WORKER_IN_FLIGHT = 1
/**
 * Worker threads where there are at least two CPUs: one, with this thread a second core's worth; each further
 * worker would add its own heap (some 30 MB) to the process.
 */
const WORKERS = 1
/** A worker without work is stopped after this long (it holds memory of its own). */
const WORKER_IDLE_MS = 30_000
/**
 * The worker's heap limits. It keeps little (a few batches and the vocabularies, some 15-20 MB), but the batches'
 * strings and the text it makes are large objects that count against the old generation: V8 sizes its first
 * collection limits from the maximum, and with a maximum of 96 MB it ran a full mark-compact every 150 ms, twice the
 * worker's own work in GC (measured: 127 mark-compacts in a 100k dump; with 256 MB, 4 in 60 s). The maximum is far
 * above what it keeps (exceeding it would end the worker, and its batches would be serialized in this thread).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 256 }
/** After a failure no worker is started again for this long. */
const WORKER_RETRY_MS = 60_000

type ToWorker =
  | { type: 'organizations'; key: number; organizations: Array<[string, OrganizationLike]> }
  | { type: 'forget'; key: number }
  | { type: 'batch'; id: number; key: number; settings: DatasetTextSettings; jsons: string[]; check: TextFragmentCheck }
  | { type: 'each'; id: number; key: number; settings: DatasetTextSettings; jsons: string[] }
type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'done'; id: number; fragment: TextFragment }
  | { type: 'each'; id: number; fragments: DatasetFragment[] }
  | { type: 'error'; id: number; message: string }

/** Runs in the worker: registers tsx when this module is TypeScript, then serves runDatasetTextWorker. */
const WORKER_BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads')
;(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register()
  ;(await import(workerData.entry)).runDatasetTextWorker()
})().catch((err) => parentPort.postMessage({ type: 'failed', error: String((err && err.stack) || err) }))
`

class FragmentWorker {
  private static shared: FragmentWorker[] = []
  private static retryAt = 0

  /** The workers, started when missing; none where they cannot run. */
  static pool(): FragmentWorker[] {
    const size = availableParallelism() >= 2 ? WORKERS : 0
    while (FragmentWorker.shared.length < size && Date.now() >= FragmentWorker.retryAt) {
      try {
        FragmentWorker.shared.push(new FragmentWorker())
      } catch {
        FragmentWorker.retryAt = Date.now() + WORKER_RETRY_MS
      }
    }
    return [...FragmentWorker.shared]
  }

  private readonly worker: Worker
  private ready = false
  private gone = false
  private inFlight = 0
  private nextId = 1
  private readonly pending = new Map<number, { resolve(result: TextFragment | DatasetFragment[]): void; reject(err: Error): void }>()
  private readonly known = new Set<number>()
  private idleTimer: NodeJS.Timeout | undefined

  private constructor() {
    const entry = import.meta.url
    const tsx = entry.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : undefined
    this.worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { entry, tsx }, resourceLimits: WORKER_LIMITS })
    this.worker.unref()
    this.worker.on('message', (message: FromWorker) => this.receive(message))
    this.worker.on('error', (err) => this.fail(err))
    this.worker.on('exit', () => this.fail(new Error('the worker exited')))
    this.idle()
  }

  usable(): boolean {
    return this.ready && !this.gone
  }

  load(): number {
    return this.inFlight
  }

  run(key: number, organizations: Organizations, settings: DatasetTextSettings, jsons: string[], check: TextFragmentCheck): Promise<TextFragment> {
    return this.submit(key, organizations, (id) => ({ type: 'batch', id, key, settings, jsons, check })) as Promise<TextFragment>
  }

  runEach(key: number, organizations: Organizations, settings: DatasetTextSettings, jsons: string[]): Promise<DatasetFragment[]> {
    return this.submit(key, organizations, (id) => ({ type: 'each', id, key, settings, jsons })) as Promise<DatasetFragment[]>
  }

  private submit(key: number, organizations: Organizations, message: (id: number) => ToWorker): Promise<TextFragment | DatasetFragment[]> {
    if (this.gone) return Promise.reject(new WorkerUnavailableError())
    if (!this.known.has(key)) {
      this.known.add(key)
      this.post({ type: 'organizations', key, organizations: [...organizations] })
    }
    const id = this.nextId++
    this.inFlight++
    clearTimeout(this.idleTimer)
    return new Promise<TextFragment | DatasetFragment[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.post(message(id))
    })
  }

  forget(key: number): void {
    if (this.known.delete(key) && !this.gone) this.post({ type: 'forget', key })
  }

  private post(message: ToWorker): void {
    try {
      this.worker.postMessage(message)
    } catch (err) {
      this.fail(err as Error)
    }
  }

  private receive(message: FromWorker): void {
    if (message.type === 'ready') {
      this.ready = true
      return
    }
    if (message.type === 'failed') return this.fail(new Error(message.error))
    const job = this.pending.get(message.id)
    if (!job) return
    this.pending.delete(message.id)
    this.inFlight--
    if (this.inFlight === 0) this.idle()
    if (message.type === 'done') job.resolve(message.fragment)
    else if (message.type === 'each') job.resolve(message.fragments)
    else job.reject(new Error(message.message))
  }

  private idle(): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => {
      if (this.inFlight === 0) this.stop()
    }, WORKER_IDLE_MS)
    this.idleTimer.unref()
  }

  private stop(): void {
    FragmentWorker.shared = FragmentWorker.shared.filter((w) => w !== this)
    this.gone = true
    void this.worker.terminate()
  }

  private fail(err: Error): void {
    if (this.gone && this.pending.size === 0) return
    if (!this.gone) FragmentWorker.retryAt = Date.now() + WORKER_RETRY_MS
    this.stop()
    clearTimeout(this.idleTimer)
    for (const job of this.pending.values()) job.reject(new WorkerUnavailableError(err.message))
    this.pending.clear()
    this.inFlight = 0
  }
}

/** The worker thread's side (started by FragmentWorker through WORKER_BOOTSTRAP). */
export function runDatasetTextWorker(): void {
  const port = parentPort
  if (isMainThread || !port) throw new Error('runDatasetTextWorker runs in a worker thread')
  labelBlankNodes(`n3w${threadId}-`)
  const vocab = vocabularies()
  const organizations = new Map<number, Organizations>()
  port.on('message', (message: ToWorker) => {
    if (message.type === 'organizations') organizations.set(message.key, new Map(message.organizations))
    else if (message.type === 'forget') organizations.delete(message.key)
    else {
      let reply: FromWorker
      try {
        const known = organizations.get(message.key) ?? new Map<string, OrganizationLike>()
        reply =
          message.type === 'each'
            ? { type: 'each', id: message.id, fragments: eachDatasetFragment(message.jsons, message.settings, vocab, known) }
            : { type: 'done', id: message.id, fragment: datasetsFragment(message.jsons, message.check, message.settings, vocab, known) }
      } catch (err) {
        reply = { type: 'error', id: message.id, message: (err as Error)?.message ?? String(err) }
      }
      port.postMessage(reply)
    }
  })
  port.postMessage({ type: 'ready' } satisfies FromWorker)
}
