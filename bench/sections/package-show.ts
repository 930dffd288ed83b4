/**
 * package_show against a static baseline: the same Fastify serving a constant body of the size
 * of a typical package_show answer, requested with the very same URLs. The ratio says how much
 * of what Node + Fastify can serve at all the app keeps while it reads datasets from the store.
 *
 * Measured twice against the same baseline run: the app as configured (its package_show document
 * cache on, READ_CACHE_TTL_MS default 5 s, so that most of the 1000 ids are answered from memory
 * after the warm-up), and a second app process with READ_CACHE_TTL_MS=0, where every request reads
 * the dataset from the store.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.js'
import { assertClean, formatNumber, judged, latencyRow, runLoad, scratchDir, type Section } from '../lib.js'

const RATIO_TARGET = 0.5

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

    const load = { paths, seconds: ctx.settings.seconds, connections: ctx.settings.connections, warmupSeconds: ctx.settings.warmupSeconds }
    const staticServer = await ctx.startServer('static', { BENCH_STATIC_BODY_FILE: file })
    let baseline
    try {
      baseline = await runLoad({ ...load, url: staticServer.url })
    } finally {
      await staticServer.stop()
    }
    assertClean('static baseline', baseline)
    const show = await runLoad({ ...load, url: ctx.app.url })
    assertClean('package_show', show)

    // The same requests against an app process whose document cache is off.
    const uncachedServer = await ctx.startServer('app', { READ_CACHE_TTL_MS: '0' })
    let uncached
    try {
      uncached = await runLoad({ ...load, url: uncachedServer.url })
    } finally {
      await uncachedServer.stop()
    }
    assertClean('package_show, document cache off', uncached)

    // What the app under test was configured with (the environment of this process, as it got it).
    const ttl = loadConfig({ ...process.env, DATABASE_URL: ctx.database.url }).readCacheTtlMs
    const cacheLabel =
      ttl === 0
        ? 'document cache off (READ_CACHE_TTL_MS=0 set in the environment)'
        : `document cache on, ${ttl % 1000 === 0 ? `${ttl / 1000} s` : `${ttl} ms`} TTL`
    const ratio = show.requestsPerSecond / baseline.requestsPerSecond
    const uncachedRatio = uncached.requestsPerSecond / baseline.requestsPerSecond
    return [
      {
        metric: `static JSON baseline (Fastify, constant ${formatNumber(size)}-byte body)`,
        value: `${formatNumber(baseline.requestsPerSecond)} req/s`,
        target: '—',
      },
      {
        metric: `package_show by id (${cacheLabel}) (${paths.length} random ids; bodies ${formatNumber(smallest)} to ${formatNumber(largest)} bytes, median ${formatNumber(size)})`,
        value: `${formatNumber(show.requestsPerSecond)} req/s`,
        target: '—',
      },
      { metric: `package_show (${cacheLabel}) / static ratio`, value: judged(ratio.toFixed(2), ratio >= RATIO_TARGET), target: `≥ ${RATIO_TARGET}` },
      latencyRow(`package_show (${cacheLabel})`, show),
      {
        metric: 'package_show, document cache off (READ_CACHE_TTL_MS=0) (same ids, separate app process)',
        value: `${formatNumber(uncached.requestsPerSecond)} req/s`,
        target: '—',
      },
      {
        metric: 'package_show, document cache off (READ_CACHE_TTL_MS=0) / static ratio',
        value: judged(uncachedRatio.toFixed(2), uncachedRatio >= RATIO_TARGET),
        target: `≥ ${RATIO_TARGET}`,
      },
      latencyRow('package_show, document cache off (READ_CACHE_TTL_MS=0)', uncached),
    ]
  },
}
