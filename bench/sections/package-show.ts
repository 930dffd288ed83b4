/**
 * package_show against a static baseline: a bare Fastify serving a constant body of the size of a
 * typical package_show answer, on as many worker processes as the service has, requested with the very
 * same URLs. The ratio says how much of what Node + Fastify can serve at all the service keeps while it
 * reads datasets, logs each request and so on.
 *
 * The service is the one started as `npm start` starts it (default WORKERS, LOG_LEVEL=info with its
 * access log written to a file, document cache on): that ratio is judged (target >= 0.5). For information,
 * two more services on the same database, each differing in one setting: LOG_LEVEL=silent (what the
 * logging costs) and READ_CACHE_TTL_MS=0 (every request reads the dataset from the store).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { assertClean, formatNumber, judged, latencyRow, runLoad, scratchDir, type BenchContext, type LoadResult, type Row, type Section } from '../lib.js'
import type { ServiceHandle } from '../service.js'

const RATIO_TARGET = 0.5

interface Measured {
  result: LoadResult
  log: { lines: number; bytes: number }
}

async function measure(ctx: BenchContext, service: ServiceHandle, paths: string[], what: string): Promise<Measured> {
  const result = await runLoad({ url: service.url, paths, seconds: ctx.settings.seconds, connections: ctx.settings.connections, warmupSeconds: ctx.settings.warmupSeconds })
  assertClean(what, result)
  // Warm-up and measured run together: how much the service logged per request.
  const log = await service.takeLog()
  return { result, log }
}

function logNote(m: Measured, service: ServiceHandle, warmupSeconds: number, seconds: number): string {
  // The log covers the warm-up too: scale the request count by the share of time measured.
  const requests = m.result.requests * ((warmupSeconds + seconds) / seconds)
  return m.log.lines
    ? `≈ ${(m.log.lines / requests).toFixed(1)} log lines (${formatNumber(m.log.bytes / m.log.lines)} bytes each) per request`
    : `nothing logged (LOG_LEVEL=${service.logLevel})`
}

export const packageShowSection: Section = {
  name: 'package_show',
  title: 'package_show vs. static JSON',
  async run(ctx) {
    const paths = ctx.datasetIds.map((id) => `/api/3/action/package_show?id=${encodeURIComponent(id)}`)

    // A typical answer: the one of median size among a sample of 51 answers.
    const bodies: string[] = []
    for (const path of paths.slice(0, 51)) {
      const response = await fetch(ctx.app.url + path)
      if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`)
      bodies.push(await response.text())
    }
    bodies.sort((a, b) => Buffer.byteLength(a) - Buffer.byteLength(b))
    const typical = bodies[Math.floor(bodies.length / 2)]!
    const size = Buffer.byteLength(typical)
    const smallest = Buffer.byteLength(bodies[0]!)
    const largest = Buffer.byteLength(bodies[bodies.length - 1]!)
    const file = join(scratchDir('godonu-bench-static'), 'package_show.json')
    writeFileSync(file, typical)

    const workers = ctx.app.workers
    const staticServer = await ctx.startStatic(file, workers)
    let baseline: LoadResult
    try {
      baseline = await runLoad({ url: staticServer.url, paths, seconds: ctx.settings.seconds, connections: ctx.settings.connections, warmupSeconds: ctx.settings.warmupSeconds })
    } finally {
      await staticServer.stop()
    }
    assertClean('static baseline', baseline)

    await ctx.app.takeLog()
    const asStarted = await measure(ctx, ctx.app, paths, 'package_show')

    const variant = async (env: Record<string, string>) => {
      const service = await ctx.startService(env)
      try {
        return { service, measured: await measure(ctx, service, paths, `package_show ${JSON.stringify(env)}`) }
      } finally {
        await service.stop()
      }
    }
    const silent = await variant({ LOG_LEVEL: 'silent' })
    const uncached = await variant({ READ_CACHE_TTL_MS: '0' })

    const ratio = (m: Measured) => m.result.requestsPerSecond / baseline.requestsPerSecond
    const { seconds, warmupSeconds } = ctx.settings
    const ids = `${paths.length} random ids; bodies ${formatNumber(smallest)} to ${formatNumber(largest)} bytes, median ${formatNumber(size)}`
    const rows: Row[] = [
      {
        metric: `static JSON baseline (bare Fastify, constant ${formatNumber(size)}-byte body, ${workers} worker process${workers > 1 ? 'es' : ''} like the service)`,
        value: `${formatNumber(baseline.requestsPerSecond)} req/s`,
        target: '—',
        how: `bench/server.ts: Node cluster of ${workers} Fastify worker${workers > 1 ? 's' : ''}, logger off; same autocannon run`,
      },
      {
        metric: `package_show by id, as \`npm start\` runs it (LOG_LEVEL=${ctx.app.logLevel}, document cache on) (${ids})`,
        value: `${formatNumber(asStarted.result.requestsPerSecond)} req/s; ${logNote(asStarted, ctx.app, warmupSeconds, seconds)}`,
        target: '—',
      },
      {
        metric: `package_show / static ratio, as \`npm start\` runs it (default LOG_LEVEL=${ctx.app.logLevel})`,
        value: judged(ratio(asStarted).toFixed(2), ratio(asStarted) >= RATIO_TARGET),
        target: `≥ ${RATIO_TARGET}`,
      },
      latencyRow(`package_show, as \`npm start\` runs it`, asStarted.result),
      {
        metric: 'package_show / static ratio, logging off (LOG_LEVEL=silent): what the access log costs',
        value: `${ratio(silent.measured).toFixed(2)} (${formatNumber(silent.measured.result.requestsPerSecond)} req/s; ${logNote(silent.measured, silent.service, warmupSeconds, seconds)})`,
        target: '— (information)',
        how: silent.service.how,
      },
      {
        metric: 'package_show / static ratio, document cache off (READ_CACHE_TTL_MS=0): every request reads the store',
        value: `${ratio(uncached.measured).toFixed(2)} (${formatNumber(uncached.measured.result.requestsPerSecond)} req/s; p50 / p95 / p99 ${[uncached.measured.result.p50, uncached.measured.result.p95, uncached.measured.result.p99].map((v) => v.toFixed(2)).join(' / ')} ms)`,
        target: '— (information)',
        how: uncached.service.how,
      },
    ]
    return rows
  },
}
