import { setMaxListeners } from 'node:events'
import type { Store } from '../db/connect.js'
import { checkUrl, type CheckResult } from './check.js'
import { checkerName, claimJobs, completeJob, releaseClaim, type Claim } from './jobs.js'
import { Politeness, hostKey } from './politeness.js'
import { leaseMs, type LinkCheckSettings } from './settings.js'
import type { LinkCheckJobTable } from './tables.js'

export interface CheckedLink {
  url: string
  result: CheckResult
}

export interface RunSummary {
  checked: number
  reachable: number
  unreachable: number
}

export interface RunOptions {
  /** Only these jobs (url hashes), e.g. one Kommune's; default: every due job. */
  among?: readonly string[]
  /** Called after each recorded check. */
  onChecked?: (link: CheckedLink) => void
  /**
   * Stops the run: no new batch is claimed, checks waiting for a slot do not start, checks in flight are
   * aborted and not recorded, and the unchecked jobs of the batch are released (due as before).
   */
  signal?: AbortSignal
}

/** Jobs per batch (claim); the IN lists of `among` are cut to this too. */
const BATCH = 100

/**
 * A checker: claims due jobs from the database in batches (leased, see jobs.ts), checks them within its
 * politeness limits and records each result. Several checkers, in one process or in many on one database,
 * share the work without checking a job twice.
 */
export class LinkChecker {
  readonly name: string
  private readonly politeness: Politeness
  private claims = 0

  constructor(
    private readonly store: Store,
    private readonly settings: LinkCheckSettings,
    name = checkerName(),
    /** Jobs per claim (tests make it small to show how several checkers share the work). */
    private readonly batch = BATCH,
  ) {
    this.name = name
    this.politeness = new Politeness(settings)
  }

  /** Checks every job that is due now (among the given ones), batch after batch, until none is left. */
  async runDue(options: RunOptions = {}): Promise<RunSummary> {
    const summary: RunSummary = { checked: 0, reachable: 0, unreachable: 0 }
    const signal = options.signal
    if (signal) {
      // Every waiting check and request listens to it.
      setMaxListeners(0, signal)
      signal.addEventListener('abort', () => this.politeness.wakeAll(), { once: true })
    }
    const groups = options.among ? chunks(options.among, this.batch) : [undefined]
    for (const among of groups) {
      for (;;) {
        if (options.signal?.aborted) return summary
        const claim = await claimJobs(this.store, `${this.name}:${++this.claims}`, {
          limit: this.batch,
          leaseMs: leaseMs(this.settings, this.batch),
          ...(among ? { among } : {}),
        })
        if (claim.jobs.length === 0) break
        await Promise.all(claim.jobs.map((job) => this.checkOne(claim, job, summary, options)))
        if (signal?.aborted) {
          await releaseClaim(this.store, claim)
          return summary
        }
      }
    }
    return summary
  }

  private async checkOne(
    claim: Claim,
    job: LinkCheckJobTable,
    summary: RunSummary,
    options: RunOptions,
  ): Promise<void> {
    const signal = options.signal
    // Each request of the check takes its own turn (Politeness), not the check as a whole: the GET after a
    // refused HEAD and every redirect are paced like the first request.
    const result: CheckResult = await checkUrl(job.url, {
      timeoutMs: this.settings.timeoutMs,
      maxRedirects: this.settings.maxRedirects,
      userAgent: this.settings.userAgent,
      allowPrivateAddresses: this.settings.allowPrivateAddresses,
      declaredMediaType: job.declared_media_type,
      turn: (url, request) => this.politeness.run(hostKey(url.href), request, signal),
      ...(signal ? { signal } : {}),
    })
    // A check cut short by the stop says nothing about the link.
    if (signal?.aborted) return
    const recorded = await completeJob(this.store, claim, job, result, this.settings)
    if (!recorded) return
    summary.checked++
    if (result.status === 'reachable') summary.reachable++
    else summary.unreachable++
    options.onChecked?.({ url: job.url, result })
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
