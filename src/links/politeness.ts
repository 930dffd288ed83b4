import { setTimeout as sleep } from 'node:timers/promises'

export interface PolitenessLimits {
  /** Checks running at once, over all hosts. */
  concurrency: number
  /** Checks running at once against one host (host:port of the checked URL). */
  perHost: number
  /** The least time between the starts of two checks against one host (ms). */
  hostDelayMs: number
}

/**
 * Host states kept before the idle ones are swept: a host whose last check ended before its delay had passed keeps
 * its state (its next start) until then; beyond this many hosts the passed ones go.
 */
const SWEEP_ABOVE = 1024

interface HostState {
  active: number
  /** Earliest start of the next check against this host (ms since the epoch, this process's clock). */
  nextStart: number
}

/**
 * Bounds the checks one checker runs: a global limit, a per-host limit and a per-host delay between
 * starts. A check waiting for its host's delay holds no slot, so other hosts go on meanwhile. The state
 * of a host is dropped when its last check ends after its delay has passed, else swept once more than SWEEP_ABOVE
 * hosts are known (memory stays bounded by the hosts in flight or within their delay, plus SWEEP_ABOVE).
 */
export class Politeness {
  private active = 0
  private readonly hosts = new Map<string, HostState>()
  private waiters: Array<() => void> = []

  constructor(private readonly limits: PolitenessLimits) {}

  /** Runs `task` within the limits; throws AbortError (nothing run) when `signal` is aborted while it waits. */
  async run<T>(host: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(host, signal)
    try {
      return await task()
    } finally {
      this.release(host)
    }
  }

  /** Hosts whose state is kept (running, within their delay, or not swept yet): for tests and diagnostics. */
  get trackedHosts(): number {
    return this.hosts.size
  }

  /** Wakes every waiting check (to see an abort). */
  wakeAll(): void {
    const waiting = this.waiters
    this.waiters = []
    for (const wake of waiting) wake()
  }

  private async acquire(host: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted()
      let state = this.hosts.get(host)
      if (!state) {
        if (this.hosts.size >= SWEEP_ABOVE) this.sweep()
        state = { active: 0, nextStart: 0 }
        this.hosts.set(host, state)
      }
      if (this.active < this.limits.concurrency && state.active < this.limits.perHost) {
        const wait = state.nextStart - Date.now()
        if (wait <= 0) {
          this.active++
          state.active++
          state.nextStart = Date.now() + this.limits.hostDelayMs
          return
        }
        await sleep(wait, undefined, signal ? { signal } : undefined).catch(() => {})
        continue
      }
      // A slot is waited for until a release wakes the waiters, or the signal is aborted (then thrown above).
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        signal?.addEventListener('abort', () => resolve(), { once: true })
      })
    }
  }

  /** Drops the states of hosts with nothing running whose delay has passed (they restart as new). */
  private sweep(): void {
    const now = Date.now()
    for (const [key, state] of this.hosts) if (state.active === 0 && state.nextStart <= now) this.hosts.delete(key)
  }

  private release(host: string): void {
    this.active--
    const state = this.hosts.get(host)
    if (state) {
      state.active--
      if (state.active === 0 && state.nextStart <= Date.now()) this.hosts.delete(host)
    }
    this.wakeAll()
  }
}

/** The host a check is counted against: host and port of the URL (the text itself when it is no URL). */
export function hostKey(raw: string): string {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:/i.test(raw) ? raw : `http://${raw}`)
    return url.host.toLowerCase()
  } catch {
    return ''
  }
}
