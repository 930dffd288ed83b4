/**
 * Each denial-of-service attack of issue 9 against a listening server (real sockets). What must hold,
 * without any wall-clock assertion: every attack, sent whole, is refused (413, 400, 431, or 408 / a closed
 * connection for a request that trickles in), and a status_show sent right after it is answered with a
 * 200: the worker serves on. How long that status_show took is reported (t.comment), not asserted: the
 * bound on the work an attack may cause is the refusal itself (the caps on keys, depth and time), and
 * speed is measured by `npm run bench`. The server's own timeouts are configured short so that the slow
 * requests are cut off soon.
 */
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { forEachBackend } from '../helpers/backends.js'
import { buildApp } from '../../src/app.js'

/** A hand-written HTTP/1.1 exchange on its own socket, so that a request can be sent byte by byte. */
class RawExchange {
  private readonly socket: Socket
  private received = Buffer.alloc(0)
  readonly closed: Promise<void>

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1')
    this.socket.on('data', (data: Buffer) => {
      this.received = Buffer.concat([this.received, data])
    })
    this.socket.on('error', () => {})
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()))
  }

  /** Resolves once the data has been handed to the operating system (or at once when the server closed). */
  write(data: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve()
      this.socket.write(data, () => resolve())
    })
  }

  get open(): boolean {
    return !this.socket.destroyed
  }

  /** The status and body once the server closed the connection (every request here says Connection: close). */
  async response(): Promise<{ status: number; body: string }> {
    await this.closed
    const text = this.received.toString('utf8')
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
    return { status, body: text.slice(text.indexOf('\r\n\r\n') + 4) }
  }

  destroy(): void {
    this.socket.destroy()
  }
}

/** status_show on a connection of its own: its status and how long it took to be answered in full. */
function statusShow(port: number): Promise<{ status: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const sentAt = performance.now()
    const req = httpRequest({ host: '127.0.0.1', port, path: '/api/3/action/status_show', agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - sentAt }))
    })
    req.on('error', reject)
    req.end()
  })
}

const ckanShaped = (body: string) => {
  try {
    const parsed = JSON.parse(body) as unknown
    if (typeof parsed === 'string') return parsed.startsWith('Bad request - ')
    const envelope = parsed as { success?: boolean; error?: { __type?: unknown } }
    return envelope.success === false && typeof envelope.error?.__type === 'string'
  } catch {
    return false
  }
}

interface Attack {
  label: string
  /** The whole request, headers and body. */
  request: string
  /** The statuses that refuse it. */
  statuses: number[]
  /** Whether the answer has a body in CKAN's shape. */
  ckan: boolean
}

function post(path: string, contentType: string, body: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
}

const get = (pathAndQuery: string) => `GET ${pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`

function attacks(): Attack[] {
  const formFields = Array.from({ length: 100_000 }, (_, i) => `k${i}=${i}`).join('&')
  const jsonKeys = JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])))
  const deep = `{"name": "x", "owner_org": "marburg", "resources": [{"url": "https://x.org", "extra": ${'['.repeat(3000)}${']'.repeat(3000)}}]}`
  const manyParams = Array.from({ length: 1500 }, (_, i) => `p${i}=1`).join('&')
  const hugeQuery = `q=${'x'.repeat(40_000)}`
  return [
    { label: 'form-100k', request: post('/api/3/action/site_read', 'application/x-www-form-urlencoded', formFields), statuses: [413], ckan: true },
    { label: 'json-deep-3000', request: post('/api/3/action/package_create', 'application/json', deep), statuses: [400], ckan: true },
    { label: 'json-keys-100k', request: post('/api/3/action/package_search', 'application/json', jsonKeys), statuses: [413], ckan: true },
    { label: 'query-many-params', request: get(`/api/3/action/package_search?${manyParams}`), statuses: [400], ckan: true },
    { label: 'query-huge', request: get(`/api/3/action/package_search?${hugeQuery}`), statuses: [431], ckan: false },
  ]
}

await forEachBackend(t, async (t, backend) => {
  // Short enough that the trickling client below is cut off within a second or two.
  const config = { ...backend.config, requestTimeoutMs: 1000 }
  const app = await buildApp(config, { store: backend.store, logger: false })
  t.teardown(() => app.fastify.close())
  await app.fastify.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.fastify.server.address() as AddressInfo
  const ms = (value: number) => `${value.toFixed(1)} ms`

  for (const attack of attacks()) {
    await t.test(attack.label, async (t) => {
      const exchange = new RawExchange(port)
      t.teardown(() => exchange.destroy())
      const sentAt = performance.now()
      await exchange.write(attack.request)
      // Sent as soon as the whole attack is on its way: the server may be working on the attack meanwhile.
      const [status, attackAnswer] = await Promise.all([statusShow(port), exchange.response()])
      const attackMs = performance.now() - sentAt
      t.ok(attack.statuses.includes(attackAnswer.status), `the attack is refused with ${attack.statuses.join(' or ')} (got ${attackAnswer.status}: ${attackAnswer.body.slice(0, 160)})`)
      if (attack.ckan) t.ok(ckanShaped(attackAnswer.body), `in CKAN's shape: ${attackAnswer.body.slice(0, 120)}`)
      t.equal(status.status, 200, 'status_show sent right after the attack is answered')
      t.comment(`${attack.label} (${Buffer.byteLength(attack.request)} bytes): status_show answered in ${ms(status.ms)}, the attack's connection closed after ${ms(attackMs)}`)
      t.equal((await statusShow(port)).status, 200, 'and the worker serves on')
    })
  }

  for (const part of ['body', 'headers'] as const) {
    await t.test(`a request whose ${part === 'body' ? 'body trickles' : 'headers trickle'} in is cut off`, async (t) => {
      const exchange = new RawExchange(port)
      t.teardown(() => exchange.destroy())
      const head = 'POST /api/3/action/site_read HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n'
      const trickle = part === 'body' ? '{"a": "' + 'x'.repeat(1000) : 'X-Slow: ' + 'y'.repeat(1000)
      await exchange.write(part === 'body' ? `${head}\r\n` : head)
      let sent = 0
      let status: Promise<{ status: number; ms: number; whileOpen: boolean }> | undefined
      // One byte at a time, for as long as the server keeps the connection: far longer than it allows.
      while (exchange.open && sent < trickle.length) {
        await exchange.write(trickle[sent++]!)
        // Not awaited: the slow request goes on trickling while status_show is on its way.
        if (sent === 3) status = statusShow(port).then((answer) => ({ ...answer, whileOpen: exchange.open }))
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const { status: slowStatus } = await exchange.response()
      t.ok(sent < trickle.length, `the server closed the connection after ${sent} of ${trickle.length} bytes`)
      t.ok(slowStatus === 0 || slowStatus === 408, `no answer or 408 Request Timeout (got ${slowStatus})`)
      const answer = await status!
      t.equal(answer.status, 200, 'status_show sent while the slow request was in flight is answered')
      t.comment(`slow ${part}: status_show answered in ${ms(answer.ms)}${answer.whileOpen ? ', while the slow request was still open' : ', after the slow request was cut off'}`)
      t.equal((await statusShow(port)).status, 200, 'and the worker serves on')
    })
  }
})
