import type { Kysely } from 'kysely'

/**
 * Read-path speed: theme ids beside the document (package_show in one query), and covering indexes for
 * the per-organization counts and package_list, which otherwise read every wide row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('package').addColumn('theme_ids', 'varchar(1000)', (c) => c.notNull().defaultTo('[]')).execute()
  await db.schema.createIndex('package_visible_org').on('package').columns(['state', 'private', 'owner_org']).execute()
  await db.schema.createIndex('package_visible_name').on('package').columns(['state', 'private', 'type', 'name']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('package_visible_name').on('package').execute()
  await db.schema.dropIndex('package_visible_org').on('package').execute()
  await db.schema.alterTable('package').dropColumn('theme_ids').execute()
}
