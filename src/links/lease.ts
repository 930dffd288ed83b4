import type { Store } from '../db/connect.js'
import { writeTransaction } from '../db/write.js'
import { databaseIso, isoPlus, linksDb } from './tables.js'

/**
 * A lease on a background task that one process of the whole service runs at a time (however many workers and
 * servers share the database): table `service_lease` (migrations/0015). Times are the DATABASE's clock, so
 * processes whose clocks disagree agree on when a lease ran out. A holder renews its lease well before it runs
 * out; a process that dies stops renewing and another takes the task over once the lease ran out.
 *
 * Returns whether `holder` holds the lease now (it did, or it was free or ran out), until now + `ms`.
 */
export async function acquireLease(store: Store, name: string, holder: string, ms: number): Promise<boolean> {
  return writeTransaction(store, async (trx) => {
    const db = linksDb(trx)
    const now = await databaseIso(trx)
    const until = isoPlus(now, ms)
    const taken = await db
      .updateTable('service_lease')
      .set({ holder, lease_until: until })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('holder', '=', holder), eb('lease_until', '<', now)]))
      .executeTakeFirst()
    if (Number(taken.numUpdatedRows) === 1) return true
    const inserted = await db
      .insertInto('service_lease')
      .values({ name, holder, lease_until: until })
      .$call((q) => (store.dialect === 'mysql' ? q.ignore() : q.onConflict((oc) => oc.column('name').doNothing())))
      .executeTakeFirst()
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1
  })
}

/** Gives a lease up (a holder stopping), so that another process need not wait for it to run out. */
export async function releaseLease(store: Store, name: string, holder: string): Promise<void> {
  await linksDb(store.db).deleteFrom('service_lease').where('name', '=', name).where('holder', '=', holder).execute()
}
