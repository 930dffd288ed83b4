import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startTwoServices } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import type { App } from '../../src/app.js'
import type { UsageReport } from '../../src/usage/report.js'

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) Test/1'

const report = async (app: App, query = 'days=30') => {
  const res = await app.fastify.inject({ method: 'GET', url: `/api/stats/usage?${query}` })
  if (res.statusCode !== 200) throw new Error(`usage report: ${res.statusCode} ${res.body}`)
  return res.json<UsageReport>()
}
const view = async (app: App, name: string, times: number) => {
  for (let i = 0; i < times; i++) {
    const res = await app.fastify.inject({
      method: 'GET',
      url: `/api/3/action/package_show?id=${name}`,
      headers: { 'user-agent': BROWSER },
    })
    if (res.statusCode !== 200) throw new Error(`package_show: ${res.statusCode}`)
  }
}
const views = (r: UsageReport, name: string) => r.datasets.find((d) => d.name === name)?.view_api ?? 0

await forEachBackend(t, async (t, backend) => {
  // An hour between polls of the change feed: server A learns of B's writes only through what the cache reads.
  const [a, b] = await startTwoServices(t, backend, { changePollMs: 3_600_000 })
  await insertDatasets(a, [
    { name: 'cache-marburg', title: 'Cache Marburg', notes: 'Beschreibung', owner_org: 'marburg' },
    { name: 'cache-kassel', title: 'Cache Kassel', owner_org: 'kassel' },
  ])
  await b.service.catchUpChangeFeed()
  const cache = a.fastify.usageReports

  await t.test("server A's cached report shows server B's flushed counts at the next request", async (t) => {
    const first = await report(a)
    const computed = cache.computed
    t.same(await report(a), first, 'the same report again')
    t.equal(cache.computed, computed, 'answered from the cache: no new scan without a flush')

    await view(b, 'cache-marburg', 3)
    t.same(await report(a), first, 'counts still in B only (not flushed): unchanged')
    await b.fastify.usage!.flush()
    const second = await report(a)
    t.equal(cache.computed, computed + 1, 'computed again once B flushed')
    t.equal(views(second, 'cache-marburg') - views(first, 'cache-marburg'), 3, "B's three views")
    t.equal(second.totals.view_api - first.totals.view_api, 3)
    t.same(await report(a), second)
    t.equal(cache.computed, computed + 1, 'cached again')

    const kassel = await report(a, 'org=kassel&days=30')
    t.equal(kassel.organization, 'kassel', 'another window is another entry')
    t.same(await report(a), second, 'the first window stays cached')
  })

  await t.test("with A's clock six hours ahead and stopped, B's flushes still reach A's report", async (t) => {
    const frozen = Date.now() + 6 * 3_600_000
    cache.clock = () => frozen
    t.teardown(() => {
      cache.clock = () => Date.now()
    })
    const before = await report(a)
    for (let round = 1; round <= 2; round++) {
      await view(b, 'cache-kassel', round)
      await b.fastify.usage!.flush()
      const after = await report(a)
      t.equal(views(after, 'cache-kassel') - views(before, 'cache-kassel'), round === 1 ? 1 : 3, `round ${round}`)
    }
  })

  await t.test('a dataset made private on B leaves A’s cached report at once', async (t) => {
    const listed = await report(a)
    t.ok(views(listed, 'cache-marburg') > 0, 'listed while public')
    const admin = await userWithToken(b, 'cache-admin', { sysadmin: true })
    const patched = await call(b, admin, 'package_patch', { id: 'cache-marburg', private: true })
    t.equal(patched.status, 200, JSON.stringify(patched.body))
    const hidden = await report(a)
    t.notOk(
      hidden.datasets.some((d) => d.name === 'cache-marburg'),
      'not listed: A has not polled the feed, the newest change number moved',
    )
    t.notMatch(JSON.stringify(hidden), /Cache Marburg/)
    t.equal(
      hidden.totals.view_api,
      listed.totals.view_api - views(listed, 'cache-marburg'),
      'its counts left the totals',
    )
  })
})
