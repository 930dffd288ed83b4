import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import type { Store } from '../db/connect.js'
import { LinkChecker } from './checker.js'
import { syncJobs } from './jobs.js'
import type { LinkCheckSettings } from './settings.js'

/** How often the scheduler brings the job list in line with the datasets (ms). */
export const SYNC_EVERY_MS = 60 * 60 * 1000

export interface LinkScheduler {
  /** Stops taking new work and waits for the checks in flight (each ends within its timeout). */
  stop(): Promise<void>
}

/**
 * The background link checker of a server process (LINKCHECK_SCHEDULER=on): every tick it checks the due
 * links, and once an hour it first syncs the job list with the datasets. It never runs on a request path;
 * with several processes or servers, the leases divide the work (jobs.ts).
 */
export function startLinkScheduler(store: Store, settings: LinkCheckSettings, log: FastifyBaseLogger): LinkScheduler {
  const controller = new AbortController()
  const checker = new LinkChecker(store, settings)
  let lastSync = -Infinity
  const loop = (async () => {
    while (!controller.signal.aborted) {
      try {
        if (Date.now() - lastSync >= SYNC_EVERY_MS) {
          await syncJobs(store, { prune: true })
          lastSync = Date.now()
        }
        const summary = await checker.runDue({ signal: controller.signal })
        if (summary.checked) log.info({ linkcheck: summary }, 'links checked')
      } catch (err) {
        log.error({ err }, 'link check failed')
      }
      await sleep(settings.tickMs, undefined, { signal: controller.signal }).catch(() => {})
    }
  })()
  return {
    async stop() {
      controller.abort()
      await loop
    },
  }
}
