/**
 * package_show against a static baseline: a bare Fastify serving a constant body of the size of a
 * typical package_show answer, on as many worker processes as the service has, requested with the very
 * same URLs. The ratio says how much of what Node + Fastify can serve at all the service keeps while it
 * reads datasets, logs each request and so on.
 *
 * The service is the one started as `npm start` starts it (default WORKERS, LOG_LEVEL=info with its
 * access log written to a file, document cache on): that ratio is judged (target >= 0.5). Beside it the
 * same service with LOG_LEVEL=silent (what the logging costs). Every service is measured only once each of
 * its workers has answered /readyz with 200 (bench/service.ts startService: the search index is loaded in
 * the background after the start, and a run during that load measures the load). The static baseline,
 * the default and the silent service are measured in turns, ROUNDS times, so that a change of the shared
 * machine's load falls on all three; each ratio is the mean of the turns' ratios. For information, the
 * service with READ_CACHE_TTL_MS=0 (every request reads the dataset from the store), measured once after.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { assertClean, formatNumber, judged, latencyRow, runLoad, scratchDir, type BenchContext, type LoadResult, type Row, type Section } from '../lib.js'
import { serviceCpuMs, type ServiceHandle } from '../service.js'

const RATIO_TARGET = 0.5
/** Turns of static, default and silent runs. */
const ROUNDS = 2

interface Measured {
  result: LoadResult
  log: { lines: number; bytes: number }
  /** CPU time of the service's primary and workers per answered request (ms), warm-up excluded. */
  cpuMsPerRequest: number
}

async function measure(ctx: BenchContext, service: ServiceHandle, paths: string[], what: string): Promise<Measured> {
  const load = { url: service.url, paths, connections: ctx.settings.connections }
  if (ctx.settings.warmupSeconds) await runLoad({ ...load, seconds: ctx.settings.warmupSeconds })
  const cpuBefore = serviceCpuMs(service)
  const result = await runLoad({ ...load, seconds: ctx.settings.seconds })
  const cpuMsPerRequest = (serviceCpuMs(service) - cpuBefore) / Math.max(result.requests, 1)
  assertClean(what, result)
  // Warm-up and measured run together: how much the service logged per request.
  const log = await service.takeLog()
  return { result, log, cpuMsPerRequest }
}

function logNote(m: Measured, service: ServiceHandle, warmupSeconds: number, seconds: number): string {
  // The log covers the warm-up too: scale the request count by the share of time measured.
  const requests = m.result.requests * ((warmupSeconds + seconds) / seconds)
  return m.log.lines
    ? `≈ ${(m.log.lines / requests).toFixed(1)} log lines (${formatNumber(m.log.bytes / m.log.lines)} bytes each) per request`
    : `nothing logged (LOG_LEVEL=${service.logLevel})`
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1)
const perRound = (values: number[]) => values.map((v) => formatNumber(v)).join(' / ')

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
    const { seconds, warmupSeconds } = ctx.settings
    const baselines: LoadResult[] = []
    const asStarted: Measured[] = []
    const silent: Measured[] = []
    const staticServer = await ctx.startStatic(file, workers)
    // Waits for every worker's /readyz 200, like ctx.app.
    const silentService = await ctx.startService({ LOG_LEVEL: 'silent' })
    try {
      await ctx.app.takeLog()
      for (let round = 0; round < ROUNDS; round++) {
        const baseline = await runLoad({ url: staticServer.url, paths, seconds, connections: ctx.settings.connections, warmupSeconds })
        assertClean('static baseline', baseline)
        baselines.push(baseline)
        asStarted.push(await measure(ctx, ctx.app, paths, 'package_show'))
        silent.push(await measure(ctx, silentService, paths, 'package_show LOG_LEVEL=silent'))
      }
    } finally {
      await staticServer.stop()
      await silentService.stop()
    }
    const uncachedService = await ctx.startService({ READ_CACHE_TTL_MS: '0' })
    let uncached: Measured
    try {
      uncached = await measure(ctx, uncachedService, paths, 'package_show READ_CACHE_TTL_MS=0')
    } finally {
      await uncachedService.stop()
    }

    const baselineRate = mean(baselines.map((b) => b.requestsPerSecond))
    const rate = (ms: Measured[]) => mean(ms.map((m) => m.result.requestsPerSecond))
    // Each turn's ratio pairs runs next to each other in time; the judged ratio is their mean.
    const ratio = (ms: Measured[]) => mean(ms.map((m, i) => m.result.requestsPerSecond / baselines[i]!.requestsPerSecond))
    const roundRatios = (ms: Measured[]) => ms.map((m, i) => (m.result.requestsPerSecond / baselines[i]!.requestsPerSecond).toFixed(2)).join(' / ')
    const cpu = (ms: Measured[]) => `${mean(ms.map((m) => m.cpuMsPerRequest)).toFixed(3)} ms CPU per request (primary and workers)`
    const ids = `${paths.length} random ids; bodies ${formatNumber(smallest)} to ${formatNumber(largest)} bytes, median ${formatNumber(size)}`
    const turns = `${ROUNDS} turns of static, default and silent runs (${seconds} s each after ${warmupSeconds} s warm-up); each service measured after every worker answered /readyz 200 (search index loaded)`
    const last = asStarted[asStarted.length - 1]!
    const rows: Row[] = [
      {
        metric: `static JSON baseline (bare Fastify, constant ${formatNumber(size)}-byte body, ${workers} worker process${workers > 1 ? 'es' : ''} like the service)`,
        value: `${formatNumber(baselineRate)} req/s (per turn: ${perRound(baselines.map((b) => b.requestsPerSecond))})`,
        target: '—',
        how: `bench/server.ts: Node cluster of ${workers} Fastify worker${workers > 1 ? 's' : ''}, logger off; ${turns}`,
      },
      {
        metric: `package_show by id, as \`npm start\` runs it (LOG_LEVEL=${ctx.app.logLevel}, document cache on) (${ids})`,
        value: `${formatNumber(rate(asStarted))} req/s (per turn: ${perRound(asStarted.map((m) => m.result.requestsPerSecond))}); ${logNote(last, ctx.app, warmupSeconds, seconds)}; ${cpu(asStarted)}`,
        target: '—',
        how: `${ctx.app.how}; ${turns}`,
      },
      {
        metric: `package_show / static ratio, as \`npm start\` runs it (default LOG_LEVEL=${ctx.app.logLevel})`,
        value: `${judged(ratio(asStarted).toFixed(2), ratio(asStarted) >= RATIO_TARGET)} (per turn: ${roundRatios(asStarted)})`,
        target: `≥ ${RATIO_TARGET}`,
        how: `${ctx.app.how}; ${turns}`,
      },
      latencyRow(`package_show, as \`npm start\` runs it (last turn)`, last.result),
      {
        metric: 'package_show / static ratio, logging off (LOG_LEVEL=silent): what the access log costs',
        value: `${ratio(silent).toFixed(2)} (per turn: ${roundRatios(silent)}; ${formatNumber(rate(silent))} req/s; ${logNote(silent[silent.length - 1]!, silentService, warmupSeconds, seconds)}; ${cpu(silent)})`,
        target: '— (information)',
        how: `${silentService.how}; ${turns}`,
      },
      {
        metric: 'package_show / static ratio, document cache off (READ_CACHE_TTL_MS=0): every request reads the store',
        value: `${(uncached.result.requestsPerSecond / baselineRate).toFixed(2)} against the mean baseline (${formatNumber(uncached.result.requestsPerSecond)} req/s; p50 / p95 / p99 ${[uncached.result.p50, uncached.result.p95, uncached.result.p99].map((v) => v.toFixed(2)).join(' / ')} ms; ${cpu([uncached])})`,
        target: '— (information)',
        how: `${uncachedService.how}; measured once after the turns, after every worker answered /readyz 200`,
      },
    ]
    return rows
  },
}
