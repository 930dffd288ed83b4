import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { loadConfig, parseDatabaseUrl, type AppConfig } from '../../src/config.js'
import { openStore, type Store } from '../../src/db/connect.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { makeTempDir, removeTempDir } from './temp.js'

export interface Backend {
  name: 'sqlite' | 'mysql'
  config: AppConfig
  store: Store
  cleanup: () => Promise<void>
}

/** The MySQL server named by DATABASE_URL, when one is configured. */
export function mysqlUrl(): string | undefined {
  const url = process.env.DATABASE_URL
  return url && /^(mysql|mariadb):/.test(url) ? url : undefined
}

async function sqliteBackend(env: Record<string, string>): Promise<Backend> {
  const dir = makeTempDir('godonu-test-')
  const removeDir = () => removeTempDir(dir)
  let store: Store | undefined
  try {
    // No background rescorer: a test runs its step (rescorePending) when it means to.
    const config = loadConfig({
      QUALITY_RESCORE_MS: '0',
      ...env,
      DATABASE_URL: `sqlite:${join(dir, 'catalog.sqlite')}`,
      LOG_LEVEL: 'silent',
    })
    store = await openStore(config.database)
    await migrateToLatest(store.db)
    const opened = store
    return {
      name: 'sqlite',
      config,
      store,
      cleanup: async () => {
        try {
          await opened.close()
        } finally {
          removeDir()
        }
      },
    }
  } catch (err) {
    await store?.close().catch(() => {})
    removeDir()
    throw err
  }
}

/** Each test file gets a scratch database of its own on the server, dropped afterwards. */
export async function mysqlBackend(url: string, env: Record<string, string>): Promise<Backend> {
  const base = parseDatabaseUrl(url)
  if (base.kind !== 'mysql') throw new Error('not a MySQL URL')
  const scratch = `${base.database}_t${randomBytes(4).toString('hex')}`
  const { createConnection } = await import('mysql2/promise')
  const admin = await createConnection({ host: base.host, port: base.port, user: base.user, password: base.password })
  const dropScratch = async () => {
    try {
      await admin.query(`DROP DATABASE IF EXISTS \`${scratch}\``)
    } finally {
      await admin.end()
    }
  }
  let store: Store | undefined
  try {
    await admin.query(`CREATE DATABASE \`${scratch}\``) // the server's default collation, as a plain CREATE DATABASE gets: the tables state their own
    const scratchUrl = new URL(url)
    scratchUrl.pathname = `/${scratch}`
    const config = loadConfig({
      QUALITY_RESCORE_MS: '0',
      ...env,
      DATABASE_URL: scratchUrl.toString(),
      LOG_LEVEL: 'silent',
    })
    store = await openStore(config.database)
    await migrateToLatest(store.db)
    const opened = store
    return {
      name: 'mysql',
      config,
      store,
      cleanup: async () => {
        try {
          await opened.close()
        } finally {
          await dropScratch()
        }
      },
    }
  } catch (err) {
    await store?.close().catch(() => {})
    await dropScratch().catch(() => {})
    throw err
  }
}

/**
 * Runs `body` once per store: SQLite always, MySQL/MariaDB when DATABASE_URL names one
 * (otherwise the skip is printed with its reason, never silent).
 */
export async function forEachBackend(
  t: Test,
  body: (t: Test, backend: Backend) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  await t.test('sqlite', async (t) => {
    const backend = await sqliteBackend(env)
    t.teardown(backend.cleanup)
    await body(t, backend)
  })
  const url = mysqlUrl()
  if (!url) {
    t.comment('skipping MySQL: DATABASE_URL does not name a MySQL/MariaDB server')
    return
  }
  await t.test('mysql', async (t) => {
    const backend = await mysqlBackend(url, env)
    t.teardown(backend.cleanup)
    await body(t, backend)
  })
}
