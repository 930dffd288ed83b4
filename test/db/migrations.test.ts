import t from 'tap'
import { readdirSync } from 'node:fs'
import { forEachBackend } from '../helpers/backends.js'
import { MIGRATIONS_DIR, migrateToLatest } from '../../src/db/migrate.js'

/** The same migrations must give the same tables and columns on SQLite and MySQL. */
const schemas = new Map<string, string>()

await forEachBackend(t, async (t, backend) => {
  const tables = await backend.store.db.introspection.getTables()
  const shape = tables
    .filter((table) => !table.name.startsWith('kysely_') && !table.name.startsWith('package_fts'))
    .map((table) => ({
      name: table.name,
      columns: table.columns.map((c) => `${c.name}${c.isNullable ? '?' : ''}`).sort(),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1))
  t.ok(shape.length >= 14, `${shape.length} tables`)
  const names = shape.map((s) => s.name)
  for (const expected of ['organization', 'theme', 'license', 'package', 'package_extra', 'resource', 'tag', 'package_tag', 'package_theme', 'package_text', 'app_user', 'api_token', 'member', 'activity']) {
    t.ok(names.includes(expected), `table ${expected}`)
  }
  schemas.set(backend.name, JSON.stringify(shape))
  const again = await migrateToLatest(backend.store.db)
  t.same(again, [], 'migrating again applies nothing')
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.ts')).length
  const applied = await backend.store.db.selectFrom('kysely_migration' as never).selectAll().execute()
  t.equal(applied.length, files, 'every migration file was applied')
  if (backend.name === 'mysql') {
    // The scratch database has the server's default collation; every table must state its own (createTable).
    const { sql } = await import('kysely')
    const collations = await sql<{ TABLE_NAME: string; TABLE_COLLATION: string }>`select TABLE_NAME, TABLE_COLLATION from information_schema.TABLES where TABLE_SCHEMA = database() and TABLE_NAME not like 'kysely%'`.execute(backend.store.db)
    const other = collations.rows.filter((r) => r.TABLE_COLLATION !== 'utf8mb4_bin').map((r) => `${r.TABLE_NAME}: ${r.TABLE_COLLATION}`)
    t.same(other, [], 'every table is utf8mb4_bin, whatever the database default')
  }
})

t.test('SQLite and MySQL schemas agree', async (t) => {
  if (!schemas.has('mysql')) {
    t.comment('skipping the comparison: no MySQL/MariaDB server configured (DATABASE_URL)')
    return
  }
  t.same(JSON.parse(schemas.get('mysql')!), JSON.parse(schemas.get('sqlite')!))
})
