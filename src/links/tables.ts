import { createHash } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/types.js'
import { isMysql } from '../db/dialect.js'

/** The tables of migrations/0011_links_usage.ts (kept here, beside the code that alone uses them). */
export interface LinkCheckTable {
  url_hash: string
  url: string
  status: LinkStatus
  http_status: number | null
  error_code: LinkErrorCode | null
  final_url: string | null
  redirects: number
  content_type: string | null
  declared_media_type: string | null
  media_type_mismatch: number
  checked_at: string
  next_check_at: string
  consecutive_failures: number
}

export interface LinkCheckHistoryTable {
  id: number | undefined
  url_hash: string
  checked_at: string
  status: LinkStatus
  http_status: number | null
  error_code: LinkErrorCode | null
  redirects: number
  content_type: string | null
  duration_ms: number
}

export interface LinkCheckJobTable {
  url_hash: string
  url: string
  declared_media_type: string | null
  due_at: string
  claimed_by: string | null
  lease_until: string | null
}

export interface UsageDailyTable {
  day: string
  package_id: string
  owner_org: string
  kind: string
  count: number | string
}

export interface UsageZeroResultSearchTable {
  day: string
  query_hash: string
  query: string
  count: number | string
}

/** migrations/0016: one row (id 1); `version` grows with every usage flush or prune that changed counts. */
export interface UsageStateTable {
  id: number
  version: number | string
}

/** migrations/0015: a background task one process of the service runs at a time (lease.ts). */
export interface ServiceLeaseTable {
  name: string
  holder: string
  lease_until: string
}

/** migrations/0015: URLs whose health changed at a check, their datasets not rescored yet. */
export interface LinkRescorePendingTable {
  id: number | undefined
  url_hash: string
}

export type LinkStatus = 'reachable' | 'unreachable'

/** Why a link is unreachable: one code per kind of failure. */
export const LINK_ERROR_CODES = [
  'timeout',
  'dns',
  'tls',
  'refused',
  'reset',
  'invalid_url',
  'redirect_loop',
  'too_many_redirects',
  'http_error',
  'blocked',
] as const
export type LinkErrorCode = (typeof LINK_ERROR_CODES)[number]

export interface LinksDatabase extends Database {
  link_check: LinkCheckTable
  link_check_history: LinkCheckHistoryTable
  link_check_job: LinkCheckJobTable
  usage_daily: UsageDailyTable
  usage_zero_result_search: UsageZeroResultSearchTable
  usage_state: UsageStateTable
  service_lease: ServiceLeaseTable
  link_rescore_pending: LinkRescorePendingTable
}

/** The catalog's Kysely handle, seen with the tables of this feature too. */
export function linksDb(db: Kysely<Database>): Kysely<LinksDatabase> {
  return db as unknown as Kysely<LinksDatabase>
}

/**
 * The key of a checked URL: sha256 (hex) of the URL exactly as stored. Deliberately not uriIdentity
 * (src/catalog/uris.ts), which makes http and https one: a link checker reports on the URL a user follows.
 */
export function urlHash(url: string): string {
  return createHash('sha256').update(url).digest('hex')
}

/** Now, as the ISO text the tables store (comparable as text). */
export function isoAt(ms: number): string {
  return new Date(ms).toISOString()
}

/**
 * Now by the DATABASE's clock, as the ISO text the tables store: what leases and due times are compared with, so
 * that processes (or servers) whose clocks disagree still agree on whose lease ran out. MySQL/MariaDB: the
 * server's UTC_TIMESTAMP; SQLite: the clock of the machine holding the file (one machine, one clock).
 */
export async function databaseIso(db: Kysely<any>): Promise<string> {
  if (isMysql(db)) {
    const row = await sql<{ now: string }>`select date_format(utc_timestamp(3), '%Y-%m-%dT%H:%i:%s.%f') as now`.execute(
      db,
    )
    return `${String(row.rows[0]!.now).slice(0, 23)}Z`
  }
  const row = await sql<{ now: string }>`select strftime('%Y-%m-%dT%H:%M:%fZ', 'now') as now`.execute(db)
  return row.rows[0]!.now
}

/** ISO text plus a duration. */
export function isoPlus(iso: string, ms: number): string {
  return isoAt(Date.parse(iso) + ms)
}
