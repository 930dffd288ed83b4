import { sql } from 'kysely'
import type { CatalogService } from '../catalog/service.js'
import type { CatalogChange } from '../catalog/change-feed.js'
import { appendChange } from '../catalog/change-feed.js'
import { writeTransaction } from '../db/write.js'
import { packagesWithUrlHashes } from '../links/jobs.js'
import { linksDb } from '../links/tables.js'
import { qualityDb, type StoredExplanation } from './recorder.js'
import type { Compliance } from './compliance.js'
import type { PackageDict } from '../dcat/mapping.js'
import { ckanNow } from '../catalog/time.js'

/** Datasets per transaction of a backfill or rescore. */
export const BATCH = 200
/** Pending link changes read at a time by rescorePending (each read scans the resources once). */
const PENDING_BATCH = 50_000

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

/**
 * Scores some datasets again as they are stored, keeping each one's compliance: for the link checker, whose new
 * results change the accessibility indicators without a write of the dataset. BATCH per transaction. Returns
 * the number rescored.
 */
export async function rescoreDatasets(service: CatalogService, ids: readonly string[]): Promise<number> {
  let done = 0
  for (let i = 0; i < ids.length; i += BATCH) done += await writeScores(service, ids.slice(i, i + BATCH), 'all')
  return done
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
 * or in two processes at once, rescores some datasets twice: harmless. Returns the number of datasets rescored.
 */
export async function rescorePending(service: CatalogService): Promise<number> {
  return (await rescoreLinkPending(service)) + (await rescoreOrgPending(service))
}

async function rescoreLinkPending(service: CatalogService): Promise<number> {
  const db = linksDb(service.db)
  let done = 0
  for (;;) {
    const pending = await db
      .selectFrom('link_rescore_pending')
      .select(['id', 'url_hash'])
      .orderBy('id')
      .limit(PENDING_BATCH)
      .execute()
    if (pending.length === 0) return done
    const ids = await packagesWithUrlHashes(service.store, new Set(pending.map((p) => p.url_hash)))
    done += await rescoreDatasets(service, [...ids].sort())
    // Exactly the rows read: ids are handed out at insert, not at commit, so a smaller id can commit after a
    // larger one was read (MySQL) and a range delete would remove it unseen.
    const handled = pending.map((p) => Number(p.id))
    for (let i = 0; i < handled.length; i += DELETE_CHUNK)
      await db
        .deleteFrom('link_rescore_pending')
        .where('id', 'in', handled.slice(i, i + DELETE_CHUNK))
        .execute()
    if (pending.length < PENDING_BATCH) return done
  }
}

/** Kommune markers read at a time (each Kommune's datasets are rescored BATCH per transaction). */
const ORG_PENDING_BATCH = 1000

async function rescoreOrgPending(service: CatalogService): Promise<number> {
  const db = qualityDb(service.db)
  let done = 0
  for (;;) {
    const pending = await db
      .selectFrom('org_rescore_pending')
      .select(['id', 'owner_org'])
      .orderBy('id')
      .limit(ORG_PENDING_BATCH)
      .execute()
    if (pending.length === 0) return done
    // Scores splice in the Kommune from this process's reference data, which may be a change-feed poll behind the
    // organization write: read it now, after the markers, so it holds at least what committed with them.
    await service.reference.reload()
    for (const org of new Set(pending.map((p) => p.owner_org))) {
      const rows = await db
        .selectFrom('package_quality')
        .select('package_id')
        .where('owner_org', '=', org)
        .orderBy('package_id')
        .execute()
      done += await rescoreDatasets(
        service,
        rows.map((r) => r.package_id),
      )
    }
    // Exactly the rows read, as for the links (an id handed out earlier may commit later on MySQL).
    const handled = pending.map((p) => Number(p.id))
    for (let i = 0; i < handled.length; i += DELETE_CHUNK)
      await db
        .deleteFrom('org_rescore_pending')
        .where('id', 'in', handled.slice(i, i + DELETE_CHUNK))
        .execute()
    if (pending.length < ORG_PENDING_BATCH) return done
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
