import type { Kysely } from 'kysely'
import { createTable, isMysql } from '../src/db/dialect.js'

/**
 * The link checker's state and the usage counts (issue 12).
 *
 * Link checks are keyed by `url_hash`: the sha256 (hex) of the URL exactly as stored in the resource
 * (src/links/url-key.ts), not of src/catalog/uris.ts uriIdentity: that identity makes http and https, or
 * escaped and unescaped forms, one name, while a link checker must report on the very URL a user follows
 * (http may fail where https answers). Times are ISO 8601 UTC strings (`2026-01-31T12:00:00.000Z`), which
 * compare in order as text on both stores.
 *
 * - `link_check`: the latest result per URL (`status` reachable | unreachable, `error_code` one of
 *   timeout, dns, tls, refused, reset, invalid_url, redirect_loop, too_many_redirects, http_error,
 *   blocked), when it was checked, when it is due again, and how many checks in a row failed.
 * - `link_check_history`: one row per check of a URL.
 * - `link_check_job`: the URLs to check, leased as jobs (`claimed_by`, `lease_until`) so that several
 *   checkers on one database never check the same URL at once; `due_at` is when it is next due.
 * - `usage_daily`: counts per day, dataset, Kommune and kind (view_api, view_rdf, download,
 *   harvester_visit); `package_id` '' for visits not of one dataset (a harvester reading the catalog).
 * - `usage_zero_result_search`: per day, searches that found nothing, by their normalised query text.
 *
 * No IP address, cookie, user agent string or token is stored in any of them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const mysql = isMysql(db)
  await createTable(db, 'link_check')
    .addColumn('url_hash', 'char(64)', (c) => c.primaryKey().notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(12)', (c) => c.notNull())
    .addColumn('http_status', 'integer')
    .addColumn('error_code', 'varchar(32)')
    .addColumn('final_url', 'text')
    .addColumn('redirects', 'integer', (c) => c.notNull())
    .addColumn('content_type', 'varchar(255)')
    .addColumn('declared_media_type', 'varchar(255)')
    .addColumn('media_type_mismatch', 'integer', (c) => c.notNull())
    .addColumn('checked_at', 'varchar(24)', (c) => c.notNull())
    .addColumn('next_check_at', 'varchar(24)', (c) => c.notNull())
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull())
    .execute()

  await createTable(db, 'link_check_history')
    .addColumn('id', mysql ? 'bigint' : 'integer', (c) => c.primaryKey().autoIncrement().notNull())
    .addColumn('url_hash', 'char(64)', (c) => c.notNull())
    .addColumn('checked_at', 'varchar(24)', (c) => c.notNull())
    .addColumn('status', 'varchar(12)', (c) => c.notNull())
    .addColumn('http_status', 'integer')
    .addColumn('error_code', 'varchar(32)')
    .addColumn('redirects', 'integer', (c) => c.notNull())
    .addColumn('content_type', 'varchar(255)')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('link_check_history_url').on('link_check_history').columns(['url_hash', 'id']).execute()

  await createTable(db, 'link_check_job')
    .addColumn('url_hash', 'char(64)', (c) => c.primaryKey().notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('declared_media_type', 'varchar(255)')
    .addColumn('due_at', 'varchar(24)', (c) => c.notNull())
    .addColumn('claimed_by', 'varchar(100)')
    .addColumn('lease_until', 'varchar(24)')
    .execute()
  await db.schema.createIndex('link_check_job_due').on('link_check_job').columns(['due_at']).execute()

  await createTable(db, 'usage_daily')
    .addColumn('day', 'char(10)', (c) => c.notNull())
    .addColumn('package_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('owner_org', 'varchar(36)', (c) => c.notNull())
    .addColumn('kind', 'varchar(20)', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_daily_pk', ['day', 'package_id', 'owner_org', 'kind'])
    .execute()
  await db.schema.createIndex('usage_daily_org').on('usage_daily').columns(['owner_org', 'day']).execute()

  await createTable(db, 'usage_zero_result_search')
    .addColumn('day', 'char(10)', (c) => c.notNull())
    .addColumn('query_hash', 'char(64)', (c) => c.notNull())
    .addColumn('query', 'varchar(200)', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_zero_result_search_pk', ['day', 'query_hash'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'usage_zero_result_search',
    'usage_daily',
    'link_check_job',
    'link_check_history',
    'link_check',
  ]) {
    await db.schema.dropTable(table).execute()
  }
}
