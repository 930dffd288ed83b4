import { MysqlAdapter, sql, type Kysely, type RawBuilder } from 'kysely'

/** Dialect differences live here, behind small named functions. */
export function isMysql(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof MysqlAdapter
}

/** A text column large enough for a rendered package dict (MySQL TEXT stops at 64 KB). */
export function longTextType(db: Kysely<any>): RawBuilder<unknown> {
  return isMysql(db) ? sql`mediumtext` : sql`text`
}


/**
 * LIKE escaping that means the same on SQLite and MySQL: `!` as the escape character (a backslash is
 * itself an escape in MySQL string literals). Use with `like ${pattern} escape '!'`.
 */
export function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`)
}
