import type { Kysely } from 'kysely'
import { createTable, longTextType } from '../src/db/dialect.js'

/**
 * The comparison of Kommunen (src/stats/): maintained aggregates, so that the stats endpoints read a few rows
 * instead of scanning the catalog per request.
 *
 * - `stats_kommune`: one row per Kommune, its aggregate (JSON text: the public figures, the lowest-scoring
 *   datasets and the fixes worth most), rewritten when one of its datasets changes (change feed) or when the
 *   link checks, the usage counts or the day change.
 * - `stats_state`: one row (id 1): what the stored aggregates were computed from: the change-feed sequence,
 *   the newest link-check history id, the usage marker and the day (database clock), and when; `version` grows by
 *   one with every stored refresh (readers key their in-memory copy by it, by equality).
 * - `stats_lease`: one row (id 1): which process refreshes now (`token`) and until when (`expires`, seconds of
 *   the database clock), so that at most one process of a service recomputes at a time.
 * - `stats_kommune_day`: one row per Kommune and day (the primary key: any number of servers write at most one
 *   row per day): the figures of the day's last refresh, for the trend lines. Score means and band counts per day
 *   are not duplicated here: they come from quality_history_org (migrations/0010_quality.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await createTable(db, 'stats_kommune')
    .addColumn('owner_org', 'varchar(36)', (c) => c.primaryKey().notNull())
    .addColumn('body', longTextType(db), (c) => c.notNull())
    .execute()

  await createTable(db, 'stats_state')
    .addColumn('id', 'integer', (c) => c.primaryKey().notNull())
    .addColumn('feed_seq', 'bigint', (c) => c.notNull())
    .addColumn('link_seq', 'bigint', (c) => c.notNull())
    .addColumn('usage_marker', 'varchar(100)', (c) => c.notNull())
    .addColumn('as_of', 'char(10)', (c) => c.notNull())
    .addColumn('generated', 'varchar(30)', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute()

  await createTable(db, 'stats_lease')
    .addColumn('id', 'integer', (c) => c.primaryKey().notNull())
    .addColumn('token', 'varchar(36)')
    .addColumn('expires', 'bigint', (c) => c.notNull())
    .execute()

  await createTable(db, 'stats_kommune_day')
    .addColumn('day', 'char(10)', (c) => c.notNull())
    .addColumn('owner_org', 'varchar(36)', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('stats_kommune_day_pk', ['day', 'owner_org'])
    .execute()
  await db.schema.createIndex('stats_kommune_day_org').on('stats_kommune_day').columns(['owner_org', 'day']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stats_kommune_day').execute()
  await db.schema.dropTable('stats_lease').execute()
  await db.schema.dropTable('stats_state').execute()
  await db.schema.dropTable('stats_kommune').execute()
}
