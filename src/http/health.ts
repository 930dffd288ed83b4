/**
 * Probes for process managers and load balancers: /healthz (the process answers) and /readyz (it can serve:
 * the database answers, its migrations are those of this code, the search index is loaded or loads).
 * No authentication, no rate limit, not in the OpenAPI document.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { FileMigrationProvider, Migrator, sql } from 'kysely'
import { MIGRATIONS_DIR } from '../db/migrate.js'
import { ANONYMOUS } from '../auth/viewer.js'
import type { SearchService } from '../search/search.js'
import type { Store } from '../db/connect.js'

/** How long one readiness check may take before it counts as failed (the probe answers 503 instead of hanging). */
export const READY_CHECK_TIMEOUT_MS = 5000

export type CheckResult = { ok: true } | { ok: false; error: string }

export interface ReadinessChecks {
  database(): Promise<void>
  migrations(): Promise<void>
  search(): Promise<void>
}

export function readinessChecks(store: Store, search: SearchService): ReadinessChecks {
  const migrator = new Migrator({
    db: store.db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_DIR }),
  })
  return {
    database: async () => {
      await sql`select 1`.execute(store.db)
    },
    migrations: async () => {
      const pending = (await migrator.getMigrations()).filter((m) => !m.executedAt).map((m) => m.name)
      if (pending.length)
        throw new Error(`not applied: ${pending.join(', ')} (run godonu migrate, or restart the service)`)
    },
    // The in-memory index loaded (searches are answered through SQL until it is), and the visible datasets'
    // search as an anonymous caller asks it.
    search: async () => {
      await search.warmIndex()
      await search.search(
        {
          q: '*:*',
          rows: 0,
          start: 0,
          facetFields: [],
          facetLimit: 0,
          facetMinCount: 1,
          includePrivate: false,
          includeDrafts: false,
          includeDeleted: false,
        },
        ANONYMOUS,
      )
    },
  }
}

async function runCheck(check: () => Promise<void>, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    await Promise.race([check(), timeout])
    return { ok: true }
  } catch (err) {
    return { ok: false, error: (err as Error).message || String(err) }
  } finally {
    clearTimeout(timer)
  }
}

export function registerHealthRoutes(
  fastify: FastifyInstance,
  checks: ReadinessChecks,
  timeoutMs = READY_CHECK_TIMEOUT_MS,
): void {
  const hidden = { schema: { hide: true } }
  fastify.get('/healthz', hidden, async (_request, reply) => {
    reply.header('Cache-Control', 'no-store')
    return { status: 'ok' }
  })
  fastify.get('/readyz', hidden, async (request, reply) => {
    // The database first: when it does not answer, the others cannot either.
    const database = await runCheck(() => checks.database(), timeoutMs)
    const skipped: CheckResult = { ok: false, error: 'not checked: the database does not answer' }
    const [migrations, search] = database.ok
      ? await Promise.all([runCheck(() => checks.migrations(), timeoutMs), runCheck(() => checks.search(), timeoutMs)])
      : [skipped, skipped]
    const results = { database, migrations, search }
    const ready = database.ok && migrations.ok && search.ok
    if (!ready) request.log.warn({ checks: results }, 'not ready')
    reply.header('Cache-Control', 'no-store')
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks: results })
  })
}
