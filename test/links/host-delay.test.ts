/**
 * The per-host delay as a host sees it (issue #12): no two requests reach one host closer together than
 * LINKCHECK_HOST_DELAY_MS, counting every request of a check (the GET after a refused HEAD, each redirect to the
 * same host), however long each request takes to connect and whatever else the process is doing.
 *
 * Asserted as a lower bound only: the loopback servers take their arrival times from performance.now (monotonic).
 * A server has received a request before its answer reaches the checker, and the checker's next request to that
 * host waits the delay from that answer; so the bound holds on a busy machine too (there every wait only gets
 * longer). No upper bound on time is asserted.
 */
import t from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Test } from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { LinkChecker } from '../../src/links/checker.js'
import { Politeness } from '../../src/links/politeness.js'
import { isoAt, linksDb, urlHash } from '../../src/links/tables.js'
import type { Store } from '../../src/db/connect.js'
import { testLinkSettings } from './settings.js'

/**
 * Clock and timer granularity only. The bug this guards against left gaps of about 1 ms (the GET after a refused
 * HEAD, redirects: no delay at all) and 85 ms of 100 (a request slow to connect, the next one not).
 */
const TOLERANCE_MS = 1
const HOST_DELAY_MS = 60

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Arrival {
  at: number
  request: string
}

/** Loopback servers, each a host of its own (host:port), recording every request's arrival. */
class Hosts {
  /** base -> arrivals in order. */
  readonly arrivals = new Map<string, Arrival[]>()
  /** base -> the most requests in flight at once. */
  readonly maxInFlight = new Map<string, number>()

  constructor(private readonly t: Test) {}

  /** Shortest time between two consecutive arrivals at one host, over all hosts, and where. */
  shortestGap(): { gap: number; where: string } {
    let best = { gap: Infinity, where: '' }
    for (const [base, list] of this.arrivals)
      for (let i = 1; i < list.length; i++) {
        const gap = list[i].at - list[i - 1].at
        if (gap < best.gap) best = { gap, where: `${base}: ${list[i - 1].request} then ${list[i].request}` }
      }
    return best
  }

  /**
   * One more host, answering as catalog links do: /file/ 200 to HEAD; /nohead/ 405 to HEAD, 200 to GET; /moved/
   * 301 to /nohead/ (relative); /hop/ 302 to /moved/ (absolute, same host); /slow/ 200 after 150 ms. Returns its
   * base URL.
   */
  async start(): Promise<string> {
    let base = ''
    let inFlight = 0
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const at = performance.now()
      const path = new URL(req.url ?? '/', 'http://x').pathname
      this.arrivals.get(base)!.push({ at, request: `${req.method} ${path}` })
      inFlight++
      this.maxInFlight.set(base, Math.max(this.maxInFlight.get(base) ?? 0, inFlight))
      res.once('close', () => inFlight--)
      const [, kind, n] = path.split('/')
      const ok = () => res.writeHead(200, { 'content-type': 'text/csv' }).end('a,b\n')
      if (kind === 'file') return ok()
      if (kind === 'nohead') return req.method === 'HEAD' ? res.writeHead(405, { allow: 'GET' }).end() : ok()
      if (kind === 'moved') return res.writeHead(301, { location: `../nohead/${n}` }).end()
      if (kind === 'hop') return res.writeHead(302, { location: `${base}/moved/${n}` }).end()
      if (kind === 'slow') {
        const timer = setTimeout(ok, 150)
        res.once('close', () => clearTimeout(timer))
        return
      }
      res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    this.arrivals.set(base, [])
    this.t.teardown(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    )
    return base
  }
}

/** Due jobs for these URLs, as `godonu links check` finds them; returns their hashes (the `among` of a run). */
async function dueJobs(store: Store, urls: string[]): Promise<string[]> {
  const hashes = urls.map(urlHash)
  await linksDb(store.db)
    .insertInto('link_check_job')
    .values(
      urls.map((url, i) => ({
        url_hash: hashes[i],
        url,
        declared_media_type: 'text/csv',
        due_at: isoAt(Date.now() - 60_000),
        claimed_by: null,
        lease_until: null,
      })),
    )
    .execute()
  return hashes
}

await t.test('Politeness: the delay runs from the end of the previous request to the host', async (t) => {
  const politeness = new Politeness({ concurrency: 8, perHost: 2, hostDelayMs: HOST_DELAY_MS })
  const spans: Array<{ start: number; end: number }> = []
  // The first request takes 40 ms (a slow connect and answer), the second none. Counted from the starts, the
  // second would go out 20 ms after the first's end.
  await Promise.all(
    [40, 0].map((ms) =>
      politeness.run('a:1', async () => {
        const start = performance.now()
        await sleep(ms)
        spans.push({ start, end: performance.now() })
      }),
    ),
  )
  const [first, second] = spans
  const gap = second.start - first.end
  t.ok(gap >= HOST_DELAY_MS, `the second started ${gap.toFixed(1)} ms after the first ended (delay ${HOST_DELAY_MS})`)
  t.ok(second.start >= first.end, 'one request at a time against a host with a delay')
})

await forEachBackend(t, async (t, backend) => {
  await t.test('every request of a check reaches its host at least the delay after the one before', async (t) => {
    const hosts = new Hosts(t)
    const bases: string[] = []
    const urls: string[] = []
    // Requests per host: /file/ 1 (HEAD), /nohead/ 2 (HEAD 405, GET), /moved/ 3 (HEAD 301, HEAD 405, GET),
    // /hop/ 4 (HEAD 302, HEAD 301, HEAD 405, GET): ten per host, checked with per-host concurrency 2.
    for (let h = 0; h < 4; h++) {
      const base = await hosts.start()
      bases.push(base)
      urls.push(`${base}/file/${h}`, `${base}/nohead/${h}`, `${base}/moved/${h}`, `${base}/hop/${h}`)
    }
    // Slow answers: the next request waits for the answer, then the delay.
    const slow = await hosts.start()
    urls.push(...Array.from({ length: 3 }, (_, i) => `${slow}/slow/${i}`))
    const among = await dueJobs(backend.store, urls)
    const settings = testLinkSettings({ concurrency: 8, perHost: 2, hostDelayMs: HOST_DELAY_MS })
    const summary = await new LinkChecker(backend.store, settings).runDue({ among })
    t.equal(summary.checked, urls.length, 'every job checked')
    t.equal(summary.reachable, urls.length, 'every URL reachable')

    for (const [h, base] of bases.entries()) {
      t.same(
        hosts.arrivals
          .get(base)!
          .map((a) => a.request)
          .sort(),
        [
          `GET /nohead/${h}`,
          `GET /nohead/${h}`,
          `GET /nohead/${h}`,
          `HEAD /file/${h}`,
          `HEAD /hop/${h}`,
          `HEAD /moved/${h}`,
          `HEAD /moved/${h}`,
          `HEAD /nohead/${h}`,
          `HEAD /nohead/${h}`,
          `HEAD /nohead/${h}`,
        ],
        `${base}: every HEAD, GET after a refused HEAD and redirect, once`,
      )
    }
    const { gap, where } = hosts.shortestGap()
    t.ok(
      gap >= HOST_DELAY_MS - TOLERANCE_MS,
      `shortest gap between two arrivals at one host: ${gap.toFixed(1)} ms (${where}); >= ${HOST_DELAY_MS} - ${TOLERANCE_MS}`,
    )
    const slowGaps = hosts.arrivals
      .get(slow)!
      .slice(1)
      .map((a, i) => a.at - hosts.arrivals.get(slow)![i].at)
    t.ok(
      slowGaps.every((g) => g >= 150 + HOST_DELAY_MS - TOLERANCE_MS),
      `slow host: each request after the previous answer (150 ms) and the delay: ${slowGaps.map((g) => g.toFixed(1)).join(', ')} ms`,
    )
    for (const [base, most] of hosts.maxInFlight) t.equal(most, 1, `${base}: one request at a time (saw ${most})`)
  })
})
