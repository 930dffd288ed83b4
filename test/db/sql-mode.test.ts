import t from 'tap'
import { sql } from 'kysely'
import { SQL_MODE } from '../../src/db/connect.js'
import { forEachBackend } from '../helpers/backends.js'

/**
 * Every MySQL/MariaDB connection runs in the SQL mode the code is written for, whatever the server's default:
 * without NO_BACKSLASH_ESCAPES (mysql2 escapes values with backslashes) and strict.
 */
await forEachBackend(t, async (t, backend) => {
  if (backend.name !== 'mysql') {
    t.pass('SQLite has no SQL mode')
    return
  }
  // Several connections of the pool, each asked on its own.
  const modes = await Promise.all(
    Array.from({ length: 4 }, () =>
      backend.store.db
        .connection()
        .execute(
          async (conn) => (await sql<{ mode: string }>`select @@SESSION.sql_mode as mode`.execute(conn)).rows[0]!.mode,
        ),
    ),
  )
  for (const mode of modes) {
    t.equal(mode, SQL_MODE)
    t.notMatch(mode, /NO_BACKSLASH_ESCAPES/)
  }
  // A value with quotes and backslashes round-trips through a multi-statement batch as it is.
  const hostile = `a\\' ; drop table package; -- \\\\ '" \\x00`
  const row = await sql<{ v: string }>`select ${hostile} as v`.execute(backend.store.db)
  t.equal(row.rows[0]!.v, hostile)
})
