import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Database } from '../../src/db/types.js'

const TABLES = ['organization', 'theme', 'license', 'package', 'package_extra', 'resource', 'tag', 'package_tag', 'package_theme', 'package_text', 'search_term', 'package_document', 'app_user', 'api_token', 'member', 'activity'] as const

/** Every row of every table, in a stable order, hashed: equal hashes mean byte-for-byte equal contents. */
export async function dumpDatabase(db: Kysely<Database>): Promise<{ hash: string; rows: number }> {
  const hash = createHash('sha256')
  let rows = 0
  for (const table of TABLES) {
    const all = (await db.selectFrom(table).selectAll().execute()) as Array<Record<string, unknown>>
    const lines = all.map((row) => JSON.stringify(Object.keys(row).sort().map((k) => [k, row[k] === null ? null : String(row[k])]))).sort()
    hash.update(`${table}\n${lines.join('\n')}\n`)
    rows += lines.length
  }
  return { hash: hash.digest('hex'), rows }
}
