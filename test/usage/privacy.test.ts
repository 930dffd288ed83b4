/**
 * /api/stats/usage keeps to a privacy floor: searches without results appear only once made at least
 * USAGE_QUERY_MIN_COUNT times in the window and only when short; counts past USAGE_RETENTION_DAYS are deleted;
 * private datasets are never in the answer, whatever was counted for them. Counting stores and logs nothing
 * personal: no client address, cookie, token or user agent in the log lines or the usage tables.
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { loggerOptions } from '../../src/logging.js'
import { linksDb } from '../../src/links/tables.js'
import { userWithToken } from '../helpers/users.js'

const DAY = 86_400_000
const day = (back: number) => new Date(Date.now() - back * DAY).toISOString().slice(0, 10)
const hash = (q: string) => createHash('sha256').update(q).digest('hex')

/** The log lines an app writes, as text. */
class LogCapture extends Writable {
  text = ''
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString('utf8')
    callback()
  }
  lines(): Array<Record<string, unknown>> {
    return this.text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  }
}

/** Every key and every plain value of a parsed log line, nested ones too. */
function entriesOf(value: unknown, out: { keys: string[]; values: unknown[] } = { keys: [], values: [] }) {
  if (value && typeof value === 'object')
    for (const [key, inner] of Object.entries(value)) {
      out.keys.push(key)
      entriesOf(inner, out)
    }
  else out.values.push(value)
  return out
}

/** A request over a real socket (so that the server sees a client address and port); status and the client's port. */
function send(base: string, path: string, headers: Record<string, string>): Promise<{ status: number; port: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers, agent: false }, (res) => {
      res.resume()
      res.once('end', () => resolve({ status: res.statusCode ?? 0, port }))
    })
    let port = 0
    req.once('socket', (socket) => socket.once('connect', () => (port = socket.localPort ?? 0)))
    req.once('error', reject)
    req.end()
  })
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const db = linksDb(backend.store.db)
  const long = `mein name ist ${'x'.repeat(120)}`
  const searches: Array<[string, number, number]> = [
    ['einmal gesucht', 0, 1],
    ['zweimal gesucht', 0, 1],
    ['zweimal gesucht', 1, 1],
    ['dreimal gesucht', 0, 1],
    ['dreimal gesucht', 2, 2],
    ['<b>"oft"</b> \u00e4', 0, 7],
    [long, 0, 9],
  ]
  await db
    .insertInto('usage_zero_result_search')
    .values(searches.map(([query, back, count]) => ({ day: day(back), query_hash: hash(query), query, count })))
    .execute()

  await t.test('searches without results: only from USAGE_QUERY_MIN_COUNT on, and only short ones', async (t) => {
    t.equal(loadConfig({}).usageQueryMinCount, 3, 'the default floor')
    t.equal(loadConfig({ USAGE_QUERY_MIN_COUNT: '5' }).usageQueryMinCount, 5)
    const report = (await app.fastify.inject({ url: '/api/stats/usage?days=30' })).json()
    t.same(report.zero_result_searches, [
      { query: '<b>"oft"</b> \u00e4', count: 7 },
      { query: 'dreimal gesucht', count: 3 },
    ])
    const narrow = (await app.fastify.inject({ url: '/api/stats/usage?days=2' })).json()
    t.same(narrow.zero_result_searches, [{ query: '<b>"oft"</b> \u00e4', count: 7 }], 'counted within the window')
    const open = await buildApp({ ...backend.config, usageQueryMinCount: 1 }, { store: backend.store, logger: false })
    t.teardown(() => open.fastify.close())
    const all = (await open.fastify.inject({ url: '/api/stats/usage?days=30' })).json()
    t.same(
      all.zero_result_searches.map((s: { query: string }) => s.query),
      ['<b>"oft"</b> \u00e4', 'dreimal gesucht', 'zweimal gesucht', 'einmal gesucht'],
      'configurable; a long query text is never shown',
    )
    await open.fastify.close()
  })

  await t.test('private datasets are never in the usage answer, whatever was counted for them', async (t) => {
    const [hidden, shown] = await insertDatasets(app, [
      {
        name: 'privacy-hidden',
        title: 'Geheimer Titel',
        owner_org: 'giessen',
        private: true,
        resources: [{ name: 'r', url: 'https://intern.example/geheim.csv', format: 'CSV' }],
      },
      {
        name: 'privacy-shown',
        title: 'Offen',
        owner_org: 'kassel',
        resources: [{ name: 'r', url: 'https://example.org/offen.csv', format: 'CSV' }],
      },
    ])
    const giessen = app.service.reference.organization('giessen')!.id
    const kassel = app.service.reference.organization('kassel')!.id
    // As if counted while it was public (or written by an older version).
    await db
      .insertInto('usage_daily')
      .values([
        { day: day(0), package_id: hidden!, owner_org: giessen, kind: 'view_api', count: 50 },
        { day: day(1), package_id: hidden!, owner_org: giessen, kind: 'download', count: 9 },
        { day: day(0), package_id: shown!, owner_org: kassel, kind: 'view_api', count: 2 },
      ])
      .execute()
    const res = await app.fastify.inject({ url: '/api/stats/usage?days=30' })
    const report = res.json()
    t.notMatch(res.body, /privacy-hidden|Geheimer|intern\.example/, 'nothing of the private dataset')
    t.notOk(
      report.datasets.some((d: { id: string }) => d.id === hidden),
      'not among the datasets',
    )
    t.ok(report.datasets.some((d: { id: string }) => d.id === shown))
    t.notOk(
      report.kommunen.some((k: { name: string }) => k.name === 'giessen'),
      'its Kommune has no public usage',
    )
    t.equal(report.totals.view_api, 2, 'not in the totals')
    t.equal(report.totals.download, 0)
    t.same(
      report.per_day.map((d: { view_api: number; download: number }) => d.view_api + d.download),
      [2],
      'nor in the days',
    )
    const own = (await app.fastify.inject({ url: '/api/stats/usage?org=giessen' })).json()
    t.same(own.totals, { view_api: 0, view_rdf: 0, download: 0, harvester_visit: 0 })
    t.same(own.datasets, [])
    t.same(own.per_day, [])
  })

  await t.test('USAGE_RETENTION_DAYS: older rows are deleted at a flush', async (t) => {
    t.equal(loadConfig({}).usageRetentionDays, 400, 'the default retention')
    await db
      .insertInto('usage_daily')
      .values([
        { day: day(401), package_id: '', owner_org: '', kind: 'harvester_visit', count: 1 },
        { day: day(399), package_id: '', owner_org: '', kind: 'harvester_visit', count: 1 },
      ])
      .execute()
    await db
      .insertInto('usage_zero_result_search')
      .values([
        { day: day(401), query_hash: hash('alt'), query: 'alt', count: 5 },
        { day: day(399), query_hash: hash('neu'), query: 'neu', count: 5 },
      ])
      .execute()
    // A process started now flushes (here: on close) and deletes what is past the retention.
    const fresh = await buildApp(backend.config, { store: backend.store, logger: false })
    await fresh.fastify.close()
    const days = (await db.selectFrom('usage_daily').select('day').where('package_id', '=', '').execute()).map(
      (r) => r.day,
    )
    t.notOk(days.includes(day(401)), 'a count of 401 days ago is gone')
    t.ok(days.includes(day(399)), 'one of 399 days ago stays')
    const queries = (await db.selectFrom('usage_zero_result_search').select('query').execute()).map((r) => r.query)
    t.notOk(queries.includes('alt'))
    t.ok(queries.includes('neu'))
  })

  await t.test(
    'no client address, cookie, token or user agent in the log lines (LOG_LEVEL=info) or the usage rows',
    async (t) => {
      t.equal(loadConfig({}).logLevel, 'info', 'the default level')
      const log = new LogCapture()
      // The service's own logger options (level, redaction), writing here instead of to stdout.
      const logged = await buildApp(backend.config, {
        store: backend.store,
        logger: { ...loggerOptions({ logLevel: 'info', logFormat: 'json' }), stream: log },
      })
      t.teardown(() => logged.fastify.close())
      await logged.fastify.listen({ host: '127.0.0.1', port: 0 })
      const base = `http://127.0.0.1:${(logged.fastify.server.address() as AddressInfo).port}`
      log.text = '' // from here on: the lines the requests make (not the server's own listening address)
      const [id] = await insertDatasets(logged, [
        {
          name: 'privacy-logged',
          title: 'Protokolliert',
          owner_org: 'marburg',
          resources: [
            {
              name: 'r',
              url: 'https://example.org/logged.csv',
              download_url: 'https://example.org/dl.csv',
              format: 'CSV',
            },
          ],
        },
      ])
      const rid = (await db.selectFrom('resource').select('id').where('package_id', '=', id).executeTakeFirstOrThrow())
        .id
      const token = (await userWithToken(logged, 'privacy-log-user', { org: 'marburg', role: 'editor' })).token!
      const forwarded = '198.51.100.77'
      const secrets = {
        'x-forwarded-for': `${forwarded}, 203.0.113.9`,
        'x-real-ip': '192.0.2.55',
        cookie: 'session=cookie-secret-4711; tracking=track-me-0815',
        authorization: token,
      }
      const browser = 'Mozilla/5.0 (X11; Linux x86_64) Privacy-Browser/42'
      const harvester = 'ckanext-harvest/1.0 (+https://harvester.example/privacy)'
      const requests: Array<[string, string, number]> = [
        ['/api/3/action/package_show?id=privacy-logged', browser, 200],
        [`/dataset/privacy-logged/resource/${rid}/download`, browser, 302],
        ['/api/3/action/package_search?q=' + encodeURIComponent('findet garantiert nichts'), browser, 200],
        ['/api/3/action/package_search?q=', browser, 200],
        ['/api/3/action/package_show?id=privacy-logged', harvester, 200],
        ['/api/3/action/package_search?q=protokolliert', harvester, 200],
        ['/catalog.ttl', harvester, 200],
      ]
      const ports: number[] = []
      for (const [path, agent, status] of requests) {
        const answer = await send(base, path, { ...secrets, 'user-agent': agent })
        t.equal(answer.status, status, path)
        ports.push(answer.port)
      }
      await logged.fastify.usage!.flush()
      // Every access line is written (onResponse runs once the answer is out: wait for the lines).
      for (let i = 0; i < 200 && log.lines().filter((l) => l.msg === 'request').length < requests.length; i++)
        await new Promise((resolve) => setTimeout(resolve, 10))
      const lines = log.lines()
      t.equal(lines.filter((l) => l.msg === 'request').length, requests.length, 'one access line per request')
      t.ok(lines.length > 0)

      const personal = [
        forwarded,
        '203.0.113.9',
        '192.0.2.55',
        '127.0.0.1', // the client's own address (loopback)
        'cookie-secret-4711',
        'track-me-0815',
        token,
        token.split('.')[0], // the token's id part alone
        'Privacy-Browser',
        'harvester.example',
      ]
      for (const text of personal) t.notOk(log.text.includes(text), `the log holds no ${text}`)
      const keys = new Set(lines.flatMap((line) => entriesOf(line).keys))
      for (const key of ['remoteAddress', 'remotePort', 'ip', 'ips', 'req', 'headers', 'cookie', 'authorization'])
        t.notOk(keys.has(key), `no log line has a ${key}`)
      const portsLogged = lines.flatMap((line) => entriesOf(line).values.filter((v) => ports.includes(v as number)))
      t.same(portsLogged, [], `no client port (${ports.join(', ')}) in any line`)

      const tables = {
        usage_daily: ['count', 'day', 'kind', 'owner_org', 'package_id'],
        usage_zero_result_search: ['count', 'day', 'query', 'query_hash'],
        usage_state: ['id', 'version'],
      } as const
      for (const [table, columns] of Object.entries(tables)) {
        const rows = (await db
          .selectFrom(table as keyof typeof tables)
          .selectAll()
          .execute()) as Array<Record<string, unknown>>
        t.ok(rows.length > 0, `${table} has rows`)
        t.same(Object.keys(rows[0]).sort(), columns, `${table} has no column but its counts`)
        const dump = JSON.stringify(rows)
        for (const text of personal) t.notOk(dump.includes(text), `${table} holds no ${text}`)
      }
      const counted = await db.selectFrom('usage_daily').selectAll().where('package_id', '=', id).execute()
      t.same(
        counted.map((r) => [r.kind, Number(r.count)]).sort(),
        [
          ['download', 1],
          ['harvester_visit', 1],
          ['view_api', 1],
        ],
        'the requests were counted (so the rows above are the ones they made)',
      )
      const zero = await db.selectFrom('usage_zero_result_search').select('query').execute()
      t.ok(
        zero.some((r) => r.query === 'findet garantiert nichts'),
        'the search without results was counted',
      )
    },
  )
})
