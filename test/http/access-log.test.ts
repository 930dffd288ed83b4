/**
 * The access log: exactly one line per request at info (method, path without query, status, duration, CKAN
 * action), none of Fastify's own per-request lines, and never a token.
 */
import t from 'tap'
import { Readable, Writable } from 'node:stream'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets } from '../helpers/app.js'
import { SAMPLE_DATASETS } from '../helpers/datasets.js'
import { userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { buildApp } from '../../src/app.js'

interface LogLine {
  level: number
  msg: string
  reqId?: string
  method?: string
  path?: string
  status?: number
  ms?: number
  action?: string
  aborted?: boolean
  [key: string]: unknown
}

/** pino's output, kept as text (to search for secrets) and as parsed lines. */
class LogCapture extends Writable {
  text = ''
  private waiters: Array<{ test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = []

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString('utf8')
    for (const line of chunk
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogLine)) {
      this.waiters = this.waiters.filter((w) => (w.test(line) ? (w.resolve(line), false) : true))
    }
    callback()
  }

  lines(): LogLine[] {
    return this.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogLine)
  }

  /** Resolves with the first line (from now on) that passes the test. */
  next(test: (line: LogLine) => boolean): Promise<LogLine> {
    return new Promise((resolve) => this.waiters.push({ test, resolve }))
  }

  clear(): void {
    this.text = ''
  }
}

await forEachBackend(t, async (t, backend) => {
  const log = new LogCapture()
  const app = await buildApp(backend.config, { store: backend.store, logger: { level: 'info', stream: log } })
  t.teardown(() => app.fastify.close())
  // A text stream that never ends by itself (added before the app is ready).
  app.fastify.get('/test/endless', async (_request, reply) => {
    const stream = new Readable({
      read() {
        this.push('x'.repeat(64 * 1024))
      },
    })
    return reply.type('text/plain; charset=utf-8').send(stream)
  })
  const listenWithEndlessRoute = async () => {
    await app.fastify.listen({ host: '127.0.0.1', port: 0 })
    return `http://127.0.0.1:${(app.fastify.server.address() as AddressInfo).port}`
  }
  await app.fastify.ready()
  await insertDatasets(app, SAMPLE_DATASETS)
  const editor = await userWithToken(app, 'log-editor', { org: 'marburg', role: 'editor' })
  const token = editor.token!
  const requestLines = () => log.lines().filter((l) => l.msg === 'request')

  await t.test('one line per request, with method, path, status, duration and action', async (t) => {
    log.clear()
    const response = await app.fastify.inject({
      method: 'GET',
      url: '/api/3/action/package_show?id=baumkataster-marburg&secret=query-text',
    })
    t.equal(response.statusCode, 200)
    const lines = log.lines()
    t.equal(lines.length, 1, `exactly one line: ${log.text}`)
    const line = lines[0]
    t.equal(line.level, 30, 'at info')
    t.equal(line.msg, 'request')
    t.equal(line.method, 'GET')
    t.equal(line.path, '/api/3/action/package_show', 'the path without its query string')
    t.equal(line.status, 200)
    t.type(line.ms, 'number')
    t.ok(line.ms! >= 0)
    t.equal(line.action, 'package_show')
    t.ok(line.reqId, 'the request id')
    t.notMatch(log.text, /query-text/, 'nothing of the query string')
    t.notMatch(log.text, /incoming request|request completed/, "none of Fastify's own lines")
  })

  await t.test('the action under both prefixes, by GET and POST; none for other paths', async (t) => {
    log.clear()
    await app.fastify.inject({ method: 'POST', url: '/api/action/package_search', payload: { q: 'bäume' } })
    await app.fastify.inject({ method: 'GET', url: '/api/3/action/no_such_action' })
    await app.fastify.inject({ method: 'GET', url: '/catalog.ttl' })
    await app.fastify.inject({ method: 'GET', url: '/nowhere' })
    const lines = requestLines()
    t.equal(lines.length, 4, log.text)
    t.match(lines[0], { method: 'POST', path: '/api/action/package_search', status: 200, action: 'package_search' })
    t.match(lines[1], { method: 'GET', path: '/api/3/action/no_such_action', action: 'no_such_action' })
    t.ok(lines[1].status! >= 400)
    t.match(lines[2], { method: 'GET', path: '/catalog.ttl', status: 200 })
    t.equal(lines[2].action, undefined)
    t.match(lines[3], { path: '/nowhere', status: 404 })
  })

  await t.test('a token never reaches the log', async (t) => {
    log.clear()
    const created = await app.fastify.inject({
      method: 'POST',
      url: '/api/3/action/package_create',
      headers: { authorization: token },
      payload: validDataset('marburg', { name: 'log-dataset' }),
    })
    t.equal(created.statusCode, 200, created.body)
    await app.fastify.inject({
      method: 'POST',
      url: '/api/3/action/package_patch',
      headers: { authorization: `Bearer ${token}` },
      payload: { id: 'log-dataset', version: '2' },
    })
    await app.fastify.inject({
      method: 'GET',
      url: '/api/3/action/package_show?id=log-dataset',
      headers: { authorization: token },
    })
    // A token where no token belongs, and a broken one.
    await app.fastify.inject({ method: 'GET', url: `/api/3/action/package_show?id=log-dataset&api_key=${token}` })
    await app.fastify.inject({
      method: 'POST',
      url: '/api/3/action/package_patch',
      headers: { authorization: `${token}x` },
      payload: { id: 'log-dataset' },
    })
    await app.fastify.inject({ method: 'GET', url: `/dataset/${token}.ttl`, headers: { authorization: token } })
    // A new token in an answer.
    const issued = await app.fastify.inject({
      method: 'POST',
      url: '/api/3/action/api_token_create',
      headers: { authorization: token },
      payload: { user: 'log-editor', name: 'second' },
    })
    t.equal(issued.statusCode, 200, issued.body)
    const secondToken = (issued.json() as { result: { token: string } }).result.token
    t.equal(requestLines().length, 7, 'one line for each of the 7 requests')
    t.notOk(log.text.includes(token), 'the token is nowhere in the log')
    t.notOk(log.text.includes(secondToken), 'nor the token created')
    t.notMatch(log.text, /authorization/i, 'no Authorization header')
    t.ok(
      requestLines().some((l) => l.path === '/dataset/[token].ttl'),
      'a token in a path is replaced',
    )
  })

  await t.test('a streamed answer the client leaves half-way gets one line, marked aborted', async (t) => {
    const base = await listenWithEndlessRoute()
    log.clear()
    const lineOfStream = log.next((l) => l.msg === 'request' && l.path === '/test/endless')
    await new Promise<void>((resolve, reject) => {
      const req = request(`${base}/test/endless`, { agent: false }, (response) => {
        response.once('data', () => {
          req.destroy()
          resolve()
        })
      })
      req.once('error', reject)
      req.end()
    })
    const line = await lineOfStream
    t.equal(line.aborted, true, 'marked aborted')
    t.equal(line.status, 200)
    // No second line for it: the next line is the next request's.
    const next = log.next((l) => l.msg === 'request')
    await app.fastify.inject({ method: 'GET', url: '/healthz' })
    t.equal((await next).path, '/healthz')
    t.equal(requestLines().filter((l) => l.path === '/test/endless').length, 1, 'one line for the stream')
  })
})
