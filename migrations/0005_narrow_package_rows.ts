import type { Kysely } from 'kysely'
import { sql } from 'kysely'
import { createTable, isMysql, longTextType } from '../src/db/dialect.js'

/**
 * Search and facets scan the package rows: the rendered document (KBs each) moves to its own table so those
 * rows stay narrow, and `visible` (active, public, type dataset: what anonymous callers see) gets covering
 * indexes for the facet columns and the paging orders.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const mysql = isMysql(db)
  const table = createTable(db, 'package_document')
    .addColumn('package_id', 'varchar(36)', (c) => c.primaryKey().notNull().references('package.id').onDelete('cascade'))
    .addColumn('theme_ids', 'varchar(1000)', (c) => c.notNull())
    .addColumn('document', longTextType(db), (c) => c.notNull())
  await table.execute()
  await sql`insert into package_document (package_id, theme_ids, document) select id, theme_ids, document from package`.execute(db)
  await db.schema.alterTable('package').dropColumn('document').execute()
  await db.schema.alterTable('package').dropColumn('theme_ids').execute()

  await db.schema.alterTable('package').addColumn('visible', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  await sql`update package set visible = case when state = 'active' and private = 0 and type = 'dataset' then 1 else 0 end`.execute(db)
  const indexes: Array<[string, string[]]> = [
    ['package_v_org', ['visible', 'owner_org']],
    ['package_v_license', ['visible', 'license_id']],
    ['package_v_modified', ['visible', 'metadata_modified', 'id']],
    ['package_v_created', ['visible', 'metadata_created', 'id']],
    ['package_v_name', ['visible', 'name']],
    ['package_v_id', ['visible', 'id']],
    ['package_v_title', ['visible', 'title']],
  ]
  for (const [name, columns] of indexes) await db.schema.createIndex(name).on('package').columns(columns).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of ['package_v_org', 'package_v_license', 'package_v_modified', 'package_v_created', 'package_v_name', 'package_v_id', 'package_v_title']) {
    await db.schema.dropIndex(name).on('package').execute()
  }
  await db.schema.alterTable('package').dropColumn('visible').execute()
  await db.schema.alterTable('package').addColumn('theme_ids', 'varchar(1000)', (c) => c.notNull().defaultTo('[]')).execute()
  await db.schema.alterTable('package').addColumn('document', longTextType(db)).execute()
  await sql`update package set document = (select d.document from package_document d where d.package_id = package.id), theme_ids = (select d.theme_ids from package_document d where d.package_id = package.id)`.execute(db)
  await db.schema.dropTable('package_document').execute()
}
