import t from 'tap'
import { Readable } from 'node:stream'
import { RawJson, checkJsonLimits, jsonBody, jsonChunks, serializeJson, JsonLimitError } from '../../src/json.js'

async function collect(source: AsyncIterable<unknown>): Promise<string[]> {
  const out: string[] = []
  for await (const chunk of source) out.push(String(chunk))
  return out
}

/** Strings that broke or could break a serializer that searches its own output. */
const HOSTILE = [
  '\u0000raw0',
  '\u0000raw1',
  '"\\u0000raw0"',
  '\\u0000raw0',
  '\u0000raw',
  '\u0000raw99999999999999999999',
  '"',
  '\\',
  '","x":"',
  '"}]}',
  '}',
  ']',
  '\u2028\u2029',
  '\ud800',
  '\udfff\ud800',
  '__proto__',
  'constructor',
  'toString',
  '',
  '💥',
  '\n\r\t\b\f',
]

/** A value with every hostile string as a key and as a value, at several depths, and RawJson beside them. */
function hostileValue(withRaw: boolean) {
  const raw = (i: number) => (withRaw ? new RawJson(JSON.stringify({ id: `raw-${i}`, author: HOSTILE[i % HOSTILE.length], n: i })) : { id: `raw-${i}`, author: HOSTILE[i % HOSTILE.length], n: i })
  const record: Record<string, unknown> = {}
  HOSTILE.forEach((s, i) => {
    Object.defineProperty(record, s, { value: { [s]: s, list: [s, raw(i), s], raw: raw(i + 1) }, enumerable: true, writable: true, configurable: true })
  })
  return { help: '\u0000raw0', success: true, result: { count: 2, results: [raw(0), raw(1), HOSTILE], facets: { author: record }, values: HOSTILE } }
}

/** The value a client must read: RawJson replaced by what its text means. */
function meaning(value: unknown): unknown {
  if (value instanceof RawJson) return JSON.parse(value.json)
  if (Array.isArray(value)) return value.map(meaning)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) Object.defineProperty(out, key, { value: meaning((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true })
    return out
  }
  return value
}

t.test('without RawJson the text is exactly JSON.stringify’s', async (t) => {
  const values: unknown[] = [
    hostileValue(false),
    { a: undefined, b: () => 1, c: Symbol('s'), d: [undefined, () => 1, NaN, Infinity, -0], e: new Date(0), f: { toJSON: (key: string) => `key=${key}` } },
    [new Number(3), new String('x'), new Boolean(false)],
    null,
    'x',
    0,
    [],
    {},
    JSON.parse('{"__proto__": {"a": 1}, "constructor": [1]}'),
  ]
  for (const value of values) t.equal(serializeJson(value), JSON.stringify(value))
})

t.test('hostile strings in keys and values never change the structure around RawJson', async (t) => {
  const value = hostileValue(true)
  const text = serializeJson(value)
  t.same(JSON.parse(text), meaning(value), 'serializeJson')
  const streamed = (await collect(jsonChunks(value, 100))).join('')
  t.equal(streamed, text, 'jsonChunks writes the same text')
  t.same(Object.keys(JSON.parse(text).result.facets.author), HOSTILE, 'every hostile key is a key')
})

t.test('RawJson at the top and in every kind of position', async (t) => {
  t.equal(serializeJson(new RawJson('{"a":1}')), '{"a":1}')
  t.equal(serializeJson([new RawJson('1'), { k: new RawJson('[2]') }]), '[1,{"k":[2]}]')
})

t.test('cycles and BigInts are refused, as JSON.stringify refuses them', async (t) => {
  const cyclic: Record<string, unknown> = {}
  cyclic.self = [cyclic]
  t.throws(() => serializeJson(cyclic), TypeError)
  t.throws(() => serializeJson({ n: 1n }), TypeError)
  const shared = { x: 1 }
  t.equal(serializeJson([shared, shared]), '[{"x":1},{"x":1}]', 'a value seen twice, not inside itself, is no cycle')
})

t.test('deep values are written without recursion', async (t) => {
  let deep: unknown = 'leaf'
  for (let i = 0; i < 100_000; i++) deep = [deep]
  const text = serializeJson(deep)
  t.equal(text.length, 100_000 * 2 + 6)
  t.ok(text.startsWith('[[[') && text.includes('"leaf"'))
})

async function* batches<T>(items: T[], size: number): AsyncGenerator<T> {
  for (let i = 0; i < items.length; i += size) {
    await new Promise((resolve) => setImmediate(resolve))
    yield* items.slice(i, i + size)
  }
}

t.test('AsyncIterables are written as arrays, item by item, in chunks', async (t) => {
  const docs = Array.from({ length: 30 }, (_, i) => new RawJson(JSON.stringify({ id: i, author: HOSTILE[i % HOSTILE.length], notes: 'x'.repeat(1000) })))
  const dicts = [{ id: 'a', name: '\u0000raw0' }, { id: 'b', nested: [undefined, 1] }]
  const value = { help: 'h', success: true, result: { results: batches(docs, 7), other: batches(dicts, 1), empty: batches([], 1), facets: { a: 1 } } }
  const chunks = await collect(jsonChunks(value, 4096))
  t.ok(chunks.length > 5, `${chunks.length} chunks`)
  t.ok(chunks.every((c) => c.length < 4096 + 1100), 'each chunk is about the chunk size')
  t.same(JSON.parse(chunks.join('')), { help: 'h', success: true, result: { results: docs.map((d) => JSON.parse(d.json)), other: [dicts[0], { id: 'b', nested: [null, 1] }], empty: [], facets: { a: 1 } } })
  t.throws(() => serializeJson({ results: batches(docs, 1) }), TypeError, 'the synchronous serializer does not pretend to await')
})

t.test('jsonBody: a short answer as one string, a long one or one to await as a stream', async (t) => {
  t.equal(jsonBody({ a: [1, 2] }), '{"a":[1,2]}')
  const long = jsonBody({ results: Array.from({ length: 100 }, (_, i) => new RawJson(JSON.stringify({ i, pad: 'p'.repeat(100) }))) }, 1000)
  t.ok(long instanceof Readable)
  const text = (await collect(long as Readable)).join('')
  t.equal(JSON.parse(text).results.length, 100)
  const awaited = jsonBody({ results: batches([1, 2, 3], 2) })
  t.ok(awaited instanceof Readable)
  t.equal((await collect(awaited as Readable)).join(''), '{"results":[1,2,3]}')
})

t.test('a stream stopped early closes its sources; a failing source fails the stream', async (t) => {
  let closed = false
  async function* endless() {
    try {
      for (let i = 0; ; i++) yield new RawJson(JSON.stringify({ i, pad: 'p'.repeat(1000) }))
    } finally {
      closed = true
    }
  }
  const stream = jsonBody({ results: endless() }, 2000) as Readable
  for await (const chunk of stream) {
    t.ok(String(chunk).length > 0)
    break
  }
  await new Promise((resolve) => setImmediate(resolve))
  t.ok(closed, 'the source was returned when the reader stopped')

  async function* failing() {
    yield 1
    throw new Error('database gone')
  }
  await t.rejects(collect(jsonChunks({ results: failing() })), /database gone/)
})

t.test('checkJsonLimits counts depth and keys in one pass, strings excluded', async (t) => {
  const limits = { maxDepth: 3, maxKeys: 2 }
  t.doesNotThrow(() => checkJsonLimits('{"a":[{"b":1}],"c":"[[[[{,,,,"}', limits))
  t.doesNotThrow(() => checkJsonLimits('["\\"[[[[[", "\\\\", [[1, 2, 3, 4, 5]]]', limits), 'escaped quotes and backslashes end strings correctly')
  const kindOf = (text: string) => {
    try {
      checkJsonLimits(text, limits)
      return 'passed'
    } catch (err) {
      return err instanceof JsonLimitError ? err.kind : String(err)
    }
  }
  t.equal(kindOf('[[[[1]]]]'), 'depth')
  t.equal(kindOf('{"a":1,"b":2,"c":3}'), 'keys')
  t.doesNotThrow(() => checkJsonLimits('{"a":[1,2,3,4,5],"b":{"x":1,"y":2}}', limits), 'array items and nested keys count apart')
  limits.maxDepth = 64
  t.equal(kindOf('{"resources":[{"x":' + '['.repeat(3000) + ']'.repeat(3000) + '}]}'), 'depth', '3,000 levels')
})
