import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

export interface PolitenessLimits {
  /** Requests in flight at once, over all hosts. */
  concurrency: number
  /** Requests in flight at once against one host (host:port of the requested URL); 1 whenever hostDelayMs > 0. */
  perHost: number
  /** The least time between the end of one request to a host and the start of the next (ms); see Politeness. */
  hostDelayMs: number
}

/**
 * Host states kept before the idle ones are swept: a host whose last request ended less than its delay ago keeps
 * its state (its next start) until then; beyond this many hosts the passed ones go.
 */
const SWEEP_ABOVE = 1024

interface HostState {
  active: number
  /** Earliest start of the next request to this host (performance.now(): monotonic, unlike Date.now()). */
  nextStart: number
}

/**
 * Bounds the HTTP requests of one checker: a global limit, a per-host limit and a per-host delay. Each request
 * takes its own turn (a check's HEAD, the GET after a refused HEAD and every redirect alike), so that no request
 * reaches a host unpaced.
 *
 * The delay runs from the end of a host's previous request (its answer arrived, or it failed) to the start of
 * the next, and with a delay a host has one request at a time. So a host sees two requests at least the delay
 * apart whatever the network and this process do: it has received a request before its answer reaches us, and
 * the next leaves the delay after that. Counted between starts instead, a request that took longer to connect
 * than the next one arrived late, and the host saw the two closer than the delay (85 ms of 100 in the
 * benchmark); no count from our side of a request still on its way can rule that out. The price: with a delay,
 * LINKCHECK_PER_HOST above 1 has no effect (a slow host is asked one request at a time); it counts at delay 0.
 *
 * A request waiting for its host holds no slot, so other hosts go on meanwhile. The state of a host is dropped
 * at its last release when there is no delay, else swept once its delay has passed and more than SWEEP_ABOVE
 * hosts are known (memory stays bounded by the hosts in flight or within their delay, plus SWEEP_ABOVE).
 */
export class Politeness {
  private active = 0
  private readonly perHost: number
  private readonly hosts = new Map<string, HostState>()
  private waiters: Array<() => void> = []

  constructor(private readonly limits: PolitenessLimits) {
    this.perHost = limits.hostDelayMs > 0 ? 1 : limits.perHost
  }

  /** Runs one request, `task`, within the limits; throws AbortError (nothing run) when `signal` is aborted while it waits. */
  async run<T>(host: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const state = await this.acquire(host, signal)
    try {
      return await task()
    } finally {
      this.release(host, state)
    }
  }

  /** Hosts whose state is kept (running, within their delay, or not swept yet): for tests and diagnostics. */
  get trackedHosts(): number {
    return this.hosts.size
  }

  /** Wakes every waiting request (to see an abort). */
  wakeAll(): void {
    const waiting = this.waiters
    this.waiters = []
    for (const wake of waiting) wake()
  }

  private async acquire(host: string, signal?: AbortSignal): Promise<HostState> {
    for (;;) {
      signal?.throwIfAborted()
      let state = this.hosts.get(host)
      if (!state) {
        if (this.hosts.size >= SWEEP_ABOVE) this.sweep()
        state = { active: 0, nextStart: 0 }
        this.hosts.set(host, state)
      }
      if (this.active < this.limits.concurrency && state.active < this.perHost) {
        const wait = state.nextStart - performance.now()
        if (wait <= 0) {
          this.active++
          state.active++
          return state
        }
        // A timer may fire a little early (libuv counts from the start of its loop turn, in whole ms): the loop
        // asks the clock again rather than trusting it.
        await sleep(Math.ceil(wait), undefined, signal ? { signal } : undefined).catch(() => {})
        continue
      }
      // A slot is waited for until a release wakes the waiters, or the signal is aborted (then thrown above).
      await new Promise<void>((resolve) => {
        // The abort listener goes with the wake: a long run wakes its waiters many times over one signal.
        const onAbort = () => resolve()
        this.waiters.push(() => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        })
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    }
  }

  /** Drops the states of hosts with nothing running whose delay has passed (they restart as new). */
  private sweep(): void {
    const now = performance.now()
    for (const [key, state] of this.hosts) if (state.active === 0 && state.nextStart <= now) this.hosts.delete(key)
  }

  private release(host: string, state: HostState): void {
    this.active--
    state.active--
    // The state cannot have been swept or replaced while a request of it ran (both need active === 0).
    state.nextStart = performance.now() + this.limits.hostDelayMs
    if (state.active === 0 && this.limits.hostDelayMs <= 0) this.hosts.delete(host)
    this.wakeAll()
  }
}

/** The host a request is counted against: host and port of the URL ('' when it is no URL). */
export function hostKey(raw: string): string {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:/i.test(raw) ? raw : `http://${raw}`)
    return url.host.toLowerCase()
  } catch {
    return ''
  }
}
