/**
 * package_show throughput with usage counting on and off (USAGE_COUNTING): what counting costs on the
 * request path. Two services on the benchmark database, started as `npm start` starts them and differing
 * only in USAGE_COUNTING (the counting one flushes every second, USAGE_FLUSH_MS=1000, so that its writes
 * fall into the measured runs), are loaded with the same package_show URLs, alternately, twice each; the
 * mean throughputs are compared. Target: counting on keeps at least 95 % of the throughput without it.
 */
import { assertClean, formatNumber, judged, runLoad, type LoadResult, type Section } from '../lib.js'

const RATIO_TARGET = 0.95
const ROUNDS = 2

export const usageSection: Section = {
  name: 'usage',
  title: 'package_show with usage counting on and off',
  async run(ctx) {
    const paths = ctx.datasetIds.map((id) => `/api/3/action/package_show?id=${encodeURIComponent(id)}`)
    const on = await ctx.startService({ USAGE_COUNTING: 'on', USAGE_FLUSH_MS: '1000' })
    const off = await ctx.startService({ USAGE_COUNTING: 'off' })
    const results: { on: LoadResult[]; off: LoadResult[] } = { on: [], off: [] }
    try {
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which goes first, so that a drift of the machine's load falls on both.
        const order = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)
        for (const which of order) {
          const service = which === 'on' ? on : off
          const result = await runLoad({
            url: service.url,
            paths,
            seconds: ctx.settings.seconds,
            connections: ctx.settings.connections,
            warmupSeconds: ctx.settings.warmupSeconds,
          })
          assertClean(`package_show USAGE_COUNTING=${which}`, result)
          results[which].push(result)
        }
      }
    } finally {
      await on.stop()
      await off.stop()
    }
    const mean = (list: LoadResult[]) => list.reduce((sum, r) => sum + r.requestsPerSecond, 0) / list.length
    const withCounting = mean(results.on)
    const without = mean(results.off)
    const ratio = withCounting / without
    const how = `${ROUNDS} alternating runs of ${ctx.settings.seconds} s each per setting, ${ctx.settings.connections} connections, ${paths.length} datasets`
    return [
      { metric: 'package_show, USAGE_COUNTING=off', value: `${formatNumber(without)} req/s`, target: '—', how },
      {
        metric: 'package_show, USAGE_COUNTING=on (flushed every second)',
        value: `${formatNumber(withCounting)} req/s`,
        target: '—',
        how,
      },
      {
        metric: 'package_show throughput with counting / without',
        value: judged(`${(ratio * 100).toFixed(1)} %`, ratio >= RATIO_TARGET),
        target: `≥ ${RATIO_TARGET * 100} %`,
        how,
      },
    ]
  },
}
