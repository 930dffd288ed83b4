/**
 * The per-Kommune day row on MySQL/MariaDB (commit 8969ed7): a write of day D+1 starts its Kommune's row from
 * the newest earlier row with a locking read, so a concurrent write of day D that has changed day D's row but
 * not yet committed is waited for and counted. Reproduced with two connections: the write of day D held open
 * (uncommitted) while the write of day D+1 starts its row. With a plain (consistent) read the D+1 row misses
 * the day-D write for good. SQLite runs one writer at a time: the interleaving cannot happen there.
 */
import t from 'tap'
import { sql } from 'kysely'
import { mysqlBackend, mysqlUrl } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { qualityDb } from '../../src/quality/recorder.js'
import type { PackageDict } from '../../src/dcat/mapping.js'

const url = mysqlUrl()
if (!url) {
  t.comment('skipping: MySQL/MariaDB only (set DATABASE_URL); SQLite has one writer at a time')
  t.plan(0, 'MySQL/MariaDB only')
} else {
  await t.test('an uncommitted write of day D is in the day D+1 row a concurrent write starts', async (t) => {
    const backend = await mysqlBackend(url, {})
    t.teardown(() => backend.cleanup())
    const app = await startApp(t, backend)
    const db = qualityDb(backend.store.db)
    const [first, second] = await insertDatasets(app, [
      {
        name: 'rollover-a',
        title: 'Tag D',
        owner_org: 'marburg',
        resources: [{ name: 'r', url: 'https://example.org/a.csv', format: 'CSV' }],
      },
      {
        name: 'rollover-b',
        title: 'Tag D+1',
        owner_org: 'marburg',
        license_id: 'dl-by-de/2.0',
        resources: [{ name: 'r', url: 'https://example.org/b.csv', format: 'CSV' }],
      },
    ])
    const marburg = app.service.reference.organization('marburg')!.id
    const dicts = (await app.service.packageDicts([first!, second!], sql`1 = 1`)) as PackageDict[]
    const write = (id: string, now: string) => ({
      id,
      owner_org: marburg,
      visible: 1,
      now,
      compliance: 'unchecked' as const,
    })
    const dayD = '2031-03-01'
    const dayNext = '2031-03-02'

    let held!: () => void
    let started!: () => void
    const gate = new Promise<void>((resolve) => (held = resolve))
    const wrote = new Promise<void>((resolve) => (started = resolve))
    // Connection 1: the write of day D, left uncommitted until the gate opens.
    const writeD = backend.store.db.transaction().execute(async (trx) => {
      await app.service.quality.recordWrite(trx, dicts[0]!, write(first!, `${dayD}T23:59:59.000000`))
      started()
      await gate
    })
    await wrote
    // Connection 2: the write of day D+1 starts its Kommune's row meanwhile.
    let nextDone = false
    const writeNext = backend.store.db
      .transaction()
      .execute((trx) => app.service.quality.recordWrite(trx, dicts[1]!, write(second!, `${dayNext}T00:00:01.000000`)))
      .finally(() => (nextDone = true))
    // Wait until the D+1 write waits for a lock (the fix) or has finished (a plain read does not wait).
    let waited = false
    for (let i = 0; i < 200 && !nextDone && !waited; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25))
      const row = await sql<{
        n: number | string
      }>`select count(*) as n from information_schema.innodb_trx where trx_state = 'LOCK WAIT'`.execute(
        backend.store.db,
      )
      waited = Number(row.rows[0]?.n ?? 0) > 0
    }
    held()
    await Promise.all([writeD, writeNext])
    t.ok(waited, 'the D+1 write waited for the uncommitted write of day D')

    const rows = await db
      .selectFrom('quality_history_org')
      .selectAll()
      .where('owner_org', '=', marburg)
      .where('day', 'in', [dayD, dayNext])
      .orderBy('day')
      .execute()
    const scores = await db
      .selectFrom('package_quality')
      .select(['package_id', 'score_portal'])
      .where('package_id', 'in', [first!, second!])
      .execute()
    const score = (id: string) => Number(scores.find((s) => s.package_id === id)!.score_portal)
    t.same(
      rows.map((r) => r.day),
      [dayD, dayNext],
    )
    const [d, next] = rows
    t.equal(Number(d!.dataset_count), 1, 'day D: the first write')
    t.equal(Number(next!.dataset_count), 2, 'day D+1 counts the write of day D too')
    t.equal(Number(next!.score_portal_sum), score(first!) + score(second!), 'and its points')
    t.equal(Number(next!.mean_portal), Math.round(((score(first!) + score(second!)) / 2) * 100) / 100)
  })
}
