import t from 'tap'
import { sql } from 'kysely'
import { forEachBackend } from '../helpers/backends.js'
import { openStore } from '../../src/db/connect.js'
import { appendChange, ChangeFeedTailer, pruneChangeFeed, type CatalogChange } from '../../src/catalog/change-feed.js'

/** A tailer that records what it applies; polled by hand (its timer is far in the future). */
async function recordingTailer(db: Parameters<typeof appendChange>[0], clock = { now: 0 }) {
  const applied: CatalogChange[] = []
  let reloads = 0
  const tailer = new ChangeFeedTailer(db, {
    pollMs: 3_600_000,
    apply: async (changes) => {
      applied.push(...changes)
    },
    reloadAll: async () => {
      reloads++
    },
    onError: (err) => {
      throw err
    },
    now: () => clock.now,
  })
  await tailer.start()
  return { tailer, applied, reloads: () => reloads }
}

const keysOf = (changes: CatalogChange[]) => changes.flatMap((c) => (c.kind === 'datasets' ? c.keys : [c.kind]))

await forEachBackend(t, async (t, backend) => {
  const db = backend.store.db

  await t.test('applies every committed change once, in feed order', async (t) => {
    const { tailer, applied } = await recordingTailer(db)
    await appendChange(db, { kind: 'datasets', keys: ['a', 'a-name'] }).execute()
    await appendChange(db, { kind: 'reference' }).execute()
    await tailer.pollNow()
    t.same(keysOf(applied), ['a', 'a-name', 'reference'])
    await tailer.pollNow()
    t.same(keysOf(applied), ['a', 'a-name', 'reference'], 'a second poll applies nothing again')
    await tailer.stop()
  })

  await t.test('a starting process applies none of what is committed before it starts, not even a reload', async (t) => {
    await appendChange(db, { kind: 'all' }).execute()
    await appendChange(db, { kind: 'datasets', keys: ['before-start'] }).execute()
    await appendChange(db, { kind: 'reference' }).execute()
    const { tailer, applied, reloads } = await recordingTailer(db)
    await tailer.pollNow()
    t.same(keysOf(applied), [], 'the changes before the start are in what the process reads after it: none is applied')
    t.equal(reloads(), 0, 'no reload')
    t.same(tailer.openGaps(), [], 'no gap: every number is visible')
    await appendChange(db, { kind: 'datasets', keys: ['after-start'] }).execute()
    await tailer.pollNow()
    t.same(keysOf(applied), ['after-start'], 'a change after the start is applied')
    await tailer.stop()
  })

  await t.test('a transaction that took its number before the start and commits after it is applied', async (t) => {
    if (backend.name === 'mysql') {
      const slow = await openStore(backend.config.database)
      try {
        await slow.db.connection().execute(async (conn) => {
          await sql`begin`.execute(conn)
          await appendChange(conn, { kind: 'datasets', keys: ['in-flight'] }).execute()
          await appendChange(db, { kind: 'datasets', keys: ['committed'] }).execute()
          const { tailer, applied } = await recordingTailer(db)
          t.equal(tailer.openGaps().length, 1, "the running transaction's number is an open gap from the start")
          await sql`commit`.execute(conn)
          await tailer.pollNow()
          t.same(keysOf(applied), ['in-flight'], 'its change is applied once it commits; the one committed before the start is not')
          t.same(tailer.openGaps(), [], 'and the gap is closed')
          await tailer.stop()
        })
      } finally {
        await slow.close()
      }
    } else {
      // SQLite writes one transaction at a time; the same interleaving, with the numbers given explicitly.
      const max = Number((await sql<{ seq: number }>`select max(seq) as seq from change_feed`.execute(db)).rows[0]!.seq ?? 0)
      await db.insertInto('change_feed').values({ seq: max + 2, kind: 'datasets', keys: JSON.stringify(['committed']) }).execute()
      const { tailer, applied } = await recordingTailer(db)
      t.same(tailer.openGaps(), [max + 1], 'the missing number is an open gap from the start')
      await db.insertInto('change_feed').values({ seq: max + 1, kind: 'datasets', keys: JSON.stringify(['in-flight']) }).execute()
      await tailer.pollNow()
      t.same(keysOf(applied), ['in-flight'], 'its change is applied once it commits; the one committed before the start is not')
      t.same(tailer.openGaps(), [], 'and the gap is closed')
      await tailer.stop()
    }
  })

  await t.test('the gaps of a start are waited for from the start, however long the set-up after the mark took', async (t) => {
    const max = Number((await sql<{ seq: number }>`select max(seq) as seq from change_feed`.execute(db)).rows[0]!.seq ?? 0)
    await db.insertInto('change_feed').values({ seq: max + 2, kind: 'datasets', keys: JSON.stringify(['committed']) }).execute()
    const clock = { now: 0 }
    const applied: CatalogChange[] = []
    const tailer = new ChangeFeedTailer(db, {
      pollMs: 3_600_000,
      apply: async (changes) => {
        applied.push(...changes)
      },
      reloadAll: async () => undefined,
      onError: (err) => {
        throw err
      },
      now: () => clock.now,
    })
    await tailer.mark()
    clock.now += 10 * 60_000 // a set-up slower than the gaps' patience (two minutes)
    await tailer.start()
    await db.insertInto('change_feed').values({ seq: max + 1, kind: 'datasets', keys: JSON.stringify(['late']) }).execute()
    await tailer.pollNow()
    t.same(keysOf(applied), ['late'], 'the number missing at the mark is still asked for after the start')
    await tailer.stop()
  })

  await t.test('a lower sequence number that commits after a higher one was read is still applied', async (t) => {
    const { tailer, applied } = await recordingTailer(db)
    await tailer.pollNow()
    applied.length = 0
    if (backend.name === 'mysql') {
      // Two connections: the first takes its number, the second takes the next one and commits first.
      const slow = await openStore(backend.config.database)
      try {
        await slow.db.connection().execute(async (conn) => {
          await sql`begin`.execute(conn)
          await appendChange(conn, { kind: 'datasets', keys: ['slow'] }).execute()
          await appendChange(db, { kind: 'datasets', keys: ['fast'] }).execute()
          await tailer.pollNow()
          t.same(keysOf(applied), ['fast'], 'the later number, committed first, is applied')
          t.equal(tailer.openGaps().length, 1, 'the lower number is an open gap')
          await sql`commit`.execute(conn)
        })
      } finally {
        await slow.close()
      }
    } else {
      // SQLite writes one transaction at a time; the same interleaving, with the numbers given explicitly.
      const max = Number((await sql<{ seq: number }>`select max(seq) as seq from change_feed`.execute(db)).rows[0]!.seq ?? 0)
      await db.insertInto('change_feed').values({ seq: max + 2, kind: 'datasets', keys: JSON.stringify(['fast']) }).execute()
      await tailer.pollNow()
      t.same(keysOf(applied), ['fast'])
      t.same(tailer.openGaps(), [max + 1], 'the lower number is an open gap')
      await db.insertInto('change_feed').values({ seq: max + 1, kind: 'datasets', keys: JSON.stringify(['slow']) }).execute()
    }
    await tailer.pollNow()
    t.same(keysOf(applied), ['fast', 'slow'], 'the late commit is applied on the next poll')
    t.same(tailer.openGaps(), [], 'and the gap is closed')
    await tailer.stop()
  })

  await t.test('a gap that never fills (a rollback) is given up after a while, on the monotonic clock', async (t) => {
    const clock = { now: 0 }
    const { tailer, applied } = await recordingTailer(db, clock)
    await tailer.pollNow()
    applied.length = 0
    const max = Number((await sql<{ seq: number }>`select max(seq) as seq from change_feed`.execute(db)).rows[0]!.seq ?? 0)
    await db.insertInto('change_feed').values({ seq: max + 3, kind: 'datasets', keys: JSON.stringify(['after-rollback']) }).execute()
    await tailer.pollNow()
    t.same(tailer.openGaps().sort(), [max + 1, max + 2])
    clock.now += 60_000
    await tailer.pollNow()
    t.equal(tailer.openGaps().length, 2, 'still asked for within the patience')
    clock.now += 120_000
    await tailer.pollNow()
    t.same(tailer.openGaps(), [], 'given up afterwards')
    t.same(keysOf(applied), ['after-rollback'])
    await tailer.stop()
  })

  await t.test('a jump of the sequence larger than the gaps can hold reloads everything', async (t) => {
    const { tailer, applied, reloads } = await recordingTailer(db)
    await tailer.pollNow()
    applied.length = 0
    const max = Number((await sql<{ seq: number }>`select max(seq) as seq from change_feed`.execute(db)).rows[0]!.seq ?? 0)
    await db.insertInto('change_feed').values({ seq: max + 50_000, kind: 'datasets', keys: JSON.stringify(['far']) }).execute()
    await tailer.pollNow()
    t.equal(reloads(), 1, 'reloaded instead of waiting for 50,000 numbers')
    t.same(tailer.openGaps(), [])
    await appendChange(db, { kind: 'datasets', keys: ['next'] }).execute()
    await tailer.pollNow()
    t.same(keysOf(applied), ['next'], 'and it goes on after the jump')
    await tailer.stop()
  })

  await t.test('a process that fell behind the retention reloads everything', async (t) => {
    const { tailer, applied, reloads } = await recordingTailer(db)
    await tailer.pollNow()
    applied.length = 0
    for (let i = 0; i < 5; i++) await appendChange(db, { kind: 'datasets', keys: [`k${i}`] }).execute()
    await pruneChangeFeed(db, 2)
    await tailer.pollNow()
    t.equal(reloads(), 1, 'rows it never read were pruned: reload')
    t.same(applied, [], 'nothing applied piecemeal')
    await appendChange(db, { kind: 'datasets', keys: ['next'] }).execute()
    await tailer.pollNow()
    t.same(keysOf(applied), ['next'], 'and it goes on from the newest row')
    t.equal(reloads(), 1)
    await tailer.stop()
  })

  await t.test('a process that is not behind is not made to reload by pruning', async (t) => {
    const { tailer, reloads } = await recordingTailer(db)
    await tailer.pollNow()
    await pruneChangeFeed(db, 1)
    await appendChange(db, { kind: 'datasets', keys: ['x'] }).execute()
    await tailer.pollNow()
    t.equal(reloads(), 0)
    await tailer.stop()
  })
})
