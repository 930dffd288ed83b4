import { sql, type Kysely } from 'kysely'
import { CatalogError } from '../errors.js'
import type { Store } from './connect.js'
import type { Database } from './types.js'

/**
 * The one place where database errors become CKAN errors, and where write transactions are retried.
 *
 * - A unique-key clash is a race another writer won (two creates or renames to one name at once): it is
 *   CKAN's Validation Error naming the field, as if the clash had been seen by the check before it.
 * - A deadlock, a lock wait timeout (MySQL) or a busy database (SQLite with several processes) means
 *   the transaction did nothing: it is run again, a bounded number of times, then answered as a 409.
 */

/**
 * What a unique key protects, for the field map of the 409. SQLite names the table and column of the
 * clash; MySQL/MariaDB names only the index ('PRIMARY', 'name') and the duplicate value, so the writer,
 * which knows the values it wrote, says which field a duplicate value belongs to.
 */
export type DuplicateField = (value: string | undefined, key: string) => { field: string; message: string } | undefined

const SQLITE_UNIQUE_COLUMNS: Record<string, { field: string; message: string }> = {
  'package.name': { field: 'name', message: 'That URL is already in use.' },
  'package.id': { field: 'id', message: 'Dataset id already exists' },
  'package_uri.uri_hash': { field: 'uri', message: 'That URI is already used by another dataset or resource.' },
  'resource.id': { field: 'resources', message: 'A resource with that id already exists.' },
  'organization.name': { field: 'name', message: 'Group name already exists in database' },
  'theme.name': { field: 'name', message: 'Group name already exists in database' },
  'app_user.name': { field: 'name', message: 'That login name is not available.' },
}

interface DriverError {
  code?: string
  errno?: number
  message?: string
  sqlMessage?: string
}

function driverError(err: unknown): DriverError | undefined {
  return err && typeof err === 'object' ? (err as DriverError) : undefined
}

/** Whether running the transaction again may succeed: it lost a lock race and did nothing. */
export function isRetryable(err: unknown): boolean {
  const e = driverError(err)
  if (!e) return false
  return (
    e.code === 'ER_LOCK_DEADLOCK' ||
    e.code === 'ER_LOCK_WAIT_TIMEOUT' ||
    e.errno === 1213 ||
    e.errno === 1205 ||
    e.code === 'SQLITE_BUSY' ||
    e.code === 'SQLITE_BUSY_SNAPSHOT' ||
    e.code === 'SQLITE_LOCKED'
  )
}

/** The CKAN error for a database error, or undefined when it is not a client's doing (a 500 then). */
export function catalogErrorFor(err: unknown, duplicateField?: DuplicateField): CatalogError | undefined {
  if (err instanceof CatalogError) return err
  const e = driverError(err)
  if (!e) return undefined
  const text = e.sqlMessage ?? e.message ?? ''
  if (e.code === 'ER_DUP_ENTRY' || e.errno === 1062 || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    // MySQL: "Duplicate entry 'x' for key 'name'"; SQLite: "UNIQUE constraint failed: package.name".
    const mysql = /^Duplicate entry '([\s\S]*)' for key '([^']+)'$/.exec(text)
    const sqliteKey = /constraint failed: ([^\s,]+)/.exec(text)?.[1]
    const key = mysql?.[2] ?? sqliteKey ?? ''
    const rule = duplicateField?.(mysql?.[1], key) ?? (sqliteKey ? SQLITE_UNIQUE_COLUMNS[sqliteKey] : undefined)
    return new CatalogError('validation', 'Validation Error', { [rule?.field ?? '__all__']: [rule?.message ?? 'That value is already in use.'] })
  }
  if (isRetryable(err)) {
    return new CatalogError('conflict', 'The database was busy with a conflicting change: please try again')
  }
  if (e.code === 'ER_DATA_TOO_LONG' || e.errno === 1406) {
    const column = /for column '([^']+)'/.exec(text)?.[1] ?? '__all__'
    return new CatalogError('validation', 'Validation Error', { [column]: ['Value is too long'] })
  }
  return undefined
}

/** How often a transaction that lost a lock race is run again before the client gets a 409. */
const MAX_ATTEMPTS = 5

/**
 * Runs `body` in a write transaction and commits it; retried when it lost a lock race, and database
 * errors mapped to CKAN errors. On SQLite the transaction takes the write lock when it begins
 * (BEGIN IMMEDIATE): a transaction that read first and then wanted to write could otherwise fail with
 * SQLITE_BUSY_SNAPSHOT when another process wrote in between, and waiting would not help it.
 */
export async function writeTransaction<T>(store: Store, body: (trx: Kysely<Database>) => Promise<T>, duplicateField?: DuplicateField): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (store.dialect === 'mysql') return await store.db.transaction().execute(body)
      return await store.db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn)
        try {
          const result = await body(conn)
          await sql`commit`.execute(conn)
          return result
        } catch (err) {
          await sql`rollback`.execute(conn).catch(() => {})
          throw err
        }
      })
    } catch (err) {
        if (attempt < MAX_ATTEMPTS && isRetryable(err)) {
        // A short, growing pause lets the winner finish; jitter keeps retries from colliding again.
        await new Promise((resolve) => setTimeout(resolve, attempt * 10 + Math.random() * 20))
        continue
      }
      throw catalogErrorFor(err, duplicateField) ?? err
    }
  }
}
