/** Link checker settings for tests: no scheduler, no delays, loopback allowed; `extra` overrides any of them. */
import type { LinkCheckSettings } from '../../src/links/settings.js'

export const HOUR = 3_600_000

export function testLinkSettings(extra: Partial<LinkCheckSettings> = {}): LinkCheckSettings {
  return {
    scheduler: false,
    concurrency: 8,
    perHost: 2,
    hostDelayMs: 0,
    timeoutMs: 3000,
    maxRedirects: 5,
    intervalMs: 168 * HOUR,
    retryMs: HOUR,
    tickMs: 1000,
    allowPrivateAddresses: true,
    userAgent: 'GoDonuLinkChecker/1.0 (+http://catalog.test)',
    ...extra,
  }
}
