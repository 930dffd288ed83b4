import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import type { CatalogService } from '../catalog/service.js'
import { checkerName } from '../links/jobs.js'
import { acquireLease, releaseLease } from '../links/lease.js'
import { rescorePending } from './backfill.js'

/** The service lease (links/lease.ts) the background rescorer runs under: one process of the service at a time. */
export const RESCORER_LEASE = 'quality-rescorer'

export interface Rescorer {
  /** Stops taking new work and waits for the rescoring in flight. */
  stop(): Promise<void>
}

/**
 * The background rescorer of a server process (QUALITY_RESCORE_MS > 0): every `everyMs` the holder of the service
 * lease `quality-rescorer` runs rescorePending, so that the scores changed without a write of the dataset (a
 * Kommune's edit, a link check's result) reach the stored scores, their history, the search index and the stats
 * whether or not the link scheduler runs. Never on a request path; a read never scores.
 */
export function startRescorer(service: CatalogService, everyMs: number, log: FastifyBaseLogger): Rescorer {
  const controller = new AbortController()
  const holder = checkerName()
  // Long enough for a large Kommune's rescore; a holder that dies is replaced after it.
  const leaseMs = Math.max(60_000, 3 * everyMs)
  let holding = false
  const loop = (async () => {
    while (!controller.signal.aborted) {
      // Unreferenced: a process that has nothing else to do may end while this waits.
      await sleep(everyMs, undefined, { signal: controller.signal, ref: false }).catch(() => {})
      if (controller.signal.aborted) break
      try {
        holding = await acquireLease(service.store, RESCORER_LEASE, holder, leaseMs)
        if (holding) {
          const rescored = await rescorePending(service)
          if (rescored) log.info({ rescored }, 'datasets rescored')
        }
      } catch (err) {
        log.error({ err }, 'rescoring failed')
      }
    }
    if (holding) await releaseLease(service.store, RESCORER_LEASE, holder).catch(() => {})
  })()
  return {
    async stop() {
      controller.abort()
      await loop
    },
  }
}
