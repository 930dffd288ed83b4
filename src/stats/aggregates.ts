import { sql, type Kysely } from 'kysely'
import type { Store } from '../db/connect.js'
import type { Database } from '../db/types.js'
import type { OrganizationTable } from '../db/types.js'
import { computeKommune, usageFrom, type KommuneAggregate } from './compute.js'

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

/** Feed rows after the stored position read back again: transactions that took an earlier number and committed later. */
const FEED_OVERLAP = 50
/** More feed rows than this since the stored position: every Kommune is recomputed. */
const FEED_MAX_ROWS = 2000
const CHUNK = 500

/**
 * The maintained per-Kommune aggregates behind GET /api/stats/*.
 *
 * Coherence rule. The aggregates live in the database (stats_kommune, with what they were computed from in
 * stats_state), so every server and worker on one database answers from the same rows, hence identically. A
 * request reads the markers (change-feed head, newest link check, usage marker, the database's day; four index
 * lookups) and compares them with stats_state's, by equality, never by clock:
 *  - catalog changes (feed head moved): the Kommunen of the datasets named in the feed since the stored position
 *    (and every Kommune that ever owned them, from the activity stream) are recomputed before the request is
 *    answered, so an answer includes every write committed before the request began;
 *  - a new day (database clock; it never moves back: the later of stored and current wins): everything is
 *    recomputed before the answer (ages and the usage period move);
 *  - link checks or usage counts alone: everything is recomputed in the background, at most once per
 *    `sideRefreshMs` per process; until then the stored figures are answered.
 * Several processes may compute the same refresh at once; the write takes the state row's lock and is skipped
 * when the stored state is already newer, so the stored state never goes back. The in-memory copy of the rows is
 * keyed by the stored state (all four markers and `generated`) and re-read when it differs.
 *
 * Daily snapshots: every refresh writes the recomputed Kommunen's figures into stats_kommune_day under the
 * database's day; the key (day, Kommune) makes one row per Kommune and day however many servers refresh (a later
 * refresh of the same day overwrites it with newer figures).
 */
export class StatsAggregates {
  private readonly db: Kysely<StatsDatabase>
  private readonly catalogDb: Kysely<Database>
  private readonly mysql: boolean
  private running: Promise<void> | null = null
  private lastSideRefresh = -Infinity
  private cache: { key: string; snapshot: Snapshot } | null = null
  private readonly now: () => number

  constructor(
    store: Store,
    private readonly options: AggregatesOptions,
  ) {
    this.db = statsDb(store.db)
    this.catalogDb = store.db
    this.mysql = store.dialect === 'mysql'
    this.now = options.now ?? (() => performance.now())
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

  async markers(): Promise<Markers> {
    const day = await this.today()
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

  /** The current aggregates, refreshed first as the coherence rule says. */
  async current(): Promise<Snapshot> {
    let markers = await this.markers()
    let state = await this.state()
    if (state && state.as_of > markers.day) markers = { ...markers, day: state.as_of }
    const catalogBehind = !state || Number(state.feed_seq) !== markers.feed || state.as_of !== markers.day
    const sideBehind = !!state && (Number(state.link_seq) !== markers.link || state.usage_marker !== markers.usage)
    if (catalogBehind) {
      await this.refresh()
      state = await this.state()
    } else if (sideBehind && this.now() - this.lastSideRefresh >= this.options.sideRefreshMs) {
      this.lastSideRefresh = this.now()
      void this.refresh().catch((err: unknown) => this.options.onError?.(err))
    }
    return this.load(state!)
  }

  /** Brings the stored aggregates up to the markers (concurrent callers of one process share one run). */
  refresh(): Promise<void> {
    this.running ??= this.refreshOnce().finally(() => (this.running = null))
    return this.running
  }

  /** Settles when no refresh of this process runs (closing). */
  async idle(): Promise<void> {
    await this.running?.catch(() => {})
  }

  private async refreshOnce(): Promise<void> {
    let markers = await this.markers()
    const state = await this.state()
    if (state && state.as_of > markers.day) markers = { ...markers, day: state.as_of }
    const orgs = [...this.options.organizations()].filter((o) => o.state === 'active')
    const full =
      !state ||
      state.as_of !== markers.day ||
      Number(state.link_seq) !== markers.link ||
      state.usage_marker !== markers.usage
    let targets: OrganizationTable[]
    if (full) targets = orgs
    else {
      const dirty = await this.dirtyOrganizations(Number(state.feed_seq), markers.feed)
      targets = dirty === 'all' ? orgs : orgs.filter((o) => dirty.has(o.id))
      const stored = new Set(
        (await this.db.selectFrom('stats_kommune').select('owner_org').execute()).map((r) => r.owner_org),
      )
      // A Kommune added since (reference data): computed too.
      for (const o of orgs) if (!stored.has(o.id) && !targets.includes(o)) targets.push(o)
    }
    const computed: Array<[string, KommuneAggregate]> = []
    for (const org of targets) computed.push([org.id, await computeKommune(this.catalogDb, org, markers.day)])
    await this.store(markers, full, computed, new Set(orgs.map((o) => o.id)))
  }

  /** The Kommunen touched by the feed rows after `from` (and a few before: see FEED_OVERLAP). */
  private async dirtyOrganizations(from: number, to: number): Promise<Set<string> | 'all'> {
    if (to - from > FEED_MAX_ROWS) return 'all'
    const rows = await this.db
      .selectFrom('change_feed')
      .select(['kind', 'keys'])
      .where('seq', '>', Math.max(0, from - FEED_OVERLAP))
      .where('seq', '<=', to)
      .execute()
    const keys = new Set<string>()
    for (const row of rows) {
      if (row.kind !== 'datasets') return 'all'
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
  ): Promise<void> {
    const generated = new Date().toISOString()
    await this.db.transaction().execute(async (trx) => {
      const stored = await trx
        .selectFrom('stats_state')
        .selectAll()
        .where('id', '=', 1)
        .$if(this.mysql, (q) => q.forUpdate())
        .executeTakeFirst()
      if (stored) {
        // Never go back: a refresh computed from older markers than the stored ones is dropped.
        if (Number(stored.feed_seq) > markers.feed || stored.as_of > markers.day) return
        if (full && Number(stored.link_seq) > markers.link) return
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
      // A partial refresh leaves the link and usage markers as they were: the other Kommunen's figures are of those.
      const values = {
        feed_seq: markers.feed,
        link_seq: full || !stored ? markers.link : Number(stored.link_seq),
        usage_marker: full || !stored ? markers.usage : stored.usage_marker,
        as_of: markers.day,
        generated,
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

  /** The stored rows, through the in-memory copy while the stored state is the same. */
  private async load(state: StatsStateTable): Promise<Snapshot> {
    const key = `${state.feed_seq}|${state.link_seq}|${state.usage_marker}|${state.as_of}|${state.generated}`
    if (this.cache?.key === key) return this.cache.snapshot
    const rows = await this.db.selectFrom('stats_kommune').selectAll().execute()
    const snapshot: Snapshot = {
      generated: state.generated,
      as_of: state.as_of,
      kommunen: new Map(rows.map((r) => [r.owner_org, JSON.parse(r.body) as KommuneAggregate])),
    }
    this.cache = { key, snapshot }
    return snapshot
  }
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
  }
}
