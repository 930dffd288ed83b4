import type { Kysely } from 'kysely'
import { createTable, isMysql, longTextType } from '../src/db/dialect.js'

/**
 * Harvesting (src/harvest/): sources of a Kommune, jobs claimed with a lease, the link of each harvested
 * dataset to its source, and a log per job.
 *
 * - `harvest_job.claimed_by` / `lease_until`: the process running a job and until when its claim holds; it
 *   renews the lease while it works. A job whose lease expired (its process died) is taken over or failed.
 * - `harvest_job.active_source`: the source id while the job is new or running, NULL afterwards: a unique
 *   key on it makes "one job per source at a time" a database rule, not a check that two callers could race.
 * - `harvest_object`: which dataset came from which source, under which source URI and identifier, with the
 *   content hash and dct:modified of what was written last (unchanged datasets are not rewritten).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const mysql = isMysql(db)
  await createTable(db, 'harvest_source')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey().notNull())
    .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
    .addColumn('title', 'varchar(500)', (c) => c.notNull())
    .addColumn('type', 'varchar(10)', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('owner_org', 'varchar(36)', (c) => c.notNull().references('organization.id'))
    // JSON object text: organizations (CKAN filter), format (DCAT override), margin_seconds...
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('interval_hours', 'integer', (c) => c.notNull())
    .addColumn('state', 'varchar(20)', (c) => c.notNull())
    .addColumn('created', 'char(26)', (c) => c.notNull())
    .addColumn('modified', 'char(26)', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('harvest_source_org').on('harvest_source').column('owner_org').execute()

  await createTable(db, 'harvest_job')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey().notNull())
    .addColumn('source_id', 'varchar(36)', (c) => c.notNull().references('harvest_source.id').onDelete('cascade'))
    .addColumn('active_source', 'varchar(36)', (c) => c.unique())
    // new | running | finished | failed | aborted | needs_confirmation
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('full_run', 'integer', (c) => c.notNull())
    .addColumn('confirm_withdrawals', 'integer', (c) => c.notNull())
    .addColumn('abort_requested', 'integer', (c) => c.notNull())
    .addColumn('claimed_by', 'varchar(100)')
    .addColumn('lease_until', 'char(26)')
    .addColumn('created', 'char(26)', (c) => c.notNull())
    .addColumn('started', 'char(26)')
    .addColumn('finished', 'char(26)')
    // JSON object text: added, updated, unchanged, withdrawn, skipped, failed, pages.
    .addColumn('counts', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .execute()
  await db.schema.createIndex('harvest_job_source').on('harvest_job').columns(['source_id', 'created']).execute()
  await db.schema.createIndex('harvest_job_status').on('harvest_job').columns(['status', 'created']).execute()

  await createTable(db, 'harvest_object')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey().notNull())
    .addColumn('source_id', 'varchar(36)', (c) => c.notNull().references('harvest_source.id').onDelete('cascade'))
    .addColumn('package_id', 'varchar(36)', (c) => c.notNull().unique().references('package.id').onDelete('cascade'))
    // sha256 of the source's identity of the dataset (its URI, else dct:identifier / CKAN id): unique per source.
    .addColumn('guid_hash', 'char(64)', (c) => c.notNull())
    .addColumn('source_uri', 'text')
    .addColumn('identifier', 'text')
    .addColumn('content_hash', 'char(64)', (c) => c.notNull())
    .addColumn('source_modified', 'varchar(40)')
    .addColumn('last_job_id', 'varchar(36)')
    // 1 while the dataset is withdrawn (deleted here because it vanished from its source).
    .addColumn('withdrawn', 'integer', (c) => c.notNull())
    .addColumn('created', 'char(26)', (c) => c.notNull())
    .addColumn('modified', 'char(26)', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('harvest_object_guid')
    .on('harvest_object')
    .columns(['source_id', 'guid_hash'])
    .unique()
    .execute()

  await createTable(db, 'harvest_log')
    .addColumn('id', mysql ? 'bigint' : 'integer', (c) => c.primaryKey().autoIncrement().notNull())
    .addColumn('job_id', 'varchar(36)', (c) => c.notNull().references('harvest_job.id').onDelete('cascade'))
    // info | warning | error
    .addColumn('level', 'varchar(10)', (c) => c.notNull())
    .addColumn('created', 'char(26)', (c) => c.notNull())
    .addColumn('guid', 'text')
    .addColumn('message', longTextType(db), (c) => c.notNull())
    .execute()
  await db.schema.createIndex('harvest_log_job').on('harvest_log').columns(['job_id', 'id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('harvest_log').execute()
  await db.schema.dropTable('harvest_object').execute()
  await db.schema.dropTable('harvest_job').execute()
  await db.schema.dropTable('harvest_source').execute()
}
