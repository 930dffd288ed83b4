import type { Kysely } from 'kysely'
import { createTable, isMysql } from '../src/db/dialect.js'

/**
 * `org_rescore_pending`: Kommunen (organization ids) whose change alters what their datasets score (their
 * e-mail, the contact point's fallback; their geocoding URI, the spatial fallback: quality/facts.ts), written
 * in the organization write's own transaction (catalog/service.ts updateOrganization). One row per Kommune
 * write, not one per dataset: a Kommune with tens of thousands of datasets would otherwise make one large
 * transaction of a small edit. The background rescorer (quality/backfill.ts rescorePending) rescores the
 * Kommune's datasets off the request path, a batch per transaction, and removes the rows it read by id.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await createTable(db, 'org_rescore_pending')
    .addColumn('id', isMysql(db) ? 'bigint' : 'integer', (c) => c.primaryKey().autoIncrement().notNull())
    .addColumn('owner_org', 'varchar(36)', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('org_rescore_pending').execute()
}
