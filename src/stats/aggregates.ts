import { randomUUID } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import { PUBLIC_DATASETS } from '../auth/viewer.js'
import type { Store } from '../db/connect.js'
import type { Database } from '../db/types.js'
import type { OrganizationTable } from '../db/types.js'
import { INDICATOR_IDS, type KommuneStatsT } from './schemas.js'
import { computeKommune, computeSide, usageFrom, type KommuneAggregate } from './compute.js'

/** Table types of migrations/0013_stats.ts. */
export interface StatsKommuneTable {
  owner_org: string
  /** JSON text: KommuneAggregate. */
  body: string
}
export interface StatsStateTable {
  id: number
  feed_seq: number
  link_seq: number
  usage_marker: string
  as_of: string
  generated: string
  /** Grows by one with every stored refresh. */
  version: number
}
export interface StatsLeaseTable {
  id: number
  token: string | null
  /** Seconds since the epoch, database clock. */
  expires: number
}
export interface StatsKommuneDayTable {
  day: string
  owner_org: string
  /** JSON text: SnapshotBody. */
  body: string
}
export interface StatsDatabase extends Database {
  stats_kommune: StatsKommuneTable
  stats_state: StatsStateTable
  stats_lease: StatsLeaseTable
  stats_kommune_day: StatsKommuneDayTable
}
export function statsDb(db: Kysely<any>): Kysely<StatsDatabase> {
  return db as Kysely<StatsDatabase>
}

/** What the stored aggregates were computed from. */
export interface Markers {
  /** The newest change-feed sequence number. */
  feed: number
  /** The newest link_check_history id (each check of a URL appends one). */
  link: number
  /** Row count and sum of the usage counts of the period: changes with every usage flush. */
  usage: string
  /** The day (UTC) of the database clock: ages and the usage period end on it. */
  day: string
}

/** The per-day snapshot of a Kommune (stats_kommune_day.body): what quality_history_org does not already keep. */
export interface SnapshotBody {
  distributions: number
  open_licence_share: number | null
  machine_readable_share: number | null
  non_proprietary_share: number | null
  broken_link_share: number | null
  checked_link_share: number | null
  median_age_days: number | null
  // Snapshotted since 2026-12 (absent in older rows: answered as null).
  broken_links?: number | null
  checked_links?: number | null
  themes?: KommuneStatsT['themes']
  usage?: KommuneStatsT['usage']
  indicators?: KommuneStatsT['indicators']
  indicators_unknown?: KommuneStatsT['indicators_unknown']
}

export interface Snapshot {
  generated: string
  as_of: string
  /** By organization id. */
  kommunen: Map<string, KommuneAggregate>
}

export interface AggregatesOptions {
  /** The Kommunen (organizations) there are, current (the reference cache). */
  organizations: () => Iterable<OrganizationTable>
  /**
   * Minimum time between two refreshes caused by link checks or usage counts alone, on this process's monotonic
   * clock (a local duration, never a comparison of timestamps): while the checker or the counters write, the
   * link and usage figures may lag by this much. Catalog changes are never held back.
   */
  sideRefreshMs: number
  /** The database's day (tests inject a skewed one); default: the database clock. */
  today?: () => Promise<string>
  /** Monotonic milliseconds (tests inject their own). */
  now?: () => number
  onError?: (err: unknown) => void
}

/** The indicators whose result depends on the link checker (unknown until checked: src/quality/score.ts). */
const LINK_INDICATORS = ['accessUrlStatusCode', 'downloadUrlStatusCode']
/** Feed rows after the stored position read back again: transactions that took an earlier number and committed later. */
const FEED_OVERLAP = 50
/** More feed rows than this since the stored position: every Kommune is recomputed. */
const FEED_MAX_ROWS = 2000
const CHUNK = 500
/** Seconds (database clock) a refresher's lease lasts without renewal; renewed after every Kommune computed. */
const LEASE_SECONDS = 120
/** Default time between two refresher runs (STATS_REFRESH_MS). */
export const DEFAULT_REFRESH_MS = 5_000

/** The stored lowest-scoring names still public now (PUBLIC_DATASETS, the one visibility rule). */
export async function stillPublic(db: Kysely<Database>, names: readonly string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set()
  const rows = await db
    .selectFrom('package as p')
    .select('p.name')
    .where('p.name', 'in', [...names])
    .where(PUBLIC_DATASETS)
    .execute()
  return new Set(rows.map((r) => r.name))
}

/**
 * The maintained per-Kommune aggregates behind GET /api/stats/*.
 *
 * Coherence rule. Requests never compute. The aggregates live in the database (stats_kommune, with what they
 * were computed from in stats_state), so every server and worker on one database answers from the same rows,
 * hence identically. A request reads the stats_state row (one primary-key lookup) and answers the stored rows,
 * through an in-memory copy keyed by the state's `version` (compared by equality, never by clock; every stored
 * refresh increments it). An answer is as of its `generated` and the stored change-feed position:
 *  - the refresher (start(), every STATS_REFRESH_MS, default 5 s, in the server processes; off in tests, which
 *    call refresh()) compares the markers (change-feed head, newest link check, usage marker, the database's day)
 *    with stats_state's, by equality. Catalog changes: the Kommunen of the datasets named in the feed since the
 *    stored position (and every Kommune that ever owned them, from the activity stream) are recomputed; a new
 *    day (database clock; it never moves back: the later of stored and current wins): everything; link checks or
 *    usage counts alone: the link and usage figures of every Kommune (not their scores), at most once per
 *    `sideRefreshMs` per process. Nothing behind: nothing is written.
 *  - so a catalog change shows within one refresher interval plus the time of the recomputation; counts, shares
 *    and scores may lag by that much. Privacy does not: the detail's lowest-scoring datasets are filtered at read
 *    time against the current public visibility (stillPublic), so a dataset made private or deleted is never
 *    listed, even before the next refresh.
 *  - an empty stats table (a fresh database) answers null (the routes: 503 with Retry-After) until the first
 *    refresh has stored the aggregates; a request never computes them.
 * At most one process of a service refreshes at a time: a lease row (stats_lease) taken with a random token,
 * expiring after LEASE_SECONDS of the database clock and renewed after every Kommune computed; the write checks
 * the token inside its transaction (a refresher that lost its lease stores nothing) and is also skipped when the
 * stored state is already newer, so the stored state never goes back.
 *
 * Daily snapshots: every refresh writes the recomputed Kommunen's figures into stats_kommune_day under the
 * database's day; the key (day, Kommune) makes one row per Kommune and day however many servers refresh (a later
 * refresh of the same day overwrites it with newer figures).
 */
export class StatsAggregates {
  private readonly db: Kysely<StatsDatabase>
  private readonly catalogDb: Kysely<Database>
  private readonly mysql: boolean
  private running: Promise<boolean> | null = null
  private lastSideRefresh = -Infinity
  private cache: { version: number; snapshot: Snapshot } | null = null
  private readonly now: () => number
  private timer: NodeJS.Timeout | null = null
  private intervalMs = DEFAULT_REFRESH_MS

  constructor(
    store: Store,
    private readonly options: AggregatesOptions,
  ) {
    this.db = statsDb(store.db)
    this.catalogDb = store.db
    this.mysql = store.dialect === 'mysql'
    this.now = options.now ?? (() => performance.now())
  }

  /** Whether the background refresher runs in this process. */
  get started(): boolean {
    return this.timer !== null
  }

  /** The refresher's interval (ms): what a 503's Retry-After is derived from. */
  get refreshMs(): number {
    return this.intervalMs
  }

  /** The database's day (UTC). */
  async today(): Promise<string> {
    if (this.options.today) return this.options.today()
    const q = this.mysql
      ? sql<{ d: string | Date }>`select utc_date() as d`
      : sql<{ d: string }>`select date('now') as d`
    const d = (await q.execute(this.db)).rows[0].d
    return typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10)
  }

  /** The markers now; `day` (the stored day when this process's clock is behind it) instead of the database's. */
  async markers(day?: string): Promise<Markers> {
    day ??= await this.today()
    const from = usageFrom(day)
    const row = (
      await sql<{
        feed: number | string | null
        link: number | string | null
        n: number | string | null
        total: number | string | null
      }>`select (select max(seq) from change_feed) as feed, (select max(id) from link_check_history) as link, (select count(*) from usage_daily where day >= ${from} and day <= ${day}) as n, (select sum(${sql.ref('count')}) from usage_daily where day >= ${from} and day <= ${day}) as total`.execute(
        this.db,
      )
    ).rows[0]
    return {
      feed: Number(row?.feed ?? 0),
      link: Number(row?.link ?? 0),
      usage: `${from}:${Number(row?.n ?? 0)}:${Number(row?.total ?? 0)}`,
      day,
    }
  }

  private async state(): Promise<StatsStateTable | undefined> {
    return this.db.selectFrom('stats_state').selectAll().where('id', '=', 1).executeTakeFirst()
  }

  /**
   * The stored aggregates as they are (one read of stats_state; the rows only when its version changed), or null
   * when none were stored yet. Never computes.
   */
  async current(): Promise<Snapshot | null> {
    const state = await this.state()
    if (!state) return null
    const version = Number(state.version)
    if (this.cache?.version === version) return this.cache.snapshot
    const rows = await this.db.selectFrom('stats_kommune').selectAll().execute()
    const snapshot: Snapshot = {
      generated: state.generated,
      as_of: state.as_of,
      kommunen: new Map(rows.map((r) => [r.owner_org, upgrade(JSON.parse(r.body) as KommuneAggregate)])),
    }
    // A refresh stored between the two reads: the rows are newer than the version they are kept under, and the next
    // request sees the newer version and reads them again (never older rows under a newer version).
    this.cache = { version, snapshot }
    return snapshot
  }

  /**
   * Brings the stored aggregates up to the markers when they are behind, under the lease (concurrent callers of
   * one process share one run). Resolves true when this process held the lease (whether or not anything was
   * behind), false when another process holds it.
   */
  refresh(): Promise<boolean> {
    this.running ??= this.refreshLeased().finally(() => (this.running = null))
    return this.running
  }

  /** Starts the background refresher: a refresh every `intervalMs` (and one now). */
  start(intervalMs: number = DEFAULT_REFRESH_MS): void {
    if (this.timer) return
    this.intervalMs = intervalMs
    const tick = () => {
      void this.refresh()
        .catch((err: unknown) => this.options.onError?.(err))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.intervalMs).unref()
        })
    }
    this.timer = setTimeout(tick, 0).unref()
  }

  /** Stops the refresher and settles when no refresh of this process runs (closing). */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running?.catch(() => {})
  }

  /** Settles when no refresh of this process runs. */
  async idle(): Promise<void> {
    await this.running?.catch(() => {})
  }

  private dbSeconds() {
    return this.mysql ? sql<number>`unix_timestamp()` : sql<number>`cast(strftime('%s', 'now') as integer)`
  }

  /** Takes the lease when nobody holds it or it expired (database clock); true when taken. */
  private async acquire(token: string): Promise<boolean> {
    const seed = this.db.insertInto('stats_lease').values({ id: 1, token: null, expires: 0 })
    await (this.mysql ? seed.ignore() : seed.onConflict((oc) => oc.column('id').doNothing())).execute()
    const r = await this.db
      .updateTable('stats_lease')
      .set({ token, expires: sql<number>`${this.dbSeconds()} + ${LEASE_SECONDS}` })
      .where('id', '=', 1)
      .where((eb) => eb.or([eb('token', 'is', null), eb('expires', '<', this.dbSeconds())]))
      .executeTakeFirst()
    return Number(r.numUpdatedRows) === 1
  }

  /** Extends the lease held by `token`; throws when it was lost (another process took it after it expired). */
  private async renew(token: string): Promise<void> {
    const r = await this.db
      .updateTable('stats_lease')
      .set({ expires: sql<number>`${this.dbSeconds()} + ${LEASE_SECONDS}` })
      .where('id', '=', 1)
      .where('token', '=', token)
      .executeTakeFirst()
    if (Number(r.numUpdatedRows) === 1) return
    // A driver counting changed rather than matched rows reports 0 for a renewal within the same second: ask.
    const held = await this.db.selectFrom('stats_lease').select('token').where('id', '=', 1).executeTakeFirst()
    if (held?.token !== token) throw new Error('the stats refresh lease was lost')
  }

  private async release(token: string): Promise<void> {
    await this.db
      .updateTable('stats_lease')
      .set({ token: null, expires: 0 })
      .where('id', '=', 1)
      .where('token', '=', token)
      .execute()
  }

  private async refreshLeased(): Promise<boolean> {
    const token = randomUUID()
    if (!(await this.acquire(token))) return false
    try {
      await this.refreshOnce(token)
    } finally {
      await this.release(token)
    }
    return true
  }

  private async refreshOnce(token: string): Promise<void> {
    let markers = await this.markers()
    const state = await this.state()
    // A clock behind the stored day: the stored day (its usage period too), never back.
    if (state && state.as_of > markers.day) markers = await this.markers(state.as_of)
    const orgs = [...this.options.organizations()].filter((o) => o.state === 'active')
    // Aggregates stored by an older version (without indicators_unknown or checked_links): all recomputed (they lack
    // fields the API promises). A table of one row per Kommune; one row is enough.
    const outdated =
      !!state &&
      !!(await this.db
        .selectFrom('stats_kommune')
        .select('owner_org')
        .where((eb) =>
          eb.or([eb('body', 'not like', '%"indicators_unknown"%'), eb('body', 'not like', '%"checked_links"%')]),
        )
        .limit(1)
        .executeTakeFirst())
    const full = !state || state.as_of !== markers.day || outdated
    const sideBehind = !!state && (Number(state.link_seq) !== markers.link || state.usage_marker !== markers.usage)
    const sideChanged = sideBehind && this.now() - this.lastSideRefresh >= this.options.sideRefreshMs
    let targets: OrganizationTable[]
    const computed: Array<[string, KommuneAggregate]> = []
    if (full) targets = orgs
    else {
      const feedBehind = Number(state.feed_seq) !== markers.feed
      const dirty = feedBehind ? await this.dirtyOrganizations(Number(state.feed_seq), markers.feed) : new Set()
      targets = dirty === 'all' ? orgs : orgs.filter((o) => dirty.has(o.id))
      const storedIds = new Set(
        (await this.db.selectFrom('stats_kommune').select('owner_org').execute()).map((r) => r.owner_org),
      )
      // A Kommune added since (reference data): computed too.
      for (const o of orgs) if (!storedIds.has(o.id) && !targets.includes(o)) targets.push(o)
      // Nothing behind (or link and usage figures alone, within sideRefreshMs of the last such refresh): no write.
      if (!feedBehind && !sideChanged && targets.length === 0) return
      if (sideChanged) {
        // Link checks or usage counts alone: the other Kommunen's stored aggregates get new link and usage figures
        // (no pass over their datasets' scores).
        const stored = new Map(
          (await this.db.selectFrom('stats_kommune').selectAll().execute()).map((r) => [r.owner_org, r.body]),
        )
        for (const o of orgs) {
          if (targets.includes(o)) continue
          const aggregate = JSON.parse(stored.get(o.id)!) as KommuneAggregate
          Object.assign(aggregate.stats, await computeSide(this.catalogDb, o.id, markers.day))
          computed.push([o.id, aggregate])
          await this.renew(token)
        }
      }
    }
    if (full || sideChanged) this.lastSideRefresh = this.now()
    for (const org of targets) {
      computed.push([org.id, await computeKommune(this.catalogDb, org, markers.day)])
      await this.renew(token)
    }
    await this.store(markers, full, computed, new Set(orgs.map((o) => o.id)), token, full || sideChanged)
  }

  /** The Kommunen touched by the feed rows after `from` (and a few before: see FEED_OVERLAP). */
  private async dirtyOrganizations(from: number, to: number): Promise<Set<string> | 'all'> {
    if (to - from > FEED_MAX_ROWS) return 'all'
    const rows = await this.db
      .selectFrom('change_feed')
      .select(['seq', 'kind', 'keys'])
      .where('seq', '>', Math.max(0, from - FEED_OVERLAP))
      .where('seq', '<=', to)
      .execute()
    const keys = new Set<string>()
    for (const row of rows) {
      if (row.kind !== 'datasets') {
        // A reference change already applied (at or below the stored position) is not applied again.
        if (Number(row.seq) <= from) continue
        return 'all'
      }
      for (const key of JSON.parse(row.keys) as string[]) keys.add(key)
    }
    const orgs = new Set<string>()
    const list = [...keys]
    for (let i = 0; i < list.length; i += CHUNK) {
      const chunk = list.slice(i, i + CHUNK)
      const owners = await this.db
        .selectFrom('package')
        .select('owner_org')
        .where((eb) => eb.or([eb('id', 'in', chunk), eb('name', 'in', chunk)]))
        .execute()
      for (const o of owners) if (o.owner_org) orgs.add(o.owner_org)
      // Every Kommune that ever owned them (a dataset moved away leaves its former Kommune changed too).
      const former = await this.db
        .selectFrom('activity')
        .select('organization_id')
        .distinct()
        .where('object_id', 'in', chunk)
        .execute()
      for (const o of former) if (o.organization_id) orgs.add(o.organization_id)
    }
    return orgs
  }

  private async store(
    markers: Markers,
    full: boolean,
    computed: Array<[string, KommuneAggregate]>,
    active: Set<string>,
    token: string,
    sideCurrent: boolean,
  ): Promise<void> {
    const generated = new Date().toISOString()
    await this.db.transaction().execute(async (trx) => {
      const stored = await trx
        .selectFrom('stats_state')
        .selectAll()
        .where('id', '=', 1)
        .$if(this.mysql, (q) => q.forUpdate())
        .executeTakeFirst()
      // A refresher whose lease expired and was taken by another stores nothing.
      const lease = await trx
        .selectFrom('stats_lease')
        .select('token')
        .where('id', '=', 1)
        .$if(this.mysql, (q) => q.forUpdate())
        .executeTakeFirst()
      if (lease?.token !== token) return
      if (stored) {
        // Never go back: a refresh computed from older markers than the stored ones is dropped.
        if (Number(stored.feed_seq) > markers.feed || stored.as_of > markers.day) return
        if (Number(stored.link_seq) > markers.link) return
      }
      for (const [org, aggregate] of computed) {
        const body = JSON.stringify(aggregate)
        const insert = trx.insertInto('stats_kommune').values({ owner_org: org, body })
        await (
          this.mysql
            ? insert.onDuplicateKeyUpdate({ body })
            : insert.onConflict((oc) => oc.column('owner_org').doUpdateSet({ body }))
        ).execute()
        const snapshot = JSON.stringify(snapshotOf(aggregate))
        const day = trx.insertInto('stats_kommune_day').values({ day: markers.day, owner_org: org, body: snapshot })
        await (
          this.mysql
            ? day.onDuplicateKeyUpdate({ body: snapshot })
            : day.onConflict((oc) => oc.columns(['day', 'owner_org']).doUpdateSet({ body: snapshot }))
        ).execute()
      }
      if (full) {
        const gone = (await trx.selectFrom('stats_kommune').select('owner_org').execute())
          .map((r) => r.owner_org)
          .filter((o) => !active.has(o))
        if (gone.length) await trx.deleteFrom('stats_kommune').where('owner_org', 'in', gone).execute()
      }
      // A full refresh or a side one brings the link and usage figures of all Kommunen to the markers
      // (computeSide); otherwise the stored side markers stay, so that the side refresh is still due.
      const values = {
        feed_seq: markers.feed,
        link_seq: sideCurrent || !stored ? markers.link : Number(stored.link_seq),
        usage_marker: sideCurrent || !stored ? markers.usage : stored.usage_marker,
        as_of: markers.day,
        generated,
        version: Number(stored?.version ?? 0) + 1,
      }
      if (stored) await trx.updateTable('stats_state').set(values).where('id', '=', 1).execute()
      else {
        const insert = trx.insertInto('stats_state').values({ id: 1, ...values })
        await (
          this.mysql
            ? insert.onDuplicateKeyUpdate(values)
            : insert.onConflict((oc) => oc.column('id').doUpdateSet(values))
        ).execute()
      }
    })
  }
}

/**
 * An aggregate stored by an older version (answered until the next refresh recomputes it, see refreshOnce): the link
 * counts it lacks are answered as null; before indicators_unknown, the link indicators' shares counted unknown as
 * missed, so they are answered as unknown.
 */
function upgrade(aggregate: KommuneAggregate): KommuneAggregate {
  const s = aggregate.stats
  s.broken_links ??= null
  s.checked_links ??= null
  if (s.indicators_unknown) return aggregate
  const unknown: Record<string, number> = {}
  for (const id of INDICATOR_IDS) unknown[id] = 0
  for (const id of LINK_INDICATORS) {
    s.indicators[id] = null
    unknown[id] = s.datasets
  }
  s.indicators_unknown = unknown
  return aggregate
}

export function snapshotOf(aggregate: KommuneAggregate): SnapshotBody {
  const s = aggregate.stats
  return {
    distributions: s.distributions,
    open_licence_share: s.open_licence_share,
    machine_readable_share: s.machine_readable_share,
    non_proprietary_share: s.non_proprietary_share,
    broken_link_share: s.broken_link_share,
    checked_link_share: s.checked_link_share,
    median_age_days: s.median_age_days,
    broken_links: s.broken_links,
    checked_links: s.checked_links,
    themes: s.themes,
    usage: s.usage,
    indicators: s.indicators,
    indicators_unknown: s.indicators_unknown,
  }
}
