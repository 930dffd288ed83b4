import type { Kysely } from 'kysely'

/** The res_format facet joins resources by dataset: this index answers it without reading the wide rows. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('resource_package_format').on('resource').columns(['package_id', 'state', 'format']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('resource_package_format').on('resource').execute()
}
