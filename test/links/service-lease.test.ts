import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp, insertDatasets } from '../helpers/app.js'
import { startLinkScheduler } from '../../src/links/scheduler.js'
import pino from 'pino'
import { openStore } from '../../src/db/connect.js'
import { LinkChecker } from '../../src/links/checker.js'
import { makeDue, syncJobs } from '../../src/links/jobs.js'
import { acquireLease, releaseLease } from '../../src/links/lease.js'
import { linksDb, urlHash } from '../../src/links/tables.js'
import { startFixtureServer } from './fixture-server.js'
import { testLinkSettings } from './settings.js'

const HOUR = 3_600_000
const silent = pino({ level: 'silent' })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const settings = testLinkSettings

/** Runs `body` with this process's clock (Date.now) moved by `skewMs`: one app instance whose clock is off. */
async function withSkewedClock<T>(t: { teardown(fn: () => void): void }, skewMs: number, body: () => T): Promise<T> {
  const real = Date.now
  Date.now = () => real() + skewMs
  t.teardown(() => {
    Date.now = real
  })
  try {
    return await body()
  } finally {
    Date.now = real
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return
    await sleep(25)
  }
  throw new Error(`timed out waiting for ${what}`)
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const server = await startFixtureServer(t, { holdMs: 120 })
  const b = server.base
  const gated = [`${b}/gate/ahead`, `${b}/gate/behind`]
  const held = Array.from({ length: 10 }, (_, i) => `${b}/held/s${i}`)
  await insertDatasets(app, [
    {
      name: 'lease-gated',
      title: 'Gated',
      owner_org: 'marburg',
      resources: gated.map((url, i) => ({ name: `g${i}`, url, format: 'CSV' })),
    },
  ])
  const db = linksDb(app.store.db)
  const hits = (url: string) => server.hits.get(`HEAD ${new URL(url).pathname}`) ?? 0

  await t.test('service leases: one holder at a time, by the database clock, taken over once run out', async (t) => {
    t.ok(await acquireLease(app.store, 'test-task', 'A', 300), 'A takes the free lease')
    t.notOk(await acquireLease(app.store, 'test-task', 'B', 300), 'B does not while A holds it')
    t.notOk(
      await withSkewedClock(t, 2 * HOUR, () => acquireLease(app.store, 'test-task', 'B', 300)),
      'nor with its clock two hours ahead',
    )
    t.ok(await acquireLease(app.store, 'test-task', 'A', 300), 'A renews')
    await sleep(400)
    t.ok(await acquireLease(app.store, 'test-task', 'B', 60_000), 'B takes it over once it ran out')
    t.notOk(await acquireLease(app.store, 'test-task', 'A', 300), 'A has lost it')
    await releaseLease(app.store, 'test-task', 'A')
    t.notOk(await acquireLease(app.store, 'test-task', 'C', 300), "A's release does not free B's lease")
    await releaseLease(app.store, 'test-task', 'B')
    t.ok(await acquireLease(app.store, 'test-task', 'C', 300), "B's release frees it")
    await releaseLease(app.store, 'test-task', 'C')
  })

  for (const [label, skewA, skewB] of [
    ['the second clock two hours ahead', 0, 2 * HOUR],
    ['the first clock two hours behind', -2 * HOUR, 0],
  ] as const) {
    await t.test(`two instances with skewed clocks never check one URL at once (${label})`, async (t) => {
      const url = skewB ? gated[0]! : gated[1]!
      const hash = urlHash(url)
      await syncJobs(app.store)
      const other = await openStore(backend.config.database)
      t.teardown(() => other.close())
      const first = new LinkChecker(app.store, settings(), 'first')
      const second = new LinkChecker(other, settings(), 'second')
      const before = hits(url)
      // The first instance claims the job and its check hangs at the server (the gate is shut).
      const running = await withSkewedClock(t, skewA, async () => {
        await makeDue(app.store, [hash])
        const run = first.runDue({ among: [hash] })
        await until(() => hits(url) === before + 1, 'the first check to reach the server')
        return run
      })
      // The second instance, its clock `skewB` off, looks for due jobs meanwhile.
      const outcome = await withSkewedClock(t, skewB, async () => {
        const run = second.runDue({ among: [hash] })
        let done = false
        void run.then(() => (done = true))
        await until(() => done || hits(url) > before + 1, 'the second instance to finish or to check')
        return { run, concurrent: hits(url) > before + 1 }
      })
      server.openGates()
      const [a, c] = await Promise.all([running, outcome.run])
      t.notOk(outcome.concurrent, 'the second instance did not check the URL the first one holds')
      t.equal(server.maxInFlightPerPath(), 1, 'never two checks of one URL at once')
      t.equal(a.checked, 1, 'the first instance recorded its check')
      t.equal(c.checked, 0, 'the second found nothing due')
      const job = await db
        .selectFrom('link_check_job')
        .selectAll()
        .where('url_hash', '=', hash)
        .executeTakeFirstOrThrow()
      t.equal(job.claimed_by, null, 'released')
      t.ok(job.due_at > new Date().toISOString(), 'due again after the interval')
    })
  }

  await t.test(
    'with the scheduler on in two processes, one checks: the per-host limit holds for the service',
    async (t) => {
      await insertDatasets(app, [
        {
          name: 'lease-held',
          title: 'Held',
          owner_org: 'kassel',
          resources: held.map((url, i) => ({ name: `h${i}`, url, format: 'CSV' })),
        },
      ])
      await syncJobs(app.store)
      t.equal(server.maxInFlight(), 1, 'one request at a time so far')
      const other = await openStore(backend.config.database)
      t.teardown(() => other.close())
      // Small claims (2 jobs): without the service lease both processes would each check their own claims at once.
      const polite = settings({ scheduler: true, tickMs: 50, perHost: 1, concurrency: 4 })
      const x = startLinkScheduler(app.store, polite, silent, { batch: 2 })
      const y = startLinkScheduler(other, polite, silent, { batch: 2 })
      t.teardown(() => Promise.all([x.stop(), y.stop()]))
      await until(() => held.every((u) => hits(u) === 1), 'every held URL checked', 800)
      t.equal(server.maxInFlight(), 1, 'at most one check at once against the host, service-wide (per-host limit 1)')
      const lease = await db.selectFrom('service_lease').selectAll().where('name', '=', 'link-scheduler').execute()
      t.equal(lease.length, 1, 'one holder')
      // One process stops (the holder gives its lease up): the other goes on checking.
      await x.stop()
      await makeDue(app.store, [urlHash(held[0]!)])
      await until(() => hits(held[0]!) === 2, 'the remaining process to check')
      await y.stop()
      t.same(
        await db.selectFrom('service_lease').select('holder').where('name', '=', 'link-scheduler').execute(),
        [],
        'a stopping holder gives the lease up',
      )
      t.equal(server.maxInFlight(), 1)
    },
  )
})
