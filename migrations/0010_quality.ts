import type { Kysely } from 'kysely'
import { createTable, longTextType } from '../src/db/dialect.js'

/**
 * Metadata quality (src/quality/): the MQA score of every dataset in both modes, written by the dataset's own
 * write transaction, and a daily history per dataset and per Kommune.
 *
 * `package_quality`: one row per dataset (the current score; `visible` copies package.visible at the write, so
 * that the per-Kommune aggregates count only what anonymous callers see). Proportional scores are kept with two
 * decimals; the per-Kommune sums of them in hundredths of a point (integers: sums of many writes do not drift).
 *
 * `quality_history`: one row per dataset and day ('YYYY-MM-DD', the day of the write's catalog time) on which
 * the dataset was written, updated in place by later writes of that day. A day without a row carries the state
 * of the newest earlier row.
 *
 * `quality_history_org`: one row per Kommune and day on which one of its datasets was written: the state of
 * the Kommune at the end of that day (counts, sums, means and band counts of its visible datasets), made from
 * the newest earlier row plus the change of each write; a day without a row carries the newest earlier one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await createTable(db, 'package_quality')
    .addColumn('package_id', 'varchar(36)', (c) =>
      c.primaryKey().notNull().references('package.id').onDelete('cascade'),
    )
    .addColumn('owner_org', 'varchar(36)')
    .addColumn('visible', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('score_portal', 'integer', (c) => c.notNull())
    .addColumn('band_portal', 'varchar(12)', (c) => c.notNull())
    .addColumn('score_proportional', 'double precision', (c) => c.notNull())
    .addColumn('band_proportional', 'varchar(12)', (c) => c.notNull())
    .addColumn('explanation', longTextType(db), (c) => c.notNull())
    .addColumn('computed_at', 'char(26)', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('package_quality_v_score')
    .on('package_quality')
    .columns(['visible', 'score_portal', 'package_id'])
    .execute()
  await db.schema
    .createIndex('package_quality_v_band')
    .on('package_quality')
    .columns(['visible', 'band_portal'])
    .execute()
  await db.schema.createIndex('package_quality_org').on('package_quality').columns(['owner_org', 'visible']).execute()

  await createTable(db, 'quality_history')
    .addColumn('day', 'char(10)', (c) => c.notNull())
    .addColumn('package_id', 'varchar(36)', (c) => c.notNull().references('package.id').onDelete('cascade'))
    .addColumn('owner_org', 'varchar(36)')
    .addColumn('visible', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('score_portal', 'integer', (c) => c.notNull())
    .addColumn('band_portal', 'varchar(12)', (c) => c.notNull())
    .addColumn('score_proportional', 'double precision', (c) => c.notNull())
    .addColumn('band_proportional', 'varchar(12)', (c) => c.notNull())
    .addPrimaryKeyConstraint('quality_history_pk', ['day', 'package_id'])
    .execute()
  await db.schema.createIndex('quality_history_package').on('quality_history').columns(['package_id', 'day']).execute()

  const counter = (name: string) => (t: any) => t.addColumn(name, 'integer', (c: any) => c.notNull().defaultTo(0))
  let org: any = createTable(db, 'quality_history_org')
    .addColumn('day', 'char(10)', (c) => c.notNull())
    .addColumn('owner_org', 'varchar(36)', (c) => c.notNull())
    .addColumn('dataset_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('score_portal_sum', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('score_proportional_sum_centi', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('mean_portal', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('mean_proportional', 'double precision', (c) => c.notNull().defaultTo(0))
  for (const mode of ['portal', 'proportional']) {
    for (const band of ['excellent', 'good', 'sufficient', 'bad']) org = counter(`${mode}_${band}`)(org)
  }
  org = org.addPrimaryKeyConstraint('quality_history_org_pk', ['day', 'owner_org'])
  await org.execute()
  await db.schema
    .createIndex('quality_history_org_org')
    .on('quality_history_org')
    .columns(['owner_org', 'day'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('quality_history_org').execute()
  await db.schema.dropTable('quality_history').execute()
  await db.schema.dropTable('package_quality').execute()
}
