import type { Kysely } from 'kysely'
import { createTable, isMysql } from '../src/db/dialect.js'

/**
 * Background work that must run once per service, and link results waiting to reach the scores (issue 12).
 *
 * - `service_lease`: one row per background task that exactly one process of the service runs at a time (the
 *   link scheduler): who holds it and until when, as ISO 8601 UTC text of the DATABASE's clock (never a
 *   process's), renewed by the holder, taken over by another process only once it ran out.
 * - `link_rescore_pending`: URLs (by url_hash, src/links/tables.ts) whose health changed at a check, written in
 *   the check's own transaction; the datasets holding them are rescored off the request path and the rows
 *   removed by id after (numbered by the database, so a change recorded meanwhile is never removed unseen).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await createTable(db, 'service_lease')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey().notNull())
    .addColumn('holder', 'varchar(100)', (c) => c.notNull())
    .addColumn('lease_until', 'varchar(24)', (c) => c.notNull())
    .execute()
  await createTable(db, 'link_rescore_pending')
    .addColumn('id', isMysql(db) ? 'bigint' : 'integer', (c) => c.primaryKey().autoIncrement().notNull())
    .addColumn('url_hash', 'char(64)', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['link_rescore_pending', 'service_lease']) await db.schema.dropTable(table).execute()
}
