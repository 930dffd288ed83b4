/** The link checker's settings (LINKCHECK_* environment variables, read in src/config.ts). */
export interface LinkCheckSettings {
  /** LINKCHECK_SCHEDULER=on|off (default off): whether a server process checks due links in the background. */
  scheduler: boolean
  /** LINKCHECK_CONCURRENCY (default 8): requests at once, over all hosts, per checker. */
  concurrency: number
  /** LINKCHECK_PER_HOST (default 2): requests at once against one host; 1 whenever hostDelayMs > 0. */
  perHost: number
  /**
   * LINKCHECK_HOST_DELAY_MS (default 1000): least time between the answer to (or failure of) one request to a host
   * and the start of the next (politeness.ts).
   */
  hostDelayMs: number
  /** LINKCHECK_TIMEOUT_MS (default 10000): a whole check's requests, redirects included (waits for a turn not). */
  timeoutMs: number
  /** LINKCHECK_MAX_REDIRECTS (default 5). */
  maxRedirects: number
  /** LINKCHECK_INTERVAL_HOURS (default 168 = 7 days): when a reachable URL is checked again. */
  intervalMs: number
  /**
   * LINKCHECK_RETRY_MINUTES (default 60): the first re-check of a failing URL; each further failure in a row
   * doubles it, up to four times the interval (dead hosts are asked ever more rarely).
   */
  retryMs: number
  /** LINKCHECK_TICK_MS (default 60000): how often the background scheduler looks for due links. */
  tickMs: number
  /** LINKCHECK_PRIVATE_ADDRESSES=allow|deny (default deny): whether checked URLs may lead to non-public addresses. */
  allowPrivateAddresses: boolean
  /** The User-Agent of every check: names the service and where to learn about it (BASE_URL). */
  userAgent: string
}

export const LINKCHECK_LEASE_FACTOR = 4

/**
 * How long a claimed batch is leased: long enough for every check of it, redirects and waits included. Worst case,
 * every URL is on one host: its checks take turns, each up to the timeout plus a delay before each of its requests
 * (HEAD, GET and maxRedirects redirects).
 */
export function leaseMs(settings: LinkCheckSettings, batch: number): number {
  const perHost = settings.hostDelayMs > 0 ? 1 : settings.perHost
  const rounds = Math.ceil(batch / Math.max(1, Math.min(settings.concurrency, perHost)))
  const perCheck = settings.timeoutMs + (settings.maxRedirects + 2) * settings.hostDelayMs
  return LINKCHECK_LEASE_FACTOR * rounds * perCheck + 60_000
}

/** When a URL is due again after a check. */
export function nextCheckDelayMs(settings: LinkCheckSettings, consecutiveFailures: number): number {
  if (consecutiveFailures === 0) return settings.intervalMs
  const cap = settings.intervalMs * 4
  return Math.min(cap, settings.retryMs * 2 ** Math.min(consecutiveFailures - 1, 30))
}
