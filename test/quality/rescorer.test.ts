/**
 * The background rescorer (quality/rescorer.ts) over a large Kommune: its run takes many write transactions
 * (BATCH datasets each), longer than its lease on a real catalog. The lease is renewed after every batch, so no
 * second process starts the same work; a run whose lease was taken over stops after the batch in flight; stop()
 * (a server closing) does not wait for the whole run. A stopped run leaves the markers whose datasets were not
 * all rescored in org_rescore_pending, and the next run finishes them.
 *
 * Between batches is seen through the change feed: every batch's transaction ends with applyRemoteChange on this
 * service (quality/backfill.ts writeScores), which the test wraps (the feed's poll, which applies changes too, is
 * off). A batch outlasting the lease is simulated by
 * moving the lease row's expiry into the past (the database's clock decides, links/lease.ts), not by waiting.
 */
import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { BATCH, rescorePending, scoreUnscored } from '../../src/quality/backfill.js'
import { qualityDb } from '../../src/quality/recorder.js'
import { RESCORER_LEASE, rescoreUnderLease, startRescorer } from '../../src/quality/rescorer.js'
import { acquireLease, releaseLease } from '../../src/links/lease.js'
import { linksDb } from '../../src/links/tables.js'
import type { CatalogChange } from '../../src/catalog/change-feed.js'

const BIG = 'marburg'
const SMALL = 'fulda'
/** Three batches. */
const BIG_COUNT = 2 * BATCH + 10
const PAST = '2000-01-01T00:00:00.000Z'
const LEASE_MS = 60_000

await forEachBackend(t, async (t, backend) => {
  // The change feed is read only when the test says so (an hour's poll): every change applied during a run is then
  // a batch of the run, none a poll's.
  const app = await startApp(t, { ...backend, config: { ...backend.config, changePollMs: 3_600_000 } })
  const service = app.service
  const qdb = qualityDb(backend.store.db)
  const ldb = linksDb(backend.store.db)
  const orgId = (name: string) => service.reference.organization(name)!.id
  const big = orgId(BIG)
  const small = orgId(SMALL)

  await insertDatasets(app, [
    { name: 'rescorer-small', title: 'Klein', owner_org: SMALL },
    ...Array.from({ length: BIG_COUNT }, (_, i) => ({
      name: `rescorer-big-${String(i).padStart(4, '0')}`,
      title: `Groß ${i}`,
      owner_org: BIG,
    })),
  ])
  t.equal(await scoreUnscored(service), BIG_COUNT + 1)

  // Every batch of a rescore ends here (its change, applied to this service): counted, and `onBatch` told.
  let batches = 0
  let onBatch: (batch: number) => Promise<void> = async () => {}
  const apply = service.applyRemoteChange.bind(service)
  service.applyRemoteChange = async (change: CatalogChange) => {
    await apply(change)
    if (change.kind === 'datasets') await onBatch(++batches)
  }
  const queue = async (...orgs: string[]) => {
    for (const owner_org of orgs) await qdb.insertInto('org_rescore_pending').values({ owner_org }).execute()
    batches = 0
    onBatch = async () => {}
  }
  const pending = async () =>
    (await qdb.selectFrom('org_rescore_pending').select('owner_org').orderBy('id').execute()).map((r) => r.owner_org)
  const lease = () =>
    ldb
      .selectFrom('service_lease')
      .select(['holder', 'lease_until'])
      .where('name', '=', RESCORER_LEASE)
      .executeTakeFirst()
  const expire = () =>
    ldb.updateTable('service_lease').set({ lease_until: PAST }).where('name', '=', RESCORER_LEASE).execute()

  await t.test('a long run renews its lease after every batch: no second holder gets it meanwhile', async (t) => {
    await queue(big)
    let seen: { holder: string; lease_until: string } | undefined
    let secondGotIt: boolean | undefined
    onBatch = async (batch) => {
      // The first batch took longer than the lease ...
      if (batch === 1) await expire()
      // ... yet after the second the lease is this run's again, and another process cannot take it.
      if (batch === 2) {
        seen = await lease()
        secondGotIt = await acquireLease(backend.store, RESCORER_LEASE, 'rescorer-second', LEASE_MS)
      }
    }
    const run = await rescoreUnderLease(service, { holder: 'rescorer-first', leaseMs: LEASE_MS })
    t.same(run, { holding: true, lost: false, rescored: BIG_COUNT }, 'the whole Kommune')
    t.equal(batches, 3)
    t.equal(seen?.holder, 'rescorer-first')
    t.ok(seen && seen.lease_until > PAST, 'the expiry moved on: renewed after the batch')
    t.equal(secondGotIt, false, 'a second process does not get the lease mid-run')
    t.same(await pending(), [], 'handled')
    await releaseLease(backend.store, RESCORER_LEASE, 'rescorer-first')
  })

  await t.test('a run whose lease was taken over stops after the batch in flight', async (t) => {
    await queue(small, big)
    onBatch = async (batch) => {
      // The small Kommune's batch, then the big one's first: meanwhile the lease ran out and another took it.
      if (batch === 2) {
        await expire()
        t.ok(await acquireLease(backend.store, RESCORER_LEASE, 'rescorer-second', LEASE_MS), 'taken over')
      }
    }
    const run = await rescoreUnderLease(service, { holder: 'rescorer-first', leaseMs: LEASE_MS })
    t.same(run, { holding: false, lost: true, rescored: 1 + BATCH }, 'stopped after the batch in flight')
    t.equal(batches, 2, 'no batch after the renewal failed')
    t.equal((await lease())?.holder, 'rescorer-second', "the new holder's lease is left alone")
    t.same(await pending(), [big], "the small Kommune is done; the big one's marker stays")
    await releaseLease(backend.store, RESCORER_LEASE, 'rescorer-second')

    onBatch = async () => {}
    t.equal(await rescorePending(service), BIG_COUNT, 'the next run rescores the Kommune')
    t.same(await pending(), [], 'and removes its marker')
  })

  await t.test('stop() ends the run after the batch in flight; the rest stays pending', async (t) => {
    await queue(small, big)
    let stopping: Promise<void> | undefined
    let stopped!: () => void
    const reached = new Promise<void>((resolve) => (stopped = resolve))
    // The rescorer's wait does not keep the process alive (unreferenced): this does, until the run stopped.
    const alive = setInterval(() => {}, 1000)
    t.teardown(() => clearInterval(alive))
    const rescorer = startRescorer(service, 1, app.fastify.log, { holder: 'rescorer-closing', leaseMs: LEASE_MS })
    onBatch = async (batch) => {
      if (batch === 2) {
        // As a server closing does; not awaited here, inside the run it waits for.
        stopping = rescorer.stop()
        stopped()
      }
    }
    await reached
    await stopping
    t.equal(batches, 2, 'no batch after stop()')
    t.same(await pending(), [big], "the small Kommune is done; the big one's marker stays")
    t.equal(await lease(), undefined, 'the lease is given up')

    onBatch = async () => {}
    t.equal(await rescorePending(service), BIG_COUNT, 'a later run rescores the Kommune')
    t.same(await pending(), [], 'and removes its marker')
  })

  await t.test('a run stopped before it starts handles nothing and removes no marker', async (t) => {
    await queue(small)
    await ldb
      .insertInto('link_rescore_pending')
      .values({ url_hash: 'c'.repeat(64) })
      .execute()
    const stopped = AbortSignal.abort()
    t.equal(await rescorePending(service, { signal: stopped }), 0)
    t.equal(batches, 0)
    t.same(await pending(), [small])
    t.equal((await ldb.selectFrom('link_rescore_pending').select('id').execute()).length, 1)
    t.equal(await rescorePending(service), 1)
    t.same(await pending(), [])
    t.same(await ldb.selectFrom('link_rescore_pending').select('id').execute(), [])
  })
})
