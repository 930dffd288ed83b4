import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/types.js'

/** What a write changed, for caches: some datasets (by id and name), the organizations and groups, or anything. */
export type CatalogChange = { kind: 'datasets'; keys: string[] } | { kind: 'reference' } | { kind: 'all' }

/**
 * The change feed appends one row per write, in the write's own transaction, so a change is in the feed
 * exactly when it is committed. Rows are numbered by the database (AUTO_INCREMENT / INTEGER PRIMARY KEY),
 * never by a clock: servers whose clocks disagree still agree on the feed.
 */
export function appendChange(db: Kysely<Database>, change: CatalogChange) {
  return db.insertInto('change_feed').values({ kind: change.kind, keys: JSON.stringify(change.kind === 'datasets' ? [...new Set(change.keys)] : []) })
}

/** Rows kept in the feed; a process further behind than this reloads everything (see ChangeFeedTailer). */
export const FEED_RETENTION = 100_000

/** Rows read per poll; a fuller answer is followed by another poll at once. */
const BATCH = 1000

/**
 * A sequence number below the newest one read that has not shown up yet belongs to a transaction still
 * running (numbers are taken at insert, rows become visible at commit, so commits can arrive out of
 * order) or to one that rolled back. It is asked for again on every poll for this long (a local duration
 * on this process's monotonic clock, not a comparison of timestamps), then given up as rolled back: a
 * write's transaction is a few statements long and MySQL's lock waits end after 50 s, so a commit this
 * late does not happen (a transaction held open by hand for minutes would be missed).
 */
const GAP_PATIENCE_MS = 120_000
/** More open gaps than this (a burst of rollbacks, a jump of the sequence): all are given up and the process reloads. */
const MAX_GAPS = 10_000

/** How far below the newest change a starting process looks for transactions still running (see ChangeFeedTailer.mark). */
const START_WINDOW = 1000

export interface TailerOptions {
  pollMs: number
  /** Applies changes (in feed order) to this process's caches. */
  apply(changes: CatalogChange[]): Promise<void>
  /** Called when the process cannot know what it missed: drop and reload everything. */
  reloadAll(): Promise<void>
  onError(err: unknown): void
  /** Monotonic milliseconds (tests inject their own). */
  now?: () => number
}

/**
 * Tails the change feed: one index-range query every `pollMs` (the rows after the newest one read, plus
 * the open gaps), and applies each row once. Complete even when transactions commit out of sequence
 * order: a lower number that appears after a higher one was read is still applied (see GAP_PATIENCE_MS).
 */
export class ChangeFeedTailer {
  /** The newest sequence number read. */
  private high = 0
  /** Numbers below `high` not seen yet, with when they were first missed. */
  private readonly gaps = new Map<number, number>()
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private stopped = false
  private readonly now: () => number
  /** Polls that found something: for tests and diagnosis. */
  applied = 0

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: TailerOptions,
  ) {
    this.now = options.now ?? (() => performance.now())
  }

  private marked = false

  /**
   * Takes the position to follow from: the newest change, plus, as open gaps, the numbers of the last
   * START_WINDOW that are not visible yet (transactions that took their number and have not committed, or
   * rolled back). What is visible now is committed before this process reads its data, as long as it reads
   * it after this call (CatalogService.markChangeFeed, before the reference data is read): none of it is
   * applied again. (Applying it again, as this once did, cost every worker a second full load of its search
   * index right after the first, which the first searches waited for.)
   */
  async mark(): Promise<void> {
    const now = this.now()
    const pruned = await sql<{ below: number | string }>`select below from change_feed_pruned where id = 1`.execute(this.db)
    const below = Number(pruned.rows[0]?.below ?? 0)
    // One statement: the newest number and the numbers present below it, from one snapshot.
    const result = await sql<{ seq: number | string }>`select f.seq from change_feed f where f.seq > (select coalesce(max(seq), 0) from change_feed) - ${START_WINDOW} order by f.seq`.execute(this.db)
    const present = new Set(result.rows.map((r) => Number(r.seq)))
    // Not below what was pruned: the rows there are gone, and nothing there can still commit.
    this.high = Math.max(0, below - 1, ...(result.rows.length ? [Number(result.rows.at(-1)!.seq)] : []))
    this.gaps.clear()
    for (let seq = Math.max(0, this.high - START_WINDOW, below - 1) + 1; seq < this.high; seq++) if (!present.has(seq)) this.gaps.set(seq, now)
    this.marked = true
  }

  private started = false

  /** Follows the feed from the position of mark() (taken now unless it was taken before); once. */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    if (!this.marked) await this.mark()
    // The gaps of the mark are waited for from now: a slow start must not give them up before the first poll asks.
    const now = this.now()
    for (const seq of this.gaps.keys()) this.gaps.set(seq, now)
    this.schedule()
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = null
      void this.pollNow().finally(() => this.schedule())
    }, this.options.pollMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running
  }

  /** One poll (more while full batches come back); concurrent callers share it. */
  pollNow(): Promise<void> {
    this.running ??= this.drain()
      .catch((err: unknown) => this.options.onError(err))
      .finally(() => (this.running = null))
    return this.running
  }

  private async drain(): Promise<void> {
    for (;;) {
      const count = await this.pollOnce()
      if (count < BATCH || this.stopped) return
    }
  }

  private async pollOnce(): Promise<number> {
    const now = this.now()
    for (const [seq, since] of this.gaps) if (now - since > GAP_PATIENCE_MS) this.gaps.delete(seq)
    const gaps = [...this.gaps.keys()]
    const open = gaps.length ? sql` or f.seq in (${sql.join(gaps)})` : sql``
    const result = await sql<{ seq: number | string; kind: string; keys: string; pruned_below: number | string }>`select f.seq, f.kind, f.${sql.ref('keys')}, (select below from change_feed_pruned where id = 1) as pruned_below from change_feed f where f.seq > ${this.high}${open} order by f.seq limit ${BATCH}`.execute(this.db)
    const rows = result.rows
    if (rows.length === 0) return 0
    if (Number(rows[0]!.pruned_below) > this.high + 1) {
      // Rows this process never read were removed: it cannot know what changed.
      this.high = Number(rows.at(-1)!.seq)
      this.gaps.clear()
      await this.options.reloadAll()
      this.applied++
      return rows.length
    }
    const changes: CatalogChange[] = []
    let overflow = false
    for (const row of rows) {
      const seq = Number(row.seq)
      if (seq <= this.high) {
        if (!this.gaps.delete(seq)) continue
      } else {
        // A jump larger than the gaps can hold (an operator moved AUTO_INCREMENT, a burst of rollbacks): what
        // fell in it cannot be waited for one by one, so everything is reloaded instead.
        if (seq - this.high - 1 + this.gaps.size > MAX_GAPS) overflow = true
        else for (let missing = this.high + 1; missing < seq; missing++) this.gaps.set(missing, now)
        this.high = seq
      }
      changes.push(toChange(row.kind, row.keys))
    }
    if (overflow) {
      this.gaps.clear()
      await this.options.reloadAll()
      this.applied++
      return rows.length
    }
    if (changes.length) {
      await this.options.apply(changes)
      this.applied++
    }
    return rows.length
  }

  /** Open gaps (for tests): numbers below the newest read that have not shown up yet. */
  openGaps(): number[] {
    return [...this.gaps.keys()]
  }
}

function toChange(kind: string, keys: string): CatalogChange {
  if (kind === 'datasets') return { kind, keys: JSON.parse(keys) as string[] }
  if (kind === 'reference') return { kind }
  return { kind: 'all' }
}

/** Merges a batch of changes into as few as apply them all (one 'all' covers everything). */
export function mergeChanges(changes: CatalogChange[]): CatalogChange[] {
  if (changes.some((c) => c.kind === 'all')) return [{ kind: 'all' }]
  const keys = new Set<string>()
  let reference = false
  for (const change of changes) {
    if (change.kind === 'datasets') for (const key of change.keys) keys.add(key)
    else reference = true
  }
  const merged: CatalogChange[] = []
  if (reference) merged.push({ kind: 'reference' })
  if (keys.size) merged.push({ kind: 'datasets', keys: [...keys] })
  return merged
}

/**
 * Removes feed rows older than the retention, and records up to where, in one transaction. Any process may
 * call it; running it twice at once does no harm.
 */
export async function pruneChangeFeed(db: Kysely<Database>, retention = FEED_RETENTION): Promise<void> {
  const row = await sql<{ seq: number | string | null }>`select max(seq) as seq from change_feed`.execute(db)
  const below = Number(row.rows[0]?.seq ?? 0) - retention
  if (below <= 0) return
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('change_feed').where('seq', '<', below).execute()
    await trx.updateTable('change_feed_pruned').set({ below }).where('id', '=', 1).where('below', '<', below).execute()
  })
}
