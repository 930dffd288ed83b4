import { sql } from 'kysely'
import type { CatalogService } from '../catalog/service.js'
import type { Store } from '../db/connect.js'
import { usageReport, type UsageReport } from './report.js'

/** Report windows (Kommune, days, first day, privacy floor) kept at most; the least recently used goes first. */
export const MAX_CACHED_WINDOWS = 64

interface Entry {
  usage: number
  feed: number
  generation: number
  report: UsageReport
}

/**
 * The usage reports this process computed, per window, so that repeated requests do not scan usage_daily.
 *
 * Coherence rule: a cached report is answered only while, read with one statement per request (two primary-key
 * lookups), (a) usage_state.version equals the one read BEFORE the report was computed (every flush and prune of
 * any process or server bumps it in the transaction that changes the counts), and (b) the newest change-feed
 * number equals the one read then, and (c) no catalog change reached this process since (service.onChange, which
 * also catches a write that commits below the newest number, within one poll of the feed). (b) and (c) matter
 * because the report lists only datasets public now and shows current names and titles: a dataset made private
 * drops out at once. Versions are compared by equality, never by a clock: servers with skewed clocks agree.
 * A flush committed while a report is computed leaves a report at least as new as the version it is kept under;
 * the next request sees the newer version and computes again (never older counts under a newer version).
 * This process's clock only decides the window (which days "the last N days" are), as it did without the cache.
 */
export class UsageReportCache {
  private readonly entries = new Map<string, Entry>()
  private generation = 0
  /** The clock that decides the report's window (tests inject their own); never the freshness. */
  clock: () => number = () => Date.now()
  /** Reports computed (not answered from the cache): for tests and diagnosis. */
  computed = 0

  constructor(
    private readonly store: Store,
    private readonly service: CatalogService,
  ) {
    service.onChange(() => {
      this.generation++
    })
  }

  async report(options: { orgId?: string; days: number; queryMinCount?: number }): Promise<UsageReport> {
    const now = this.clock()
    const from = new Date(now - (options.days - 1) * 86_400_000).toISOString().slice(0, 10)
    const key = `${options.orgId ?? ''}\t${options.days}\t${from}\t${options.queryMinCount ?? ''}`
    const generation = this.generation
    const row = (
      await sql<{
        usage: number | string | null
        feed: number | string | null
      }>`select (select version from usage_state where id = 1) as ${sql.ref('usage')}, (select max(seq) from change_feed) as feed`.execute(
        this.store.db,
      )
    ).rows[0]
    const usage = Number(row?.usage ?? 0)
    const feed = Number(row?.feed ?? 0)
    const cached = this.entries.get(key)
    if (cached && cached.usage === usage && cached.feed === feed && cached.generation === generation) {
      // Most recently used last: eviction takes the first.
      this.entries.delete(key)
      this.entries.set(key, cached)
      return cached.report
    }
    const report = await usageReport(this.store, this.service, { ...options, now })
    this.computed++
    this.entries.delete(key)
    this.entries.set(key, { usage, feed, generation, report })
    while (this.entries.size > MAX_CACHED_WINDOWS) this.entries.delete(this.entries.keys().next().value!)
    return report
  }
}
