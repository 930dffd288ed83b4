import type { Kysely } from 'kysely'

/**
 * The drill-down of a Kommune's datasets by score (GET /api/stats/kommunen/{name}/datasets, lowest first, paged):
 * an index per mode on the Kommune's visible scores, so that a page is a range scan of the index, never a sort of
 * the Kommune's datasets.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('package_quality_org_portal')
    .on('package_quality')
    .columns(['owner_org', 'visible', 'score_portal', 'package_id'])
    .execute()
  await db.schema
    .createIndex('package_quality_org_proportional')
    .on('package_quality')
    .columns(['owner_org', 'visible', 'score_proportional', 'package_id'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('package_quality_org_proportional').on('package_quality').execute()
  await db.schema.dropIndex('package_quality_org_portal').on('package_quality').execute()
}
