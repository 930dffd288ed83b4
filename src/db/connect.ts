import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { Kysely, MysqlDialect, SqliteDialect, type LogEvent } from 'kysely'
import { ConfigError, redact, type DatabaseConfig } from '../config.js'
import type { Database } from './types.js'

export type DialectName = 'sqlite' | 'mysql'

export interface Store {
  db: Kysely<Database>
  dialect: DialectName
  close(): Promise<void>
  /** Number of SQL statements executed so far (tests use it to prove bounded queries). */
  queryCount(): number
}

/** Opens the database named by the configuration and checks that it answers. */
export async function openStore(config: DatabaseConfig): Promise<Store> {
  let count = 0
  // GODONU_TRACE_SQL=1 prints every statement with its duration to stderr (diagnosis only).
  const trace = process.env.GODONU_TRACE_SQL === '1'
  const log = (event: LogEvent) => {
    count++
    if (trace) process.stderr.write(`[sql ${event.queryDurationMillis.toFixed(1)} ms] ${event.query.sql.replace(/\s+/g, ' ').slice(0, 220)}\n`)
  }
  if (config.kind === 'sqlite') {
    const { default: SQLite } = await import('better-sqlite3')
    if (config.file !== ':memory:') mkdirSync(dirname(config.file), { recursive: true })
    let handle
    try {
      handle = new SQLite(config.file)
    } catch (err) {
      throw new ConfigError(`cannot open SQLite database ${config.file}: ${(err as Error).message}`)
    }
    handle.pragma('journal_mode = WAL')
    handle.pragma('synchronous = NORMAL')
    handle.pragma('foreign_keys = ON')
    handle.pragma('busy_timeout = 5000')
    cachePreparedStatements(handle)
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: handle }), log })
    return { db, dialect: 'sqlite', close: () => db.destroy(), queryCount: () => count }
  }
  const { createPool } = await import('mysql2')
  const pool = createPool({
    host: config.host,
    port: config.port,
    ...(config.socketPath ? { socketPath: config.socketPath } : {}),
    user: config.user,
    password: config.password,
    database: config.database,
    connectionLimit: 10,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    connectTimeout: 5000,
    // A dataset write sends its statements in one round trip (StatementBatch); values stay escaped by mysql2.
    multipleStatements: true,
  })
  const db = new Kysely<Database>({ dialect: new MysqlDialect({ pool }), log })
  try {
    await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute()
  } catch (err) {
    await db.destroy().catch(() => {})
    const e = err as NodeJS.ErrnoException & { sqlMessage?: string }
    throw new ConfigError(
      `cannot reach MySQL/MariaDB at ${redact(config.url)}: ${e.sqlMessage || e.code || e.message}`,
    )
  }
  return { db, dialect: 'mysql', close: () => db.destroy(), queryCount: () => count }
}

/**
 * Kysely's SQLite driver prepares every statement anew; reusing prepared statements by SQL text saves
 * a good part of a small query's cost. A statement still iterating (a stream) is not shared.
 */
function cachePreparedStatements(handle: import('better-sqlite3').Database): void {
  const cache = new Map<string, import('better-sqlite3').Statement>()
  const prepare = handle.prepare.bind(handle)
  handle.prepare = ((source: string) => {
    const cached = cache.get(source)
    if (cached && !cached.busy) return cached
    const statement = prepare(source)
    if (!cached && cache.size < 1000) cache.set(source, statement)
    return statement
  }) as typeof handle.prepare
}
