import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import type { Store } from '../db/connect.js'
import { LinkChecker } from './checker.js'
import { syncJobs } from './jobs.js'
import { acquireLease, releaseLease } from './lease.js'
import type { LinkCheckSettings } from './settings.js'

/** How often the scheduler brings the job list in line with the datasets (ms). */
export const SYNC_EVERY_MS = 60 * 60 * 1000

/** The service lease (lease.ts) the background link checker runs under: one process of the service at a time. */
export const LINK_SCHEDULER_LEASE = 'link-scheduler'

export interface LinkScheduler {
  /** Stops taking new work and waits for the checks in flight (each ends within its timeout). */
  stop(): Promise<void>
}

export interface LinkSchedulerOptions {
  /**
   * Run after each round of checks by the lease holder (the app rescores the datasets whose links changed
   * health: quality/backfill.ts rescorePending). Never on a request path.
   */
  afterRun?: () => Promise<unknown>
  /** Jobs per claim (default checker.ts BATCH; tests make it small). */
  batch?: number
}

/**
 * How long the scheduler's service lease lasts: renewed every third of it while checks run, so a holder that
 * dies is replaced within this time. At least 30 s, and three ticks.
 */
export function schedulerLeaseMs(settings: LinkCheckSettings): number {
  return Math.max(30_000, 3 * settings.tickMs)
}

/**
 * The background link checker of a server process (LINKCHECK_SCHEDULER=on). Every process of the service
 * starts one, but only the holder of the service lease `link-scheduler` (by the database's clock, lease.ts)
 * checks: the politeness limits (global and per-host concurrency, per-host delay) are kept in that one process,
 * so they hold for the whole service and do not multiply with the workers or servers. The others only try to
 * take the lease each tick. The holder renews it while it works; when it loses it (it was stalled past the
 * lease), it stops its round at once. Every tick the holder checks the due links, once an hour it first syncs
 * the job list with the datasets, and after each round it runs `afterRun`. It never runs on a request path.
 */
export function startLinkScheduler(
  store: Store,
  settings: LinkCheckSettings,
  log: FastifyBaseLogger,
  options: LinkSchedulerOptions = {},
): LinkScheduler {
  const controller = new AbortController()
  const checker = new LinkChecker(store, settings, undefined, options.batch)
  const leaseMs = schedulerLeaseMs(settings)
  let lastSync = -Infinity
  let holding = false
  const loop = (async () => {
    while (!controller.signal.aborted) {
      try {
        holding = await acquireLease(store, LINK_SCHEDULER_LEASE, checker.name, leaseMs)
        if (holding) await holderRound()
      } catch (err) {
        log.error({ err }, 'link check failed')
      }
      await sleep(settings.tickMs, undefined, { signal: controller.signal }).catch(() => {})
    }
    if (holding) await releaseLease(store, LINK_SCHEDULER_LEASE, checker.name).catch(() => {})
  })()

  async function holderRound(): Promise<void> {
    // The round stops when the scheduler stops or the lease is lost.
    const round = new AbortController()
    const onStop = () => round.abort()
    controller.signal.addEventListener('abort', onStop, { once: true })
    const renew = setInterval(() => {
      acquireLease(store, LINK_SCHEDULER_LEASE, checker.name, leaseMs).then(
        (held) => {
          if (!held) {
            log.warn('link scheduler lease lost: another process checks links now')
            round.abort()
          }
        },
        (err: unknown) => log.warn({ err }, 'renewing the link scheduler lease failed'),
      )
    }, leaseMs / 3)
    try {
      if (performance.now() - lastSync >= SYNC_EVERY_MS) {
        await syncJobs(store, { prune: true })
        lastSync = performance.now()
      }
      const summary = await checker.runDue({ signal: round.signal })
      if (summary.checked) log.info({ linkcheck: summary }, 'links checked')
      if (options.afterRun && !round.signal.aborted) await options.afterRun()
    } finally {
      clearInterval(renew)
      controller.signal.removeEventListener('abort', onStop)
    }
  }

  return {
    async stop() {
      controller.abort()
      await loop
    },
  }
}
