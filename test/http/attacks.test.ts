/**
 * Each denial-of-service attack of issue 9 against a listening server (real sockets): the attack gets a
 * 4xx (or, for a body that trickles in, its connection is closed), and a status_show sent while the attack
 * is in flight is answered before the attack completes. Orderings only, no wall-clock assertions: the
 * server's own timeouts are configured short so that the slow body is cut off soon.
 */
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { forEachBackend } from '../helpers/backends.js'
import { buildApp } from '../../src/app.js'

/** A hand-written HTTP/1.1 exchange on its own socket, so that a request can be sent in parts. */
class RawExchange {
  private readonly socket: Socket
  private received = Buffer.alloc(0)
  readonly closed: Promise<void>
  completedAt = -1

  constructor(port: number, order: string[], label: string) {
    this.socket = connect(port, '127.0.0.1')
    this.socket.on('data', (data: Buffer) => {
      this.received = Buffer.concat([this.received, data])
    })
    this.socket.on('error', () => {})
    this.closed = new Promise((resolve) =>
      this.socket.on('close', () => {
        order.push(label)
        resolve()
      }),
    )
  }

  get answered(): boolean {
    return this.received.length > 0
  }

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

function statusShow(port: number, order: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/api/3/action/status_show', agent: false }, (res) => {
      res.resume()
      res.on('end', () => {
        order.push('status_show')
        resolve(res.statusCode ?? 0)
      })
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
  /** The request up to the point where it pauses (headers included), and the rest. */
  first: string
  rest: string
  /** Whether the server sees the request begin (its headers complete) before the rest is sent. */
  headersComplete: boolean
  /** Statuses it may get; [] when no answer at all (a closed connection) also passes. */
  statuses: number[]
  /** Whether the answer has a body in CKAN's shape. */
  ckan: boolean
}

function post(path: string, contentType: string, body: string, label: string): Pick<Attack, 'first' | 'rest'> {
  const bytes = Buffer.byteLength(body)
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Attack: ${label}\r\nContent-Type: ${contentType}\r\nContent-Length: ${bytes}\r\n\r\n`
  const cut = body.length - 10
  return { first: head + body.slice(0, cut), rest: body.slice(cut) }
}

function attacks(): Attack[] {
  const formFields = Array.from({ length: 100_000 }, (_, i) => `k${i}=${i}`).join('&')
  const jsonKeys = JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])))
  const deep = `{"name": "x", "owner_org": "marburg", "resources": [{"url": "https://x.org", "extra": ${'['.repeat(3000)}${']'.repeat(3000)}}]}`
  const manyParams = Array.from({ length: 1500 }, (_, i) => `p${i}=1`).join('&')
  const hugeQuery = `q=${'x'.repeat(40_000)}`
  return [
    { label: 'form-100k', ...post('/api/3/action/site_read', 'application/x-www-form-urlencoded', formFields, 'form-100k'), headersComplete: true, statuses: [413], ckan: true },
    { label: 'json-deep-3000', ...post('/api/3/action/package_create', 'application/json', deep, 'json-deep-3000'), headersComplete: true, statuses: [400], ckan: true },
    { label: 'json-keys-100k', ...post('/api/3/action/package_search', 'application/json', jsonKeys, 'json-keys-100k'), headersComplete: true, statuses: [413], ckan: true },
    {
      label: 'query-many-params',
      first: `GET /api/3/action/package_search?${manyParams.slice(0, 5000)}`,
      rest: `${manyParams.slice(5000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Attack: query-many-params\r\n\r\n`,
      headersComplete: false,
      statuses: [400],
      ckan: true,
    },
    {
      label: 'query-huge',
      first: `GET /api/3/action/package_search?${hugeQuery.slice(0, 8000)}`,
      rest: `${hugeQuery.slice(8000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      headersComplete: false,
      statuses: [431],
      ckan: false,
    },
  ]
}

await forEachBackend(t, async (t, backend) => {
  // Short enough that the trickling client below is cut off within a second or two.
  const config = { ...backend.config, requestTimeoutMs: 1000 }
  const app = await buildApp(config, { store: backend.store, logger: false })
  t.teardown(() => app.fastify.close())
  const begun = new Set<string>()
  app.fastify.addHook('onRequest', async (request) => {
    const label = request.headers['x-attack']
    if (typeof label === 'string') begun.add(label)
  })
  await app.fastify.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.fastify.server.address() as AddressInfo

  const untilBegun = async (label: string) => {
    while (!begun.has(label)) await new Promise((resolve) => setTimeout(resolve, 5))
  }

  for (const attack of attacks()) {
    await t.test(attack.label, async (t) => {
      const order: string[] = []
      const exchange = new RawExchange(port, order, 'attack')
      t.teardown(() => exchange.destroy())
      await exchange.write(attack.first)
      if (attack.headersComplete) await untilBegun(attack.label)
      t.equal(await statusShow(port, order), 200, 'status_show is answered while the attack is in flight')
      t.notOk(exchange.answered, 'the attack has no answer yet')
      await exchange.write(attack.rest)
      const { status, body } = await exchange.response()
      t.same(order, ['status_show', 'attack'], 'status_show completed before the attack')
      t.ok(attack.statuses.includes(status), `the attack got ${status}`)
      if (attack.ckan) t.ok(ckanShaped(body), `in CKAN's shape: ${body.slice(0, 120)}`)
      t.equal(await statusShow(port, []), 200, 'and the worker serves on')
    })
  }

  for (const part of ['body', 'headers'] as const) {
    await t.test(`a request whose ${part} trickles in is cut off`, async (t) => {
      const order: string[] = []
      const exchange = new RawExchange(port, order, 'attack')
      t.teardown(() => exchange.destroy())
      const head = 'POST /api/3/action/site_read HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Attack: slow\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n'
      const trickle = part === 'body' ? '{"a": "' + 'x'.repeat(1000) : 'X-Slow: ' + 'y'.repeat(1000)
      await exchange.write(part === 'body' ? `${head}\r\n` : head)
      let sent = 0
      let statusSent = false
      // One byte at a time, for as long as the server keeps the connection: far longer than it allows.
      while (exchange.open && sent < trickle.length) {
        await exchange.write(trickle[sent++]!)
        if (!statusSent && sent === 3) {
          statusSent = true
          t.equal(await statusShow(port, order), 200, 'status_show is answered while the slow request is in flight')
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const { status } = await exchange.response()
      t.ok(sent < trickle.length, `the server closed the connection after ${sent} of ${trickle.length} bytes`)
      t.ok(status === 0 || status === 408, `no answer or 408 Request Timeout (got ${status})`)
      t.same(order, ['status_show', 'attack'], 'status_show completed before the slow request ended')
    })
  }
})
