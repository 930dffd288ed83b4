import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import type { CatalogService } from '../catalog/service.js'
import { checkerName } from '../links/jobs.js'
import { acquireLease, releaseLease } from '../links/lease.js'
import { rescorePending } from './backfill.js'

/** The service lease (links/lease.ts) the background rescorer runs under: one process of the service at a time. */
export const RESCORER_LEASE = 'quality-rescorer'

export interface Rescorer {
  /** Stops taking new work and waits for the batch in flight (the rest stays pending for the next holder). */
  stop(): Promise<void>
}

export interface RescorerOptions {
  /** The lease's length; by default max(60 s, 3 × everyMs). Tests give their own. */
  leaseMs?: number
  /** The lease holder's name; by default this process's (links/jobs.ts checkerName). */
  holder?: string
}

/**
 * The background rescorer of a server process (QUALITY_RESCORE_MS > 0): every `everyMs` the holder of the service
 * lease `quality-rescorer` runs rescorePending, so that the scores changed without a write of the dataset (a
 * Kommune's edit, a link check's result) reach the stored scores, their history, the search index and the stats
 * whether or not the link scheduler runs. Never on a request path; a read never scores.
 */
export function startRescorer(
  service: CatalogService,
  everyMs: number,
  log: FastifyBaseLogger,
  options: RescorerOptions = {},
): Rescorer {
  const controller = new AbortController()
  const holder = options.holder ?? checkerName()
  // Renewed after every batch (rescoreUnderLease): a holder that dies is replaced once this ran out.
  const leaseMs = options.leaseMs ?? Math.max(60_000, 3 * everyMs)
  const loop = (async () => {
    while (!controller.signal.aborted) {
      // Unreferenced: a process that has nothing else to do may end while this waits.
      await sleep(everyMs, undefined, { signal: controller.signal, ref: false }).catch(() => {})
      if (controller.signal.aborted) break
      try {
        const run = await rescoreUnderLease(service, { holder, leaseMs, signal: controller.signal })
        if (run.rescored) log.info({ rescored: run.rescored }, 'datasets rescored')
        if (run.lost) log.warn('the rescorer lease was lost: stopped after the batch in flight')
      } catch (err) {
        log.error({ err }, 'rescoring failed')
      }
    }
    // Only this holder's row goes (releaseLease): nothing happens when another process holds the lease.
    await releaseLease(service.store, RESCORER_LEASE, holder).catch(() => {})
  })()
  return {
    async stop() {
      controller.abort()
      await loop
    },
  }
}

/**
 * One round of the background rescorer: takes the lease `quality-rescorer` (or renews it, when `holder` has it)
 * and, holding it, runs rescorePending, renewing the lease after every batch: a Kommune of tens of thousands of
 * datasets takes longer than any lease, and a lease run out would let a second process start the same work. When
 * a renewal fails (the lease ran out and another process took it), the run stops after the batch in flight, as
 * it does when `signal` aborts; the markers not fully handled stay pending. `holding`: whether `holder` holds the
 * lease afterwards; `lost`: it lost it during the run.
 */
export async function rescoreUnderLease(
  service: CatalogService,
  { holder, leaseMs, signal }: { holder: string; leaseMs: number; signal?: AbortSignal },
): Promise<{ holding: boolean; lost: boolean; rescored: number }> {
  if (!(await acquireLease(service.store, RESCORER_LEASE, holder, leaseMs)))
    return { holding: false, lost: false, rescored: 0 }
  const run = new AbortController()
  const stop = () => run.abort()
  if (signal?.aborted) run.abort()
  signal?.addEventListener('abort', stop, { once: true })
  let lost = false
  try {
    const rescored = await rescorePending(service, {
      signal: run.signal,
      afterBatch: async () => {
        if (await acquireLease(service.store, RESCORER_LEASE, holder, leaseMs)) return
        lost = true
        run.abort()
      },
    })
    return { holding: !lost, lost, rescored }
  } finally {
    signal?.removeEventListener('abort', stop)
  }
}
