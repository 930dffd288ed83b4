/**
 * /api/stats/usage keeps to a privacy floor: searches without results appear only once made at least
 * USAGE_QUERY_MIN_COUNT times in the window and only when short; counts past USAGE_RETENTION_DAYS are deleted;
 * private datasets are never in the answer, whatever was counted for them.
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { linksDb } from '../../src/links/tables.js'

const DAY = 86_400_000
const day = (back: number) => new Date(Date.now() - back * DAY).toISOString().slice(0, 10)
const hash = (q: string) => createHash('sha256').update(q).digest('hex')

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
})
