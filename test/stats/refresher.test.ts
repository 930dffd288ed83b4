import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { startStatsRefresher } from '../../src/stats/routes.js'
import type { App } from '../../src/app.js'

/** Polls until `check` holds (a bound against hanging, not a timing assertion). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await check()) return
    await sleep(50)
  }
  throw new Error(`timed out waiting until ${what}`)
}

const marburgDatasets = async (app: App): Promise<number | null> => {
  const r = await app.fastify.inject({ method: 'GET', url: '/api/stats/kommunen' })
  if (r.statusCode !== 200) return null
  return (r.json().kommunen as Array<{ name: string; datasets: number }>).find((k) => k.name === 'marburg')!.datasets
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)

  await t.test('STATS_REFRESH_MS: off and 0 start nothing; a bad value is refused', async (t) => {
    startStatsRefresher(app.fastify, { STATS_REFRESH_MS: 'off' })
    startStatsRefresher(app.fastify, { STATS_REFRESH_MS: '0' })
    t.equal(app.fastify.stats.started, false)
    for (const bad of ['5s', '-1', '1.5', '99', '<script>'])
      t.throws(() => startStatsRefresher(app.fastify, { STATS_REFRESH_MS: bad }), /STATS_REFRESH_MS/, bad)
    t.equal(app.fastify.stats.started, false)
    t.equal((await app.fastify.inject({ method: 'GET', url: '/api/stats/kommunen' })).statusCode, 503)
  })

  await t.test('the refresher computes the aggregates and takes in writes, with no request computing', async (t) => {
    startStatsRefresher(app.fastify, { STATS_REFRESH_MS: '100' })
    t.equal(app.fastify.stats.started, true)
    const r = await app.fastify.inject({ method: 'GET', url: '/api/stats/kommunen/marburg' })
    t.ok(r.statusCode === 503 || r.statusCode === 200, 'no error while the first refresh runs')
    if (r.statusCode === 503) t.equal(r.headers['retry-after'], '1', 'the interval rounded up to a second')
    await until(async () => (await marburgDatasets(app)) !== null, 'the first refresh is stored')
    const before = (await marburgDatasets(app))!
    const admin = await userWithToken(app, 'refresher-admin', { org: 'marburg', role: 'admin' })
    const created = await call(app, admin, 'package_create', validDataset('marburg', { name: 'refresher-one' }))
    t.equal(created.status, 200)
    await until(async () => (await marburgDatasets(app)) === before + 1, 'the write is reflected')
    t.pass('the write is reflected by the refresher')
    const sysadmin = await userWithToken(app, 'refresher-sysadmin', { sysadmin: true })
    t.equal((await call(app, sysadmin, 'package_delete', { id: 'refresher-one' })).status, 200)
    await until(async () => (await marburgDatasets(app)) === before, 'the deletion is reflected')
    await app.fastify.stats.stop()
    t.equal(app.fastify.stats.started, false, 'stopped')
  })
})
