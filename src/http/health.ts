/**
 * Probes for process managers and load balancers: /healthz (the process answers) and /readyz (it can serve:
 * the database answers, its migrations are those of this code, the search index is loaded or loads).
 * No authentication, no rate limit, not in the OpenAPI document.
 */
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { pendingMigrations } from '../db/migrate.js'
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
  return {
    database: async () => {
      await sql`select 1`.execute(store.db)
    },
    migrations: async () => {
      const pending = await pendingMigrations(store.db)
      if (pending.length)
        throw new Error(`not applied: ${pending.join(', ')} (run godonu migrate, or restart the service)`)
    },
    // The in-memory index loaded (searches are answered through SQL until it is): while it loads the probe
    // answers 503 at once rather than waiting out its timeout; then the visible datasets' search as an
    // anonymous caller asks it.
    search: async () => {
      if (search.indexLoading) {
        search.warmIndex().catch(() => undefined) // a failed load is retried by the next probe
        throw new Error('the search index is loading')
      }
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
