/**
 * Compression (gzip, brotli) of JSON and RDF, the streamed dumps included, without holding an answer
 * whole: the first compressed bytes of a stream reach the client while the server is still producing it.
 */
import t from 'tap'
import { request, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import zlib from 'node:zlib'
import { Parser } from 'n3'
import { forEachBackend } from '../helpers/backends.js'
import { api, insertDatasets } from '../helpers/app.js'
import { SAMPLE_DATASETS } from '../helpers/datasets.js'
import { buildApp, type App } from '../../src/app.js'

type Encoding = 'br' | 'gzip'

function decompress(encoding: Encoding | undefined, body: Buffer): Buffer {
  if (encoding === 'br') return zlib.brotliDecompressSync(body)
  if (encoding === 'gzip') return zlib.gunzipSync(body)
  return body
}

function get(base: string, path: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers, agent: false }, resolve)
    req.on('error', reject)
    req.end()
  })
}

/** The first chunk of the body; the rest stays in the response for readAll. */
function firstChunk(response: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    response.once('error', reject)
    response.once('data', (chunk: Buffer) => {
      response.pause()
      resolve(chunk)
    })
  })
}

async function readAll(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of response) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** The most a TCP connection on this machine can hold unread (send plus receive buffer), from Linux's sysctls. */
function socketBufferBytes(): number {
  const max = (file: string) => {
    try {
      return Math.max(...readFileSync(file, 'utf8').trim().split(/\s+/).map(Number))
    } catch {
      return 0
    }
  }
  const total =
    max('/proc/sys/net/ipv4/tcp_wmem') +
    max('/proc/sys/net/ipv4/tcp_rmem') +
    max('/proc/sys/net/core/wmem_max') +
    max('/proc/sys/net/core/rmem_max')
  return total > 0 ? total : 64 * 1024 * 1024
}

async function listen(app: App): Promise<string> {
  await app.fastify.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.fastify.server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

await forEachBackend(t, async (t, backend) => {
  // No change-feed polls during the test: the query counter counts the dump's statements alone.
  const config = { ...backend.config, changePollMs: 3_600_000 }
  const app = await buildApp(config, { store: backend.store, logger: false })

  /**
   * A Turtle stream the test controls: it produces lines on demand (with backpressure) until the test ends it
   * or `capBytes` are produced. The lines are random (they compress to about 3/4 of their size), so that
   * what is produced before the client reads cannot hide in the connection's buffers.
   */
  const capBytes = Math.ceil((socketBufferBytes() * 2) / 0.75)
  let produced = 0
  let endedAt: number | null = null
  let stopProducing = false
  app.fastify.get('/test/endless.ttl', async (_request, reply) => {
    produced = 0
    endedAt = null
    stopProducing = false
    let line = 0
    const stream = new Readable({
      read() {
        if (stopProducing || produced >= capBytes) {
          endedAt = produced
          this.push(null)
          return
        }
        const text = `<urn:x:${line++}> <urn:p> "${randomBytes(48 * 1024).toString('base64')}" .\n`
        produced += text.length
        this.push(text)
      },
    })
    return reply.type('text/turtle; charset=utf-8').send(stream)
  })
  t.teardown(() => app.fastify.close())
  await app.fastify.ready()
  await insertDatasets(app, SAMPLE_DATASETS)
  const base = await listen(app)

  await t.test('JSON and each RDF format, gzip and brotli, as identical bytes once decompressed', async (t) => {
    const paths = [
      ['/api/3/action/package_search?rows=10', 'application/json'],
      ['/api/3/action/current_package_list_with_resources', 'application/json'],
      ['/catalog.ttl?page=all', 'text/turtle'],
      ['/catalog.rdf?page=all', 'application/rdf+xml'],
      ['/catalog.jsonld?page=all', 'application/ld+json'],
      ['/catalog.nt?page=all', 'application/n-triples'],
      ['/catalog.ttl', 'text/turtle'],
      ['/dataset/baumkataster-marburg.nt', 'application/n-triples'],
    ] as const
    for (const [path, type] of paths) {
      const plain = await get(base, path, { 'accept-encoding': 'identity' })
      t.equal(plain.statusCode, 200, path)
      t.equal(plain.headers['content-encoding'], undefined, `${path}: identity when asked`)
      const plainBody = await readAll(plain)
      for (const encoding of ['br', 'gzip'] as const) {
        const response = await get(base, path, { 'accept-encoding': encoding })
        t.equal(response.statusCode, 200)
        t.match(response.headers['content-type'], type)
        if (plainBody.length < 1024) continue // below the threshold: sent as it is
        t.equal(response.headers['content-encoding'], encoding, `${path} ${encoding}`)
        t.match(String(response.headers.vary), /accept-encoding/i)
        const body = await readAll(response)
        t.ok(body.length < plainBody.length, `${path} ${encoding}: ${body.length} < ${plainBody.length} bytes`)
        // Blank node labels are counted per serialization: compared without them.
        const unlabelled = (text: string) =>
          text.replace(/_:[\w-]+/g, '_:').replace(/rdf:nodeID="[^"]*"/g, 'rdf:nodeID=""')
        t.equal(
          unlabelled(decompress(encoding, body).toString('utf8')),
          unlabelled(plainBody.toString('utf8')),
          `${path} ${encoding}: the same document`,
        )
      }
    }
    const preferred = await get(base, '/catalog.ttl?page=all', { 'accept-encoding': 'gzip, deflate, br' })
    t.equal(preferred.headers['content-encoding'], 'br', 'brotli when the client takes both')
    await readAll(preferred)
  })

  await t.test('a stream is compressed as it is produced, not after', async (t) => {
    for (const encoding of ['br', 'gzip'] as const) {
      const response = await get(base, '/test/endless.ttl', { 'accept-encoding': encoding })
      t.equal(response.headers['content-encoding'], encoding)
      const decompressor = encoding === 'br' ? zlib.createBrotliDecompress() : zlib.createGunzip()
      const firstText = new Promise<string>((resolve) =>
        decompressor.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))),
      )
      const first = await firstChunk(response)
      // The producer ends when the test says so, or at the cap: only a compressor that waits for the end would reach it.
      t.equal(
        endedAt,
        null,
        `${encoding}: the first compressed chunk (${first.length} bytes) arrived while the stream was still being produced (${produced} of at most ${capBytes} bytes)`,
      )
      decompressor.write(first)
      t.match(await firstText, /^<urn:x:0> <urn:p> "/, 'it decompresses to the beginning of the stream')
      stopProducing = true
      const rest = await readAll(response)
      const whole = decompress(encoding, Buffer.concat([first, rest])).toString('utf8')
      t.equal(whole.length, endedAt, 'then the rest, the whole stream')
    }
  })

  await t.test(
    'the whole-catalog dump streams compressed: its first bytes arrive before its last datasets are read',
    async (t) => {
      // Enough datasets for many document reads (50 at a time), with text that does not compress away.
      const many = Array.from({ length: 600 }, (_, i) => ({
        name: `stream-${i}`,
        title: `Datensatz ${i}`,
        notes: randomBytes(6 * 1024).toString('base64'),
        owner_org: i % 2 ? 'marburg' : 'kassel',
      }))
      await insertDatasets(app, many)
      const visible = ((await api(app, 'package_search', { rows: 0 })).body.result as { count: number }).count
      t.ok(visible >= many.length)
      for (const encoding of ['br', 'gzip'] as const) {
        const before = backend.store.queryCount()
        const response = await get(base, '/catalog.ttl?page=all', { 'accept-encoding': encoding })
        t.equal(response.headers['content-encoding'], encoding)
        const first = await firstChunk(response)
        const atFirstChunk = backend.store.queryCount() - before
        const rest = await readAll(response)
        const total = backend.store.queryCount() - before
        t.ok(
          atFirstChunk < total,
          `${encoding}: ${atFirstChunk} of the dump's ${total} statements had run when the first compressed bytes arrived`,
        )
        const text = decompress(encoding, Buffer.concat([first, rest])).toString('utf8')
        const links = new Parser({ format: 'text/turtle' })
          .parse(text)
          .filter((q) => q.predicate.value === 'http://www.w3.org/ns/dcat#dataset')
        t.equal(links.length, visible, 'every public dataset is in the decompressed dump')
      }
    },
  )
})
