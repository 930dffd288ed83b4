import { createHash } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Store } from '../db/connect.js'
import { writeTransaction } from '../db/write.js'
import { databaseIso, linksDb, type LinksDatabase } from '../links/tables.js'
import { isHarvester } from './harvesters.js'
import { normaliseQuery } from './normalise.js'

export const USAGE_KINDS = ['view_api', 'view_rdf', 'download', 'harvester_visit'] as const
export type UsageKind = (typeof USAGE_KINDS)[number]

/** Distinct keys held between two flushes; increments of further keys are dropped (and the loss logged). */
export const MAX_PENDING_KEYS = 100_000
/** How often a process deletes usage rows past the retention (at a flush). */
const PRUNE_EVERY_MS = 3_600_000
/** Rows per INSERT of a flush. */
const FLUSH_BATCH = 500

declare module 'fastify' {
  interface FastifyInstance {
    /** The usage counter of this process (absent with USAGE_COUNTING=off). */
    usage?: UsageCounter
  }
}

/** What the counter looks at of a request: its method and (to tell harvesters) its User-Agent, nothing kept. */
export type CountedRequest = Pick<FastifyRequest, 'method' | 'headers'>

/** The usage counter of the process that answers `request`, if counting is on. */
export function usageOf(request: FastifyRequest): UsageCounter | undefined {
  return request.server.usage
}

/**
 * Counts how the catalog is used, in memory, and adds the counts to the database in batches, off the
 * request path (every USAGE_FLUSH_MS and when the server closes). Counting is a map increment; nothing
 * about the caller (address, cookie, token, user agent) is kept: the user agent only decides, while the
 * request is answered, whether a visit is a harvester's.
 *
 * Several processes or servers each flush their own increments with an additive upsert
 * (count = count + n), so nothing is lost or counted twice. A flush takes the pending counts away first;
 * if it fails they are put back and go with the next one. Which datasets count is decided at the flush:
 * only the ones that are public then (visible = 1); views of private, draft or deleted datasets are dropped,
 * and a dataset's Kommune is the one it has then.
 */
export class UsageCounter {
  /** `day \t package_id \t owner_org \t kind` -> count; package_id '' for visits of no one dataset. */
  private pending = new Map<string, number>()
  /** `day \t query` -> count. */
  private zero = new Map<string, number>()
  private dropped = 0
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> = Promise.resolve()
  private dayText = ''
  private dayEnds = 0

  /** When (performance.now()) the next flush deletes the rows past the retention. */
  private nextPrune = 0

  constructor(
    private readonly store: Store,
    private readonly log?: FastifyBaseLogger,
    /** USAGE_RETENTION_DAYS: rows of older days are deleted at a flush, at most once per PRUNE_EVERY_MS per process. */
    private readonly retentionDays?: number,
  ) {}

  /**
   * Deletes the usage rows (counts and searches without results) of days more than `retentionDays` before today
   * (UTC). Idempotent and cheap (both tables' keys start with the day): any process may run it at any time.
   */
  async pruneOld(): Promise<void> {
    if (!this.retentionDays) return
    // The database's clock: servers with skewed clocks agree on what is past the retention.
    const now = Date.parse(await databaseIso(this.store.db))
    const cutoff = new Date(now - this.retentionDays * 86_400_000).toISOString().slice(0, 10)
    await writeTransaction(this.store, async (trx) => {
      const db = linksDb(trx)
      const counts = await db.deleteFrom('usage_daily').where('day', '<', cutoff).executeTakeFirst()
      const searches = await db.deleteFrom('usage_zero_result_search').where('day', '<', cutoff).executeTakeFirst()
      // Deleted counts can change a report whose window reaches past the retention: readers must see a new version.
      if (Number(counts.numDeletedRows) + Number(searches.numDeletedRows) > 0) await bumpUsageVersion(db)
    })
  }

  /**
   * A view of one dataset through the API or the RDF endpoints (a harvester's visit when its user agent
   * says so). HEAD requests are not counted.
   */
  datasetView(request: CountedRequest, packageId: string, via: 'api' | 'rdf'): void {
    if (request.method === 'HEAD') return
    this.add(
      packageId,
      '',
      isHarvester(request.headers['user-agent']) ? 'harvester_visit' : via === 'api' ? 'view_api' : 'view_rdf',
    )
  }

  /** A download of one of the dataset's files through the redirect endpoint (GET only). */
  download(request: CountedRequest, packageId: string): void {
    if (request.method === 'GET') this.add(packageId, '', 'download')
  }

  /** A harvester reading the catalog (not one dataset): a package_search page, a catalog page. */
  catalogVisit(request: CountedRequest, orgId?: string): void {
    if (request.method !== 'HEAD' && isHarvester(request.headers['user-agent']))
      this.add('', orgId ?? '', 'harvester_visit')
  }

  /** A package_search that found nothing: its query text, normalised. */
  zeroResultSearch(q: unknown): void {
    const query = normaliseQuery(q)
    if (query === null) return
    const key = `${this.today()}\t${query}`
    const count = this.zero.get(key)
    if (count !== undefined) this.zero.set(key, count + 1)
    else if (this.zero.size < MAX_PENDING_KEYS) this.zero.set(key, 1)
    else this.dropped++
  }

  /** Flushes every `intervalMs` (the timer does not keep the process alive). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.flush().catch((err: unknown) => this.log?.error({ err }, 'writing usage counts failed'))
    }, intervalMs)
    this.timer.unref()
  }

  /** Stops the timer and writes what is pending. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }

  /** Writes the pending counts (one flush at a time; a flush asked for during another runs after it). */
  flush(): Promise<void> {
    const next = this.flushing.catch(() => {}).then(() => this.flushNow())
    this.flushing = next
    return next
  }

  private add(packageId: string, orgId: string, kind: UsageKind): void {
    const key = `${this.today()}\t${packageId}\t${orgId}\t${kind}`
    const count = this.pending.get(key)
    if (count !== undefined) this.pending.set(key, count + 1)
    else if (this.pending.size < MAX_PENDING_KEYS) this.pending.set(key, 1)
    else this.dropped++
  }

  /** The UTC day, worked out once a day. */
  private today(): string {
    const now = Date.now()
    if (now >= this.dayEnds) {
      this.dayText = new Date(now).toISOString().slice(0, 10)
      this.dayEnds = Date.UTC(
        Number(this.dayText.slice(0, 4)),
        Number(this.dayText.slice(5, 7)) - 1,
        Number(this.dayText.slice(8, 10)) + 1,
      )
    }
    return this.dayText
  }

  private async flushNow(): Promise<void> {
    if (this.retentionDays && performance.now() >= this.nextPrune) {
      this.nextPrune = performance.now() + PRUNE_EVERY_MS
      await this.pruneOld().catch((err: unknown) => this.log?.warn({ err }, 'deleting old usage counts failed'))
    }
    if (this.dropped) {
      this.log?.warn({ dropped: this.dropped }, 'usage counts dropped: too many distinct keys between two flushes')
      this.dropped = 0
    }
    if (this.pending.size === 0 && this.zero.size === 0) return
    const pending = this.pending
    const zero = this.zero
    this.pending = new Map()
    this.zero = new Map()
    try {
      await this.write(pending, zero)
    } catch (err) {
      // Put the counts back: the next flush writes them (the transaction wrote nothing).
      for (const [key, n] of pending) this.pending.set(key, (this.pending.get(key) ?? 0) + n)
      for (const [key, n] of zero) this.zero.set(key, (this.zero.get(key) ?? 0) + n)
      throw err
    }
  }

  /** Adds the counts to the database in one transaction (all or nothing). */
  protected async write(pending: Map<string, number>, zero: Map<string, number>): Promise<void> {
    const rows: Array<{ day: string; package_id: string; owner_org: string; kind: string; count: number }> = []
    const ids = [...new Set([...pending.keys()].map((key) => key.split('\t')[1]).filter((id) => id !== ''))]
    const owners = new Map<string, string>()
    for (let i = 0; i < ids.length; i += FLUSH_BATCH) {
      const found = await this.store.db
        .selectFrom('package')
        .select(['id', 'owner_org'])
        .where('id', 'in', ids.slice(i, i + FLUSH_BATCH))
        .where('visible', '=', 1)
        .execute()
      for (const p of found) owners.set(p.id, p.owner_org ?? '')
    }
    for (const [key, count] of pending) {
      const [day, packageId, orgId, kind] = key.split('\t') as [string, string, string, string]
      if (packageId === '') rows.push({ day, package_id: '', owner_org: orgId, kind, count })
      else if (owners.has(packageId))
        rows.push({ day, package_id: packageId, owner_org: owners.get(packageId)!, kind, count })
    }
    const searches = [...zero].map(([key, count]) => {
      const tab = key.indexOf('\t')
      const query = key.slice(tab + 1)
      return { day: key.slice(0, tab), query_hash: createHash('sha256').update(query).digest('hex'), query, count }
    })
    if (rows.length === 0 && searches.length === 0) return
    const mysql = this.store.dialect === 'mysql'
    await writeTransaction(this.store, async (trx) => {
      const db = linksDb(trx)
      for (let i = 0; i < rows.length; i += FLUSH_BATCH) {
        const insert = db.insertInto('usage_daily').values(rows.slice(i, i + FLUSH_BATCH))
        await (
          mysql
            ? insert.onDuplicateKeyUpdate({ count: sql`count + values(count)` })
            : insert.onConflict((oc) =>
                oc
                  .columns(['day', 'package_id', 'owner_org', 'kind'])
                  .doUpdateSet({ count: sql`usage_daily.count + excluded.count` }),
              )
        ).execute()
      }
      for (let i = 0; i < searches.length; i += FLUSH_BATCH) {
        const insert = db.insertInto('usage_zero_result_search').values(searches.slice(i, i + FLUSH_BATCH))
        await (
          mysql
            ? insert.onDuplicateKeyUpdate({ count: sql`count + values(count)` })
            : insert.onConflict((oc) =>
                oc
                  .columns(['day', 'query_hash'])
                  .doUpdateSet({ count: sql`usage_zero_result_search.count + excluded.count` }),
              )
        ).execute()
      }
      // Last, so that the row lock is held briefly; committed with the counts (see UsageReportCache).
      await bumpUsageVersion(db)
    })
  }
}

/**
 * Marks that usage counts changed (usage_state.version + 1), inside the transaction that changed them: a reader
 * that sees the new version sees the counts, and one that sees the old version may keep its copy.
 */
export async function bumpUsageVersion(db: Kysely<LinksDatabase>): Promise<void> {
  await db
    .updateTable('usage_state')
    .set({ version: sql`version + 1` })
    .where('id', '=', 1)
    .execute()
}
