import { MysqlAdapter, sql, type CreateTableBuilder, type Kysely, type RawBuilder } from 'kysely'

/** Dialect differences live here, behind small named functions. */
export function isMysql(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof MysqlAdapter
}

/** A text column large enough for a rendered package dict (MySQL TEXT stops at 64 KB). */
export function longTextType(db: Kysely<any>): RawBuilder<unknown> {
  return isMysql(db) ? sql`mediumtext` : sql`text`
}

/**
 * CREATE TABLE with the table options every table of ours has on MySQL: InnoDB, utf8mb4 with binary collation
 * (identifiers and names compare case-sensitively, as on SQLite). Stated per table, never taken from the
 * database's default: a foreign key between columns of different collations cannot be created.
 */
export function createTable(db: Kysely<any>, name: string): CreateTableBuilder<string, never> {
  const builder = db.schema.createTable(name)
  return isMysql(db) ? builder.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`) : builder
}

/**
 * LIKE escaping that means the same on SQLite and MySQL: `!` as the escape character (a backslash is
 * itself an escape in MySQL string literals). Use with `like ${pattern} escape '!'`.
 */
export function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`)
}
