import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { openStore } from '../../src/db/connect.js'
import { HarvestJobs } from '../../src/harvest/jobs.js'
import { Harvester } from '../../src/harvest/harvester.js'
import { HarvestScheduler } from '../../src/harvest/scheduler.js'
import { harvestDb } from '../../src/harvest/tables.js'
import { addSource, harvestNow, localServer, testHarvestConfig } from './support.js'

/**
 * Jobs in the database: claimers on separate connections (as separate processes are) never claim one job
 * twice; an expired lease is failed, a renewed one is not; the scheduler queues due sources and runs them,
 * at most one job per source.
 */
await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const { base } = await localServer(t, (req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ success: true, result: { count: 0, results: [] } }))
  })
  const harvester = new Harvester(app.service, testHarvestConfig(backend.config))
  const sources: Array<{ id: string }> = []
  for (let i = 0; i < 4; i++)
    sources.push(
      await addSource(harvester, app, {
        name: `quelle-${i}`,
        type: 'ckan',
        url: `${base}/q${i}`,
        owner_org: 'marburg',
      }),
    )

  await t.test('eight claimers on their own connections: each job is claimed exactly once', async (t) => {
    const stores = await Promise.all(Array.from({ length: 8 }, () => openStore(backend.config.database)))
    t.teardown(() => Promise.all(stores.map((s) => s.close())))
    for (const source of sources) await harvester.jobs.createJob(source.id)
    const claims = await Promise.all(
      stores.map(async (store, i) => {
        const jobs = new HarvestJobs(store)
        const mine: string[] = []
        for (;;) {
          const job = await jobs.claim(`worker-${i}`, 60_000)
          if (!job) return mine
          mine.push(job.id)
        }
      }),
    )
    const all = claims.flat()
    t.equal(all.length, 4, 'four jobs claimed')
    t.equal(new Set(all).size, 4, 'none twice')
    const rows = await harvestDb(backend.store.db).selectFrom('harvest_job').select(['status', 'claimed_by']).execute()
    t.ok(
      rows.every((r) => r.status === 'running' && r.claimed_by),
      'all running, each with its claimer',
    )
  })

  await t.test(
    'an expired lease is failed; a renewed one is not; the job of a stale claimer cannot be finished by it',
    async (t) => {
      const jobs = harvester.jobs
      const db = harvestDb(backend.store.db)
      const [first, second] = await db
        .selectFrom('harvest_job')
        .select(['id', 'claimed_by'])
        .orderBy('id')
        .limit(2)
        .execute()
      // Leases in the past for the first one, by the database's own clock.
      await db
        .updateTable('harvest_job')
        .set({ lease_until: '2000-01-01T00:00:00.000000' })
        .where('id', '=', first.id)
        .execute()
      const renewed = await jobs.renew(second.id, second.claimed_by!, 60_000, {
        added: 0,
        updated: 0,
        unchanged: 0,
        withdrawn: 0,
        skipped: 0,
        failed: 0,
        pages: 0,
      })
      t.same(renewed, { ours: true, abort: false })
      t.equal(await jobs.failExpired(), 1)
      t.equal((await jobs.job(first.id))?.status, 'failed')
      t.equal((await jobs.job(second.id))?.status, 'running')
      const late = await jobs.finish(
        first.id,
        first.claimed_by!,
        'finished',
        { added: 0, updated: 0, unchanged: 0, withdrawn: 0, skipped: 0, failed: 0, pages: 0 },
        null,
      )
      t.equal(late, false, 'the process that lost its lease cannot finish the job any more')
      t.same(
        await jobs.renew(first.id, first.claimed_by!, 60_000, {
          added: 0,
          updated: 0,
          unchanged: 0,
          withdrawn: 0,
          skipped: 0,
          failed: 0,
          pages: 0,
        }),
        { ours: false, abort: false },
        'nor renew it',
      )
      await db
        .updateTable('harvest_job')
        .set({ status: 'aborted', active_source: null })
        .where('status', '=', 'running')
        .execute()
    },
  )

  await t.test('a named job whose row another connection holds is waited for, not skipped', async (t) => {
    if (backend.store.dialect !== 'mysql') {
      t.pass('MySQL/MariaDB only: SQLite has no row locks (one writer at a time)')
      return
    }
    // Another claimer's FOR UPDATE locks the index records it scans, rows of other jobs among them. A claim of
    // one named job (harvest_job_create, `godonu harvest run`) that skipped such a row found nothing at all.
    const job = await harvester.jobs.createJob(sources[0].id)
    const other = await openStore(backend.config.database)
    t.teardown(() => other.close())
    let release!: () => void
    let locked!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const holding = new Promise<void>((resolve) => (locked = resolve))
    const holder = other.db.transaction().execute(async (trx) => {
      await harvestDb(trx).selectFrom('harvest_job').select('id').where('id', '=', job.id).forUpdate().execute()
      locked()
      await gate
    })
    await holding
    // The claim's first step, failing expired leases, scans the table and would wait for the held row itself:
    // left out here, so that the claim's own select meets the lock.
    const claimer = new HarvestJobs(backend.store)
    claimer.failExpired = () => Promise.resolve(0)
    const claim = claimer.claim('wartend', 60_000, job.id)
    // Let the claim reach the row lock, then end the other transaction.
    await new Promise((resolve) => setTimeout(resolve, 200))
    release()
    await holder
    const claimed = await claim
    t.equal(claimed?.id, job.id, 'claimed once the other transaction ended')
    t.equal(claimed?.status, 'running')
    await harvestDb(backend.store.db)
      .updateTable('harvest_job')
      .set({ status: 'aborted', active_source: null })
      .where('id', '=', job.id)
      .execute()
  })

  await t.test('the scheduler queues due sources and runs them, one job per source', async (t) => {
    const scheduler = new HarvestScheduler(
      harvester,
      { info: () => {}, error: (obj) => t.fail(JSON.stringify(obj)) },
      3_600_000,
    )
    const db = harvestDb(backend.store.db)
    // Every source ran within its interval already (the jobs above): nothing is due.
    await scheduler.tick()
    t.equal(
      (await db.selectFrom('harvest_job').select('id').where('status', 'in', ['new', 'running']).execute()).length,
      0,
      'nothing due',
    )
    await db.updateTable('harvest_job').set({ created: '2000-01-01T00:00:00.000000' }).execute()
    await scheduler.tick()
    // The jobs run in the background: wait until none is running (a deadline ends the wait), then stop.
    const deadline = Date.now() + 30_000
    while (
      (await db.selectFrom('harvest_job').select('id').where('status', '=', 'running').execute()).length > 0 &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 100))
    await scheduler.stop()
    const latest = await db
      .selectFrom('harvest_job')
      .select(['source_id', 'status', 'full_run'])
      .where('created', '>', '2001')
      .execute()
    t.equal(latest.length, 4, 'one job per due source')
    t.equal(new Set(latest.map((j) => j.source_id)).size, 4)
    t.ok(
      latest.every((j) => j.status === 'finished' || j.status === 'new') && latest.some((j) => j.status === 'finished'),
      `run or waiting (${latest.map((j) => j.status).join(', ')})`,
    )
    t.ok(
      latest.every((j) => j.full_run === 1),
      'a CKAN source without a complete run gets one',
    )
  })

  await t.test('a stalled job whose lease was taken over writes nothing more (the lease fence)', async (t) => {
    let version = 'alt'
    let stalled: (() => void) | undefined
    let reachedStall: () => void = () => {}
    const stallReached = new Promise<void>((resolve) => (reachedStall = resolve))
    const { base: fenceBase } = await localServer(t, (req, res) => {
      const url = new URL(req.url!, 'http://x')
      const start = Number(url.searchParams.get('start'))
      const all = Array.from({ length: 4 }, (_, i) => ({
        id: `z${i}`,
        name: `zaun-${i}`,
        title: `${version} ${i}`,
        notes: 'Beschreibung',
        license_id: 'dl-by-de/2.0',
        resources: [{ url: `https://example.org/zaun/${i}.csv`, format: 'CSV' }],
      }))
      const body = JSON.stringify({ success: true, result: { count: 4, results: all.slice(start, start + 2) } })
      res.setHeader('content-type', 'application/json')
      // The first request of the second page stalls (as a process in a long GC pause or a cut network would).
      if (start === 2 && !stalled) {
        stalled = () => res.end(body)
        reachedStall()
        return
      }
      res.end(body)
    })
    const source = await addSource(harvester, app, {
      name: 'zaun',
      type: 'ckan',
      url: fenceBase,
      owner_org: 'marburg',
      config: { rows: 2 },
    })
    const first = new Harvester(app.service, testHarvestConfig(backend.config, { leaseMs: 600 }), { worker: 'erster' })
    // Its renewals never reach the database (the stalled process): its lease runs out.
    first.jobs.renew = () => Promise.resolve({ ours: true, abort: false })
    const firstRun = harvestNow(first, source.id)
    await stallReached
    const second = new Harvester(app.service, testHarvestConfig(backend.config), { worker: 'zweiter' })
    // The second waits for the first's lease to expire by the database's clock, fails that job, takes over.
    for (let i = 0; i < 600 && (await second.jobs.failExpired()) === 0; i++) await new Promise((r) => setTimeout(r, 50))
    version = 'neu'
    const secondResult = await harvestNow(second, source.id)
    t.equal(secondResult.status, 'finished', String(secondResult.error))
    t.equal(secondResult.counts.updated + secondResult.counts.added, 4)
    stalled!()
    const firstResult = await firstRun
    t.equal(firstResult.status, 'failed')
    t.match(firstResult.error, /lease/, 'the first job ends for its lost lease')
    const titles = await backend.store.db
      .selectFrom('package')
      .select(['name', 'title'])
      .where('name', 'like', 'zaun-%')
      .orderBy('name')
      .execute()
    t.same(
      titles.map((r) => r.title),
      ['neu 0', 'neu 1', 'neu 2', 'neu 3'],
      "the stalled job's later writes were refused: the taken-over run's data stands",
    )
    const objects = await harvestDb(backend.store.db)
      .selectFrom('harvest_object')
      .select('last_job_id')
      .where('source_id', '=', source.id)
      .execute()
    t.ok(
      objects.length === 4 && objects.every((o) => o.last_job_id === secondResult.job.id),
      "every harvest object is the second job's",
    )
    t.equal((await first.jobs.job(firstResult.job.id))?.status, 'failed')
  })
})
