import type { Kysely } from 'kysely'
import { createTable } from '../src/db/dialect.js'

/**
 * `usage_state`: one row (id 1) whose `version` grows by one in the transaction of every usage flush that wrote
 * counts and of every retention prune that deleted some (src/usage/counter.ts). Readers key their in-memory copy
 * of the usage report by it, by equality (src/usage/report-cache.ts), instead of scanning usage_daily per request.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await createTable(db, 'usage_state')
    .addColumn('id', 'integer', (c) => c.primaryKey().notNull())
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.insertInto('usage_state').values({ id: 1, version: 0 }).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('usage_state').execute()
}
