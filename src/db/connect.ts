import { accessSync, constants, mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { CompiledQuery, Kysely, MysqlDialect, SqliteDialect, type LogEvent } from 'kysely'
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

/** The SQL mode of every MySQL/MariaDB connection (see openStore). */
export const SQL_MODE = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'

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
    if (config.file !== ':memory:') prepareSqliteFile(config.file)
    let handle
    try {
      handle = new SQLite(config.file)
      handle.pragma('journal_mode = WAL')
      handle.pragma('synchronous = NORMAL')
      handle.pragma('foreign_keys = ON')
      handle.pragma('busy_timeout = 5000')
    } catch (err) {
      handle?.close()
      throw new ConfigError(`DATABASE_URL: cannot open the SQLite database ${config.file}: ${(err as Error).message} (${sqliteFix(err)})`)
    }
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
  const db = new Kysely<Database>({
    dialect: new MysqlDialect({
      pool,
      // Every connection gets the SQL mode the code is written for, whatever the server's default: strict (too
      // long a value is an error, not a silent cut) and without NO_BACKSLASH_ESCAPES, under which the
      // backslash escaping of mysql2 (StatementBatch, every bound value) would no longer quote safely.
      onCreateConnection: async (connection) => {
        await connection.executeQuery(CompiledQuery.raw(`SET SESSION sql_mode = '${SQL_MODE}'`))
      },
    }),
    log,
  })
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

const WRITABLE_FIX = 'make the file and its directory writable for the user running godonu, or set DATABASE_URL to a file in a writable data directory'

/** What to do about an error SQLite gave when opening: the only likely cause at start is access. */
function sqliteFix(err: unknown): string {
  const code = String((err as { code?: unknown }).code ?? '')
  return code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' ? WRITABLE_FIX : 'check the file named by DATABASE_URL'
}

/**
 * Checks, before SQLite opens it, that the database file can be a writable regular file: SQLite itself
 * opens a file it may not write read-only without a word and fails at the first write, and it blocks on
 * a FIFO. Every problem is a ConfigError naming DATABASE_URL and the fix.
 */
function prepareSqliteFile(file: string): void {
  const dir = dirname(file)
  try {
    mkdirSync(dir, { recursive: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw new ConfigError(`DATABASE_URL: the data directory ${dir} cannot be created, a part of that path is a file: set DATABASE_URL to a file in a directory (e.g. sqlite:./data/godonu.sqlite)`)
    }
    throw new ConfigError(`DATABASE_URL: the data directory ${dir} cannot be created (${code ?? (err as Error).message}): ${WRITABLE_FIX}`)
  }
  let exists = true
  try {
    if (!statSync(file).isFile()) throw new ConfigError(`DATABASE_URL: ${file} is not a regular file: name a database file (it is created when missing)`)
  } catch (err) {
    if (err instanceof ConfigError) throw err
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`DATABASE_URL: cannot read ${file} (${(err as NodeJS.ErrnoException).code}): ${WRITABLE_FIX}`)
    exists = false
  }
  // SQLite writes the file and, beside it, its -wal and -shm files.
  for (const path of exists ? [file, dir] : [dir]) {
    try {
      accessSync(path, constants.R_OK | constants.W_OK)
    } catch (err) {
      const what = path === file ? 'the SQLite database' : 'the directory of the SQLite database'
      throw new ConfigError(`DATABASE_URL: ${what} ${path} is read-only for this user (${(err as NodeJS.ErrnoException).code}): ${WRITABLE_FIX}`)
    }
  }
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
