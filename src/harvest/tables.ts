import type { Generated } from 'kysely'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/types.js'
import { isMysql } from '../db/dialect.js'

/** The tables of migrations/0009_harvest.ts (kept beside the harvester, which alone uses them). */
export interface HarvestSourceTable {
  id: string
  name: string
  title: string
  /** 'ckan' | 'dcat' */
  type: string
  url: string
  owner_org: string
  /** JSON object text: SourceConfig. */
  config: string
  interval_hours: number
  /** 'active' | 'deleting' (harvest_source_delete began; its datasets are being detached) | 'deleted' */
  state: string
  created: string
  modified: string
}

export interface HarvestJobTable {
  id: string
  source_id: string
  /** The source id while the job is new or running (unique: one such job per source), else null. */
  active_source: string | null
  status: JobStatus
  full_run: number
  confirm_withdrawals: number
  abort_requested: number
  claimed_by: string | null
  lease_until: string | null
  created: string
  started: string | null
  finished: string | null
  /** JSON object text: JobCounts. */
  counts: string
  error: string | null
}

export interface HarvestObjectTable {
  id: string
  source_id: string
  package_id: string
  guid_hash: string
  source_uri: string | null
  identifier: string | null
  content_hash: string
  source_modified: string | null
  last_job_id: string | null
  withdrawn: number
  created: string
  modified: string
}

export interface HarvestLogTable {
  /** Numbered by the database (AUTO_INCREMENT / INTEGER PRIMARY KEY): the order of the report. */
  id: Generated<number>
  job_id: string
  level: 'info' | 'warning' | 'error'
  created: string
  guid: string | null
  message: string
}

// A type alias (not an interface): Kysely's withTables wants an indexable record.
export type HarvestTables = {
  harvest_source: HarvestSourceTable
  harvest_job: HarvestJobTable
  harvest_object: HarvestObjectTable
  harvest_log: HarvestLogTable
}

export type HarvestDb = Kysely<Database & HarvestTables>

export type JobStatus = 'new' | 'running' | 'finished' | 'failed' | 'aborted' | 'needs_confirmation'

export interface JobCounts {
  added: number
  updated: number
  unchanged: number
  withdrawn: number
  skipped: number
  failed: number
  pages: number
}

export const emptyCounts = (): JobCounts => ({
  added: 0,
  updated: 0,
  unchanged: 0,
  withdrawn: 0,
  skipped: 0,
  failed: 0,
  pages: 0,
})

export interface SourceConfig {
  /** CKAN: only datasets of these organizations (names at the source). */
  organizations?: string[]
  /** DCAT: the RDF format whatever the Content-Type says (ttl, rdf, jsonld, nt). */
  format?: string
  /** CKAN: rows per page (default 100, at most 1000). */
  rows?: number
  /** CKAN incremental runs look back this far before the last successful run's start (default 3600 s). */
  margin_seconds?: number
}

export function harvestDb(db: Kysely<Database>): HarvestDb {
  return db.withTables<HarvestTables>()
}

/**
 * The database's clock as a CKAN timestamp (naive UTC, microseconds). Leases are stamped and compared with
 * this one clock, so several machines with skewed clocks still agree whose lease has expired.
 */
export async function databaseNow(db: Kysely<Database> | HarvestDb): Promise<string> {
  if (isMysql(db)) {
    const row = await sql<{ now: string }>`select date_format(utc_timestamp(6), '%Y-%m-%dT%H:%i:%s.%f') as now`.execute(
      db,
    )
    return row.rows[0].now
  }
  const row = await sql<{ now: string }>`select strftime('%Y-%m-%dT%H:%M:%f', 'now') as now`.execute(db)
  return `${row.rows[0].now}000`
}
