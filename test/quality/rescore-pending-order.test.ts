/**
 * rescorePending removes exactly the link_rescore_pending rows it read. On MySQL/MariaDB an auto-increment id is
 * handed out at insert, not at commit: a row with a smaller id can commit after a larger one was read, and a
 * range delete (`id <= last read`) would remove it without its datasets ever being rescored. Reproduced with
 * two connections; SQLite has one writer at a time, so the interleaving cannot happen there.
 */
import t from 'tap'
import { mysqlBackend, mysqlUrl } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { linksDb } from '../../src/links/tables.js'
import { rescorePending } from '../../src/quality/backfill.js'

const url = mysqlUrl()
if (!url) {
  t.comment('skipping: MySQL/MariaDB only (set DATABASE_URL); SQLite has one writer at a time')
  t.plan(0, 'MySQL/MariaDB only')
} else {
  await t.test('a pending row that commits after a larger id was read is kept for the next run', async (t) => {
    const backend = await mysqlBackend(url, {})
    t.teardown(() => backend.cleanup())
    const app = await startApp(t, backend)
    const db = linksDb(backend.store.db)
    const hash = (c: string) => c.repeat(64)

    let release!: () => void
    let inserted!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const holding = new Promise<void>((resolve) => (inserted = resolve))
    // Connection 1: inserts a row (its id is taken now) and commits only when the gate opens.
    const slow = backend.store.db.transaction().execute(async (trx) => {
      await linksDb(trx)
        .insertInto('link_rescore_pending')
        .values({ url_hash: hash('a') })
        .execute()
      inserted()
      await gate
    })
    await holding
    // Connection 2: a later row, committed at once.
    await db
      .insertInto('link_rescore_pending')
      .values({ url_hash: hash('b') })
      .execute()

    await rescorePending(app.service) // sees only the committed (larger) id
    release()
    await slow

    const left = await db.selectFrom('link_rescore_pending').select(['url_hash']).execute()
    t.same(
      left.map((r) => r.url_hash),
      [hash('a')],
      'the row committed late is still pending; the one read is gone',
    )
    await rescorePending(app.service)
    t.same(await db.selectFrom('link_rescore_pending').select('id').execute(), [], 'the next run takes it')
  })
}
