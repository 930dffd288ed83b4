/**
 * The link checker against local servers: 10,000 URLs (BENCH_LINK_URLS) spread over 100 loopback
 * addresses (127.0.1.1 to 127.0.1.100, one small HTTP server each, answering every HEAD with 200), checked
 * as `godonu links check` checks them: jobs in the benchmark database, leased in batches, results and
 * history written. The checker runs with the default limits (LINKCHECK_CONCURRENCY, LINKCHECK_PER_HOST)
 * except the per-host delay, 100 ms instead of 1 s (at 1 s the run would only measure the delay: 100
 * hosts give at most 100 URLs/s). Reported: URLs/s, the ceiling the politeness limits allow, the most
 * requests any one host had in flight at once (must not exceed LINKCHECK_PER_HOST), and the shortest time
 * between two request starts at one host as the servers saw them (must not be below the per-host delay, less
 * 10 ms for the loopback connection's jitter). The checker records every result as `godonu links check` does
 * (a transaction per URL, with its history row and the pending rescore row of a first check); everything the
 * run wrote is deleted after it.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { loadConfig } from '../../src/config.js'
import { openStore } from '../../src/db/connect.js'
import { LinkChecker } from '../../src/links/checker.js'
import { isoAt, linksDb, urlHash } from '../../src/links/tables.js'
import { formatNumber, judged, type Section } from '../lib.js'

const HOSTS = 100
const HOST_DELAY_MS = 100

export const linksSection: Section = {
  name: 'links',
  title: 'Link checker against local servers',
  async run(ctx) {
    const total = Number(process.env.BENCH_LINK_URLS ?? 10_000)
    const config = loadConfig({ ...process.env, DATABASE_URL: ctx.database.url, LOG_LEVEL: 'silent' })
    const settings = { ...config.linkCheck, hostDelayMs: HOST_DELAY_MS, allowPrivateAddresses: true }
    const inFlight = new Map<string, number>()
    let maxPerHost = 0
    const lastStart = new Map<string, number>()
    let minGap = Infinity
    const servers: Server[] = []
    const bases: string[] = []
    for (let h = 1; h <= HOSTS; h++) {
      const address = `127.0.1.${h}`
      const server = createServer((req, res) => {
        const now = (inFlight.get(address) ?? 0) + 1
        inFlight.set(address, now)
        maxPerHost = Math.max(maxPerHost, now)
        const at = performance.now()
        const previous = lastStart.get(address)
        if (previous !== undefined) minGap = Math.min(minGap, at - previous)
        lastStart.set(address, at)
        res.once('close', () => inFlight.set(address, (inFlight.get(address) ?? 1) - 1))
        res.writeHead(200, { 'content-type': 'text/csv' }).end('a,b\n')
      })
      await new Promise<void>((resolve) => server.listen(0, address, resolve))
      servers.push(server)
      bases.push(`http://${address}:${(server.address() as AddressInfo).port}`)
    }
    const store = await openStore(config.database)
    const db = linksDb(store.db)
    const urls = Array.from({ length: total }, (_, i) => `${bases[i % HOSTS]}/file/${i}.csv`)
    const hashes = urls.map(urlHash)
    try {
      const due = isoAt(Date.now() - 1000)
      for (let i = 0; i < urls.length; i += 500) {
        await db
          .insertInto('link_check_job')
          .values(
            urls.slice(i, i + 500).map((url, j) => ({
              url_hash: hashes[i + j],
              url,
              declared_media_type: 'text/csv',
              due_at: due,
              claimed_by: null,
              lease_until: null,
            })),
          )
          .execute()
      }
      const started = performance.now()
      const summary = await new LinkChecker(store, settings).runDue({ among: hashes })
      const seconds = (performance.now() - started) / 1000
      if (summary.checked !== total || summary.reachable !== total)
        throw new Error(`links: checked ${summary.checked} of ${total}, ${summary.reachable} reachable`)
      const ceiling = HOSTS * (1000 / HOST_DELAY_MS)
      const how = `${formatNumber(total)} URLs on ${HOSTS} loopback hosts, LINKCHECK_CONCURRENCY=${settings.concurrency}, LINKCHECK_PER_HOST=${settings.perHost}, LINKCHECK_HOST_DELAY_MS=${HOST_DELAY_MS}, ${store.dialect}`
      return [
        {
          metric: `link checker: ${formatNumber(total)} URLs`,
          value: `${formatNumber(total / seconds)} URLs/s (${seconds.toFixed(1)} s)`,
          target: `≤ ${formatNumber(ceiling)} URLs/s (the per-host delay's ceiling)`,
          how,
        },
        {
          metric: 'link checker: shortest gap between two requests at one host',
          value: judged(`${minGap.toFixed(1)} ms`, minGap >= HOST_DELAY_MS - 10),
          target: `≥ ${HOST_DELAY_MS} ms (LINKCHECK_HOST_DELAY_MS, less 10 ms jitter)`,
          how,
        },
        {
          metric: 'link checker: most requests in flight at one host',
          value: judged(String(maxPerHost), maxPerHost <= settings.perHost),
          target: `≤ ${settings.perHost} (LINKCHECK_PER_HOST)`,
          how,
        },
      ]
    } finally {
      for (let i = 0; i < hashes.length; i += 500) {
        const chunk = hashes.slice(i, i + 500)
        await db.deleteFrom('link_check_history').where('url_hash', 'in', chunk).execute()
        await db.deleteFrom('link_check').where('url_hash', 'in', chunk).execute()
        await db.deleteFrom('link_check_job').where('url_hash', 'in', chunk).execute()
        await db.deleteFrom('link_rescore_pending').where('url_hash', 'in', chunk).execute()
      }
      await store.close()
      for (const server of servers) {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      }
    }
  },
}
