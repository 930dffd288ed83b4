import type { Kysely } from 'kysely'
import { createTable, isMysql, longTextType } from '../src/db/dialect.js'
import { uriHash } from '../src/catalog/uris.js'

/**
 * The change feed: every write appends a row, in its own transaction, numbered by a database sequence
 * (not a timestamp), which every server process tails to keep its caches and indexes current
 * (src/catalog/change-feed.ts). `change_feed_pruned.below` says up to where old rows were removed, so
 * that a process that fell behind the retention knows it must reload.
 *
 * `package_uri`: the explicit URIs of datasets and resources (the `uri` extra, a resource's `uri`), one
 * row each under a unique key, so that no two datasets or resources can share an RDF subject, even
 * when two editors write at the same moment.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const mysql = isMysql(db)
  await createTable(db, 'change_feed')
    .addColumn('seq', mysql ? 'bigint' : 'integer', (c) => c.primaryKey().autoIncrement().notNull())
    .addColumn('kind', 'varchar(20)', (c) => c.notNull())
    // JSON list of the changed datasets' ids and names (kind 'datasets').
    .addColumn('keys', longTextType(db), (c) => c.notNull())
    .execute()
  await createTable(db, 'change_feed_pruned')
    .addColumn('id', 'integer', (c) => c.primaryKey().notNull())
    .addColumn('below', 'bigint', (c) => c.notNull())
    .execute()
  await db.insertInto('change_feed_pruned').values({ id: 1, below: 0 }).execute()

  await createTable(db, 'package_uri')
    .addColumn('uri_hash', 'char(64)', (c) => c.primaryKey().notNull())
    .addColumn('uri', 'text', (c) => c.notNull())
    .addColumn('package_id', 'varchar(36)', (c) => c.notNull().references('package.id').onDelete('cascade'))
    .addColumn('resource_id', 'varchar(36)')
    .execute()
  await db.schema.createIndex('package_uri_package').on('package_uri').column('package_id').execute()

  // The URIs already stored: the first holder of a URI keeps it (later duplicates predate this rule).
  let after = ''
  for (;;) {
    const rows = await db
      .selectFrom('package')
      .select(['id', 'uri'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(500)
      .execute()
    if (rows.length === 0) break
    const ids = rows.map((r: { id: string }) => r.id)
    const extras = await db.selectFrom('package_extra').select(['package_id', 'value']).where('key', '=', 'uri').where('package_id', 'in', ids).execute()
    const resources = await db.selectFrom('resource').select(['id', 'package_id', 'extras']).where('package_id', 'in', ids).execute()
    const values: Array<{ uri_hash: string; uri: string; package_id: string; resource_id: string | null }> = []
    for (const r of rows as Array<{ id: string; uri: string | null }>) if (r.uri) values.push({ uri_hash: uriHash(r.uri), uri: r.uri, package_id: r.id, resource_id: null })
    for (const e of extras as Array<{ package_id: string; value: string }>) if (e.value) values.push({ uri_hash: uriHash(e.value), uri: e.value, package_id: e.package_id, resource_id: null })
    for (const r of resources as Array<{ id: string; package_id: string; extras: string }>) {
      const uri = (JSON.parse(r.extras) as { uri?: unknown }).uri
      if (typeof uri === 'string' && uri) values.push({ uri_hash: uriHash(uri), uri, package_id: r.package_id, resource_id: r.id })
    }
    if (values.length) await db.insertInto('package_uri').values(values).orIgnore().execute()
    after = rows.at(-1)!.id
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('package_uri').execute()
  await db.schema.dropTable('change_feed_pruned').execute()
  await db.schema.dropTable('change_feed').execute()
}
