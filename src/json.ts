import { Readable } from 'node:stream'

/**
 * JSON text that is already serialized (a stored package document): embedded into a response as it is,
 * so hot read paths never parse and re-serialize it. Only our own serializer output belongs here, never
 * text a client sent.
 */
export class RawJson {
  constructor(readonly json: string) {}
}

/**
 * What may stand wherever an answer has an array: the items themselves, or an AsyncIterable that
 * produces them as they are loaded (in batches, say). Items are plain values or RawJson.
 */
export type JsonArraySource<T = unknown> = readonly T[] | AsyncIterable<T>

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
}

/** Characters per chunk of a streamed answer (UTF-16 units; one RawJson larger than this is one chunk). */
export const JSON_CHUNK_SIZE = 64 * 1024

type Frame =
  | { kind: 'object'; holder: object; keys: string[]; index: number; written: number }
  | { kind: 'array'; holder: readonly unknown[]; index: number }
  | { kind: 'async'; holder: object; iterator: AsyncIterator<unknown>; index: number }

/** Asks the driver to await the next item of an AsyncIterable and to send its result back in. */
interface NeedsNext {
  iterator: AsyncIterator<unknown>
}

/** Tells the driver that the sink holds a chunk's worth of text. */
const FULL = Symbol('full')

type Signal = typeof FULL | NeedsNext

/** Where jsonPieces writes: the text not yet handed on, and its length. */
interface JsonSink {
  parts: string[]
  size: number
}

/** How deep isPlain looks, and the longest array it lets JSON.stringify write in one string. */
const PLAIN_DEPTH = 32
const PLAIN_ARRAY_MAX = 64

/**
 * Whether JSON.stringify writes the value exactly as jsonPieces would, in a string of bounded size:
 * nothing of ours in it (RawJson, AsyncIterable, toJSON), no array longer than PLAIN_ARRAY_MAX, no
 * deeper than `depth` (which also stops at cycles; jsonPieces then reports them).
 */
function isPlain(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true
  if (depth === 0 || value instanceof RawJson || typeof (value as { toJSON?: unknown }).toJSON === 'function' || isAsyncIterable(value)) return false
  if (Array.isArray(value)) {
    if (value.length > PLAIN_ARRAY_MAX) return false
    for (const item of value) if (!isPlain(item, depth - 1)) return false
    return true
  }
  for (const key of Object.keys(value)) if (!isPlain((value as Record<string, unknown>)[key], depth - 1)) return false
  return true
}

/**
 * The JSON text of a value, piece by piece, as JSON.stringify writes it (toJSON, undefined and functions
 * left out of objects and null in arrays, non-finite numbers as null, cycles and BigInts refused), except
 * that a RawJson is written as its text at its own position and an AsyncIterable as an array of its items.
 * Keys and strings are always escaped by JSON.stringify: no output is ever searched or rewritten, so no
 * string can change the structure of the answer. An explicit stack, not recursion: any depth.
 */
function* jsonPieces(root: unknown, sink: JsonSink, chunkSize: number): Generator<Signal, void, IteratorResult<unknown> | undefined> {
  const stack: Frame[] = []
  const open = new Set<object>()
  const write = (text: string) => {
    sink.parts.push(text)
    sink.size += text.length
  }

  /** The text of a scalar or RawJson, or the opening bracket of a container (whose frame it pushes); undefined: nothing to write. */
  const begin = (raw: unknown, key: string): string | undefined => {
    let value = raw
    if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      value = (value as { toJSON(key: string): unknown }).toJSON(key)
    }
    if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf()
    switch (typeof value) {
      case 'string':
        return JSON.stringify(value)
      case 'number':
        return Number.isFinite(value) ? String(value) : 'null'
      case 'boolean':
        return value ? 'true' : 'false'
      case 'bigint':
        throw new TypeError('Do not know how to serialize a BigInt')
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined
    }
    if (value === null) return 'null'
    if (value instanceof RawJson) return value.json
    const container = value as object
    if (open.has(container)) throw new TypeError('Converting circular structure to JSON')
    // A small object of plain values (a dataset dict, a facet table): JSON.stringify writes it, faster.
    if (!Array.isArray(container) && isPlain(container, PLAIN_DEPTH)) return JSON.stringify(container)
    open.add(container)
    if (Array.isArray(container)) {
      stack.push({ kind: 'array', holder: container, index: 0 })
      return '['
    }
    if (isAsyncIterable(container)) {
      stack.push({ kind: 'async', holder: container, iterator: container[Symbol.asyncIterator](), index: 0 })
      return '['
    }
    stack.push({ kind: 'object', holder: container, keys: Object.keys(container), index: 0, written: 0 })
    return '{'
  }

  const end = (frame: Frame): string => {
    stack.pop()
    open.delete(frame.holder)
    return frame.kind === 'object' ? '}' : ']'
  }

  try {
    write(begin(root, '') ?? 'null')
    while (stack.length > 0) {
      if (sink.size >= chunkSize) yield FULL
      const frame = stack[stack.length - 1]!
      if (frame.kind === 'object') {
        if (frame.index >= frame.keys.length) {
          write(end(frame))
          continue
        }
        const key = frame.keys[frame.index++]!
        const text = begin((frame.holder as Record<string, unknown>)[key], key)
        if (text === undefined) continue
        write(`${frame.written++ > 0 ? ',' : ''}${JSON.stringify(key)}:${text}`)
      } else if (frame.kind === 'array') {
        if (frame.index >= frame.holder.length) {
          write(end(frame))
          continue
        }
        const index = frame.index++
        write(`${index > 0 ? ',' : ''}${begin(frame.holder[index], String(index)) ?? 'null'}`)
      } else {
        const next = yield { iterator: frame.iterator }
        if (!next) throw new Error('jsonPieces: the driver did not pass the next item')
        if (next.done) {
          write(end(frame))
          continue
        }
        const index = frame.index++
        write(`${index > 0 ? ',' : ''}${begin(next.value, String(index)) ?? 'null'}`)
      }
    }
  } finally {
    // Stopped early (an error, a client gone): let every open source release what it holds.
    for (const frame of stack) {
      if (frame.kind === 'async') void Promise.resolve(frame.iterator.return?.()).catch(() => {})
    }
  }
}

/**
 * JSON.stringify with RawJson written verbatim at its position. For values without AsyncIterables; the
 * text is one string, so use jsonBody for answers that may be large.
 */
export function serializeJson(value: unknown): string {
  const sink: JsonSink = { parts: [], size: 0 }
  for (const _signal of jsonPieces(value, sink, Infinity)) {
    throw new TypeError('serializeJson cannot await an AsyncIterable: use jsonBody or jsonChunks')
  }
  return sink.parts.join('')
}

/** Drives jsonPieces, awaiting AsyncIterables, and yields the text in chunks of about chunkSize characters. */
async function* chunksFrom(pieces: Generator<Signal, void, IteratorResult<unknown> | undefined>, sink: JsonSink, pending: NeedsNext | undefined): AsyncGenerator<string> {
  const flush = () => {
    const text = sink.parts.join('')
    sink.parts.length = 0
    sink.size = 0
    return text
  }
  try {
    let input: IteratorResult<unknown> | undefined = pending ? await pending.iterator.next() : undefined
    for (;;) {
      const step = pieces.next(input)
      input = undefined
      if (step.done) break
      if (step.value === FULL) yield flush()
      else input = await step.value.iterator.next()
    }
    if (sink.size > 0) yield flush()
  } finally {
    pieces.return()
  }
}

/** The JSON text of a value (AsyncIterables read as arrays) in chunks of about chunkSize characters. */
export function jsonChunks(value: unknown, chunkSize = JSON_CHUNK_SIZE): AsyncGenerator<string> {
  const sink: JsonSink = { parts: [], size: 0 }
  return chunksFrom(jsonPieces(value, sink, chunkSize), sink, undefined)
}

/**
 * A reply body for a value: one string when its text is short and needs nothing awaited; otherwise a
 * Readable that writes it chunk by chunk as the client reads (backpressure), awaiting AsyncIterables
 * item by item, so that no answer is ever held whole in memory or in one string.
 */
export function jsonBody(value: unknown, chunkSize = JSON_CHUNK_SIZE): string | Readable {
  const sink: JsonSink = { parts: [], size: 0 }
  const pieces = jsonPieces(value, sink, chunkSize)
  const step = pieces.next()
  if (step.done) return sink.parts.join('')
  // Full: the first chunk is written out by the stream (chunksFrom flushes on the next FULL or at the end).
  return Readable.from(chunksFrom(pieces, sink, step.value === FULL ? undefined : step.value))
}

// ---------------------------------------------------------------------------------------------
// Bounded parsing of request JSON

export interface JsonLimits {
  /** Most nested arrays and objects. */
  maxDepth: number
  /** Most keys in one object. */
  maxKeys: number
}

/** A JSON text beyond the limits: `kind` says which. */
export class JsonLimitError extends Error {
  constructor(
    readonly kind: 'depth' | 'keys',
    message: string,
  ) {
    super(message)
  }
}

/**
 * Checks a JSON text against the limits in one pass over its characters, without parsing it (so that no
 * parser, validator or copy ever recurses into, or walks, what a client nested or widened without bound).
 * Malformed text passes when within the limits: JSON.parse reports it afterwards.
 */
export function checkJsonLimits(text: string, limits: JsonLimits): void {
  // Per open container: the keys counted so far of an object, -1 for an array.
  const members: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      // Skip the string: to the next quote not escaped by an odd run of backslashes.
      for (;;) {
        const close = text.indexOf('"', i + 1)
        if (close < 0) return
        let backslashes = 0
        while (text.charCodeAt(close - 1 - backslashes) === 0x5c) backslashes++
        i = close
        if (backslashes % 2 === 0) break
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (members.length >= limits.maxDepth) throw new JsonLimitError('depth', `JSON nested too deeply: more than ${limits.maxDepth} levels of arrays and objects`)
      members.push(c === 0x7b ? 1 : -1)
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      members.pop()
    } else if (c === 0x2c /* , */ && members.length > 0) {
      const top = members.length - 1
      if (members[top]! >= 0 && ++members[top]! > limits.maxKeys) throw new JsonLimitError('keys', `A JSON object has more than ${limits.maxKeys} keys`)
    }
  }
}

/** JSON.parse after checkJsonLimits. */
export function parseJsonBounded(text: string, limits: JsonLimits): unknown {
  checkJsonLimits(text, limits)
  return JSON.parse(text)
}

/** Sets an own property, also for keys such as `__proto__` that an assignment would treat specially. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
}
