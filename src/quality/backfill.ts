import { sql } from 'kysely'
import type { CatalogService } from '../catalog/service.js'
import type { CatalogChange } from '../catalog/change-feed.js'
import { appendChange } from '../catalog/change-feed.js'
import { writeTransaction } from '../db/write.js'
import { packagesWithUrlHashes } from '../links/jobs.js'
import type { LinksDatabase } from '../links/tables.js'
import { qualityDb, type StoredExplanation } from './recorder.js'
import type { Compliance } from './compliance.js'
import type { PackageDict } from '../dcat/mapping.js'
import { ckanNow } from '../catalog/time.js'

/** Datasets per transaction of a backfill or rescore. */
export const BATCH = 200

/**
 * Scores the datasets that have no stored score yet (written before scores existed, i.e. before migration 0010,
 * or stored past the service, as the seed command does), BATCH per transaction, through the same recorder a
 * write uses (history rows and the Kommunen's rows included), each transaction recording its change in the
 * change feed. Idempotent: a dataset scored meanwhile (by a write, or by a backfill of another process running
 * at the same time) is skipped inside the transaction. No validation runs: compliance is `unchecked` (the
 * explanation says so) until the dataset's next write through the API. Returns the number scored.
 * `onProgress` is told after each batch.
 */
export async function scoreUnscored(service: CatalogService, onProgress?: (done: number) => void): Promise<number> {
  let after = ''
  let done = 0
  for (;;) {
    const rows = await service.db
      .selectFrom('package as p')
      .select('p.id')
      .where('p.id', '>', after)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('package_quality' as never)
              .select(sql.lit(1).as('one'))
              .where(sql`package_id`, '=', sql.ref('p.id')),
          ),
        ),
      )
      .orderBy('p.id')
      .limit(BATCH)
      .execute()
    if (rows.length === 0) return done
    after = rows.at(-1)!.id
    done += await writeScores(
      service,
      rows.map((r) => r.id),
      'unscored',
    )
    onProgress?.(done)
  }
}

/** How a run of rescoreDatasets or rescorePending may be stopped, and what it is told between batches. */
export interface RescoreOptions {
  /**
   * Checked before each batch (a server closing, a lease lost): once aborted, no further batch starts. What was
   * committed stays; the pending markers whose datasets were not all rescored stay for the next run.
   */
  signal?: AbortSignal
  /** Awaited after each batch's commit (the background rescorer renews its lease here, quality/rescorer.ts). */
  afterBatch?: () => Promise<void>
}

/**
 * Scores some datasets again as they are stored, keeping each one's compliance: for the link checker, whose new
 * results change the accessibility indicators without a write of the dataset. BATCH per transaction. Returns
 * the number rescored.
 */
export async function rescoreDatasets(
  service: CatalogService,
  ids: readonly string[],
  options: RescoreOptions = {},
): Promise<number> {
  return (await rescoreIds(service, ids, options)).done
}

/** rescoreDatasets, also telling whether every batch ran (false: the signal stopped it before one). */
async function rescoreIds(
  service: CatalogService,
  ids: readonly string[],
  { signal, afterBatch }: RescoreOptions,
): Promise<{ done: number; complete: boolean }> {
  let done = 0
  for (let i = 0; i < ids.length; i += BATCH) {
    if (signal?.aborted) return { done, complete: false }
    done += await writeScores(service, ids.slice(i, i + BATCH), 'all')
    await afterBatch?.()
  }
  return { done, complete: true }
}

/** Ids per delete statement (bounded statement size). */
const DELETE_CHUNK = 1000

/**
 * Rescores the datasets whose score changed without a write of their own: those holding the URLs whose health
 * changed at a link check (link_rescore_pending, written by the check's transaction, links/jobs.ts completeJob)
 * and those of the Kommunen changed in what their datasets score by (org_rescore_pending, written by the
 * organization write, catalog/service.ts updateOrganization); then removes the rows it handled (by id: a change
 * recorded meanwhile stays for the next call). Run by the background rescorer (quality/rescorer.ts), the link
 * scheduler's lease holder after each round and `godonu links check`, never on a request path. Running it twice,
 * or in two processes at once, rescores some datasets twice: harmless. Stopped by `options.signal` between
 * batches, it leaves the markers not fully handled for the next call. Returns the number of datasets rescored.
 */
export async function rescorePending(service: CatalogService, options: RescoreOptions = {}): Promise<number> {
  return (await drainPending(service, LINK_PENDING, options)) + (await drainPending(service, ORG_PENDING, options))
}

/** A table of pending markers: one row per change, numbered by the database, naming what changed by `key`. */
interface PendingQueue {
  table: 'link_rescore_pending' | 'org_rescore_pending'
  key: 'url_hash' | 'owner_org'
  /** Markers read at a time. */
  limit: number
  /**
   * Rescores the datasets of some markers' keys (distinct, in marker order); returns the number rescored and the
   * keys all of whose datasets were rescored (every key, unless the run was stopped).
   */
  rescore(
    service: CatalogService,
    keys: string[],
    options: RescoreOptions,
  ): Promise<{ done: number; handled: Set<string> }>
}

/** Link changes: the datasets holding the URLs; a read of markers is handled as a whole (URLs share datasets). */
const LINK_PENDING: PendingQueue = {
  table: 'link_rescore_pending',
  key: 'url_hash',
  // Each read scans the resources once.
  limit: 50_000,
  async rescore(service, keys, options) {
    const ids = await packagesWithUrlHashes(service.store, new Set(keys))
    const { done, complete } = await rescoreIds(service, [...ids].sort(), options)
    return { done, handled: complete ? new Set(keys) : new Set() }
  },
}

/** Kommune changes: all datasets of each Kommune (BATCH per transaction), Kommune by Kommune. */
const ORG_PENDING: PendingQueue = {
  table: 'org_rescore_pending',
  key: 'owner_org',
  limit: 1000,
  async rescore(service, keys, options) {
    const db = qualityDb(service.db)
    let done = 0
    const handled = new Set<string>()
    // No reload of the reference data first: each write transaction reads the Kommune it scores with from the
    // database (recorder.ts organizationsWithin), so it holds at least what committed with the markers.
    for (const org of keys) {
      const rows = await db
        .selectFrom('package_quality')
        .select('package_id')
        .where('owner_org', '=', org)
        .orderBy('package_id')
        .execute()
      const run = await rescoreIds(
        service,
        rows.map((r) => r.package_id),
        options,
      )
      done += run.done
      if (!run.complete) break
      handled.add(org)
    }
    return { done, handled }
  },
}

/**
 * Works a table of pending markers off: reads the oldest `limit` (by id), rescores their datasets, removes the
 * markers handled, and again until a read comes back short, or the run was stopped.
 */
async function drainPending(service: CatalogService, queue: PendingQueue, options: RescoreOptions): Promise<number> {
  const db = qualityDb(service.db).withTables<Pick<LinksDatabase, 'link_rescore_pending'>>()
  let done = 0
  for (;;) {
    if (options.signal?.aborted) return done
    const pending = (await db
      .selectFrom(queue.table)
      .select(['id', queue.key])
      .orderBy('id')
      .limit(queue.limit)
      .execute()) as Array<{ id: number | undefined; [key: string]: unknown }>
    if (pending.length === 0) return done
    const keyOf = (p: (typeof pending)[number]) => String(p[queue.key])
    const rescored = await queue.rescore(service, [...new Set(pending.map(keyOf))], options)
    done += rescored.done
    // Exactly the rows read, not a range of ids: ids are handed out at insert, not at commit, so a smaller id can
    // commit after a larger one was read (MySQL) and a range delete would remove it unseen. And of those only the
    // ones whose datasets were all rescored: a marker of a run stopped halfway stays for the next run.
    const handled = pending.filter((p) => rescored.handled.has(keyOf(p))).map((p) => Number(p.id))
    for (let i = 0; i < handled.length; i += DELETE_CHUNK)
      await db
        .deleteFrom(queue.table)
        .where('id', 'in', handled.slice(i, i + DELETE_CHUNK))
        .execute()
    if (handled.length < pending.length || pending.length < queue.limit) return done
  }
}

/**
 * Scores datasets as they are stored now, in one write transaction (writeTransaction: retried on deadlocks)
 * that also appends the change to the change feed, as every write does: every process's caches and search index
 * (which sorts and filters by score) take the new scores up within one poll; this process at once. The dataset
 * rows are read inside the transaction (locked on MySQL; SQLite writes one at a time): a concurrent write of a
 * dataset is never overwritten by a score of its older content. `unscored`: only datasets without a score.
 */
async function writeScores(service: CatalogService, ids: string[], which: 'unscored' | 'all'): Promise<number> {
  let change: CatalogChange | undefined
  const scored = await writeTransaction(service.store, async (trx) => {
    change = undefined
    const rows = await trx
      .selectFrom('package')
      .select(['id', 'name', 'owner_org', 'visible'])
      .where('id', 'in', ids)
      .$if(service.store.dialect === 'mysql', (q) => q.forUpdate())
      .execute()
    const byId = new Map(rows.map((r) => [r.id, r]))
    // Their Kommunen as committed, one read for the batch (not this process's reference copy: recorder.ts).
    const organizations = await service.quality.organizationsWithin(
      trx,
      rows.flatMap((r) => (r.owner_org ? [r.owner_org] : [])),
    )
    const dicts = (await service.packageDicts(ids, sql`1 = 1`, trx)) as PackageDict[]
    const keys: string[] = []
    for (const dict of dicts) {
      const row = byId.get(dict.id)
      if (!row) continue
      const previous = await qualityDb(trx)
        .selectFrom('package_quality')
        .select('explanation')
        .where('package_id', '=', dict.id)
        .executeTakeFirst()
      if (previous && which === 'unscored') continue
      const compliance: Compliance = previous
        ? (JSON.parse(previous.explanation) as StoredExplanation).compliance
        : 'unchecked'
      await service.quality.recordWrite(trx, dict, {
        id: row.id,
        owner_org: row.owner_org,
        visible: row.visible,
        now: ckanNow(),
        compliance,
        organizations,
      })
      keys.push(row.id, row.name)
    }
    if (keys.length) {
      change = { kind: 'datasets', keys }
      await appendChange(trx, change).execute()
    }
    return keys.length / 2
  })
  if (change) await service.applyRemoteChange(change)
  return scored
}
