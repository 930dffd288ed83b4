import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { sql } from 'kysely'
import type { Store } from '../db/connect.js'
import { writeTransaction } from '../db/write.js'
import { declaredMediaType } from './check.js'
import type { CheckResult } from './check.js'
import { databaseIso, isoPlus, linksDb, urlHash, type LinkCheckJobTable } from './tables.js'
import { nextCheckDelayMs, type LinkCheckSettings } from './settings.js'

/** Rows read at a time while the URLs of the datasets are gathered. */
const SYNC_BATCH = 1000
/** Keys per IN list. */
const CHUNK = 500

export interface DatasetUrl {
  url: string
  declaredMediaType: string | null
}

/**
 * The URLs of the datasets' distributions: each active resource's `url` (CKAN's), `access_url` and
 * `download_url`, of every active dataset (private ones too: they are checked, only never reported publicly),
 * or of one Kommune's. Nothing else (no landing pages, no organization images) is checked.
 */
export async function datasetUrls(store: Store, orgId?: string): Promise<Map<string, DatasetUrl>> {
  const db = store.db
  const urls = new Map<string, DatasetUrl>()
  let after = ''
  for (;;) {
    let query = db
      .selectFrom('resource as r')
      .innerJoin('package as p', 'p.id', 'r.package_id')
      .select(['r.id', 'r.url', 'r.extras', 'r.mimetype', 'r.format'])
      .where('p.state', '=', 'active')
      .where('p.type', '=', 'dataset')
      .where('r.state', '=', 'active')
      .where('r.id', '>', after)
    if (orgId) query = query.where('p.owner_org', '=', orgId)
    const rows = await query.orderBy('r.id').limit(SYNC_BATCH).execute()
    if (rows.length === 0) break
    for (const row of rows) {
      const declared = declaredMediaType(row.mimetype, row.format)
      for (const url of resourceUrls(row)) {
        const known = urls.get(url)
        if (!known) urls.set(url, { url, declaredMediaType: declared })
        else if (!known.declaredMediaType && declared) known.declaredMediaType = declared
      }
    }
    after = rows.at(-1)!.id
  }
  return urls
}

/**
 * Makes the job list match the datasets: a job per URL (due at once when new), the declared media type
 * kept current; with `prune`, the jobs of URLs no dataset holds any more go (their results and history stay).
 * Returns the hashes of the URLs found.
 */
export async function syncJobs(store: Store, options: { orgId?: string; prune?: boolean } = {}): Promise<string[]> {
  const db = linksDb(store.db)
  const urls = await datasetUrls(store, options.orgId)
  const now = await databaseIso(store.db)
  const wanted = new Map([...urls.values()].map((u) => [urlHash(u.url), u]))
  const hashes = [...wanted.keys()]
  for (let i = 0; i < hashes.length; i += CHUNK) {
    const chunk = hashes.slice(i, i + CHUNK)
    const existing = await db
      .selectFrom('link_check_job')
      .select(['url_hash', 'declared_media_type'])
      .where('url_hash', 'in', chunk)
      .execute()
    const have = new Map(existing.map((e) => [e.url_hash, e.declared_media_type]))
    const missing = chunk.filter((h) => !have.has(h))
    if (missing.length) {
      await db
        .insertInto('link_check_job')
        .values(
          missing.map((h) => ({
            url_hash: h,
            url: wanted.get(h)!.url,
            declared_media_type: wanted.get(h)!.declaredMediaType,
            due_at: now,
            claimed_by: null,
            lease_until: null,
          })),
        )
        .$call((q) =>
          store.dialect === 'mysql' ? q.ignore() : q.onConflict((oc) => oc.column('url_hash').doNothing()),
        )
        .execute()
    }
    for (const h of chunk) {
      const declared = wanted.get(h)!.declaredMediaType
      if (have.has(h) && have.get(h) !== declared)
        await db
          .updateTable('link_check_job')
          .set({ declared_media_type: declared })
          .where('url_hash', '=', h)
          .execute()
    }
  }
  if (options.prune && !options.orgId) {
    let after = ''
    for (;;) {
      const rows = await db
        .selectFrom('link_check_job')
        .select('url_hash')
        .where('url_hash', '>', after)
        .orderBy('url_hash')
        .limit(SYNC_BATCH)
        .execute()
      if (rows.length === 0) break
      const gone = rows.map((r) => r.url_hash).filter((h) => !wanted.has(h))
      for (let i = 0; i < gone.length; i += CHUNK)
        await db
          .deleteFrom('link_check_job')
          .where('url_hash', 'in', gone.slice(i, i + CHUNK))
          .execute()
      after = rows.at(-1)!.url_hash
    }
  }
  return hashes
}

/** Makes the given URLs due now, by the database's clock (an on-demand check). */
export async function makeDue(store: Store, hashes: readonly string[]): Promise<void> {
  const db = linksDb(store.db)
  const now = await databaseIso(store.db)
  for (let i = 0; i < hashes.length; i += CHUNK) {
    await db
      .updateTable('link_check_job')
      .set({ due_at: now })
      .where('url_hash', 'in', hashes.slice(i, i + CHUNK))
      .execute()
  }
}

export interface Claim {
  /** Unique per claim: who holds the jobs (the checker's name and a counter). */
  token: string
  jobs: LinkCheckJobTable[]
}

/** A name for a checker: host, process and a random part (several checkers per process are distinct). */
export function checkerName(): string {
  return `${hostname().slice(0, 40)}:${process.pid}:${randomUUID().slice(0, 8)}`
}

/**
 * Leases up to `limit` due jobs (due, and not leased or their lease ran out), optionally only among
 * `among`. Due times and leases are read and written by the DATABASE's clock (tables.ts databaseIso), as
 * harvest jobs are: two processes whose clocks disagree never both hold a job (a process whose clock runs
 * ahead would otherwise see other processes' leases as run out and check their URLs at the same time). MySQL/MariaDB: SELECT ... FOR UPDATE SKIP LOCKED and an UPDATE in one transaction, so that
 * concurrent checkers take disjoint sets without waiting for each other. SQLite, whose writers take turns:
 * one UPDATE statement that picks and marks the rows at once. Either way a job is held by one claim.
 */
export async function claimJobs(
  store: Store,
  token: string,
  options: { limit: number; leaseMs: number; among?: readonly string[] },
): Promise<Claim> {
  const db = linksDb(store.db)
  if (options.among && options.among.length === 0) return { token, jobs: [] }
  let until = ''
  if (store.dialect === 'mysql') {
    await writeTransaction(store, async (trx) => {
      const tx = linksDb(trx)
      const now = await databaseIso(trx)
      until = isoPlus(now, options.leaseMs)
      let pick = tx
        .selectFrom('link_check_job')
        .select('url_hash')
        .where('due_at', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      if (options.among) pick = pick.where('url_hash', 'in', [...options.among])
      const rows = await pick.orderBy('due_at').limit(options.limit).forUpdate().skipLocked().execute()
      if (rows.length === 0) return
      await tx
        .updateTable('link_check_job')
        .set({ claimed_by: token, lease_until: until })
        .where(
          'url_hash',
          'in',
          rows.map((r) => r.url_hash),
        )
        .execute()
    })
  } else {
    // One statement picks and marks the rows; SQLite's clock (the one machine holding the file) decides. In a
    // write transaction: retried when another process holds the write lock.
    await writeTransaction(store, async (trx) => {
      const now = await databaseIso(trx)
      until = isoPlus(now, options.leaseMs)
      const among = options.among ? sql`and url_hash in (${sql.join([...options.among])})` : sql``
      await sql`update link_check_job set claimed_by = ${token}, lease_until = ${until}
        where url_hash in (
          select url_hash from link_check_job
          where due_at <= ${now} and (lease_until is null or lease_until < ${now}) ${among}
          order by due_at limit ${options.limit})`.execute(trx)
    })
  }
  const jobs = await db
    .selectFrom('link_check_job')
    .selectAll()
    .where('claimed_by', '=', token)
    .where('lease_until', '=', until)
    .execute()
  return { token, jobs }
}

/**
 * Records a check of a claimed job: the latest result, a history row, and the job due again (interval, or
 * backoff after failures) and released, by the database's clock. When the URL's health changed (first check,
 * or reachable <-> unreachable), a link_rescore_pending row in the same transaction: the datasets holding the
 * URL get rescored (quality/backfill.ts rescorePending), and a crash in between loses nothing. Nothing is
 * written when the claim was lost (its lease ran out and another checker took the job): returns false then.
 */
export async function completeJob(
  store: Store,
  claim: Claim,
  job: LinkCheckJobTable,
  result: CheckResult,
  settings: LinkCheckSettings,
): Promise<boolean> {
  return writeTransaction(store, async (trx) => {
    const db = linksDb(trx)
    const previous = await db
      .selectFrom('link_check')
      .select(['consecutive_failures', 'status'])
      .where('url_hash', '=', job.url_hash)
      .executeTakeFirst()
    const failures = result.status === 'reachable' ? 0 : (previous?.consecutive_failures ?? 0) + 1
    const checkedAt = await databaseIso(trx)
    const next = isoPlus(checkedAt, nextCheckDelayMs(settings, failures))
    const released = await db
      .updateTable('link_check_job')
      .set({ due_at: next, claimed_by: null, lease_until: null })
      .where('url_hash', '=', job.url_hash)
      .where('claimed_by', '=', claim.token)
      .executeTakeFirst()
    if (Number(released.numUpdatedRows) === 0) return false
    const row = {
      url_hash: job.url_hash,
      url: job.url,
      status: result.status,
      http_status: result.httpStatus,
      error_code: result.errorCode,
      final_url: result.finalUrl,
      redirects: result.redirects,
      content_type: result.contentType,
      declared_media_type: job.declared_media_type,
      media_type_mismatch: result.mediaTypeMismatch,
      checked_at: checkedAt,
      next_check_at: next,
      consecutive_failures: failures,
    }
    const { url_hash: _key, url: _url, ...update } = row
    if (previous) await db.updateTable('link_check').set(update).where('url_hash', '=', job.url_hash).execute()
    else await db.insertInto('link_check').values(row).execute()
    await db
      .insertInto('link_check_history')
      .values({
        url_hash: job.url_hash,
        checked_at: checkedAt,
        status: result.status,
        http_status: result.httpStatus,
        error_code: result.errorCode,
        redirects: result.redirects,
        content_type: result.contentType,
        duration_ms: result.durationMs,
      })
      .execute()
    if (previous?.status !== result.status)
      await db.insertInto('link_rescore_pending').values({ url_hash: job.url_hash }).execute()
    return true
  })
}

/** Gives back the jobs of a claim not recorded yet (a checker stopping): due as they were, free to claim. */
export async function releaseClaim(store: Store, claim: Claim): Promise<void> {
  await linksDb(store.db)
    .updateTable('link_check_job')
    .set({ claimed_by: null, lease_until: null })
    .where('claimed_by', '=', claim.token)
    .execute()
}

/**
 * The ids of the datasets holding any of the given URLs (by url_hash) in an active resource's url, access_url or
 * download_url: one keyset scan of the resources (no index holds the URLs of extras), for background work only.
 */
export async function packagesWithUrlHashes(store: Store, hashes: ReadonlySet<string>): Promise<Set<string>> {
  const ids = new Set<string>()
  if (hashes.size === 0) return ids
  let after = ''
  for (;;) {
    const rows = await store.db
      .selectFrom('resource as r')
      .select(['r.id', 'r.package_id', 'r.url', 'r.extras'])
      .where('r.state', '=', 'active')
      .where('r.id', '>', after)
      .orderBy('r.id')
      .limit(SYNC_BATCH)
      .execute()
    if (rows.length === 0) return ids
    for (const row of rows) {
      if (ids.has(row.package_id)) continue
      for (const url of resourceUrls(row)) {
        if (hashes.has(urlHash(url))) {
          ids.add(row.package_id)
          break
        }
      }
    }
    after = rows.at(-1)!.id
  }
}

/**
 * The URLs a resource row holds (its url, access_url and download_url extras), trimmed, empty ones left out:
 * what the link checker checks, and what the stats count as a Kommune's links.
 */
export function resourceUrls(row: { url: string | null; extras: string }): string[] {
  let extras: Record<string, unknown>
  try {
    extras = JSON.parse(row.extras) as Record<string, unknown>
  } catch {
    extras = {}
  }
  const urls: string[] = []
  for (const candidate of [row.url, extras.access_url, extras.download_url])
    if (typeof candidate === 'string' && candidate.trim() !== '') urls.push(candidate.trim())
  return urls
}
