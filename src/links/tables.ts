import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Database } from '../db/types.js'

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
