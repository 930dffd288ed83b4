/**
 * The comparison API (src/stats/): latency of GET /api/stats/kommunen (JSON and CSV), /api/stats/kommunen/{name}
 * and /api/stats/history on the service as `npm start` starts it. Target: p50 <= 50 ms at 100,000 datasets.
 *
 * Setup (not the measured runs): the seeded datasets have no stored score (the seed writes past the service), so
 * they are scored first with the backfill a deployment runs (src/quality/backfill.ts), in this process. Then the
 * aggregates are computed once from nothing (timed: what the first request after an empty stats table costs), and
 * once more after a change-feed row naming one dataset (timed: what the first request after a write costs: the
 * Kommune of that dataset only). The load runs then read the maintained aggregates, as every request does while
 * the catalog does not change.
 */
import { performance } from 'node:perf_hooks'
import { loadConfig } from '../../src/config.js'
import { openStore } from '../../src/db/connect.js'
import { CatalogService } from '../../src/catalog/service.js'
import { vocabularies } from '../../src/catalog/vocabularies.js'
import { appendChange } from '../../src/catalog/change-feed.js'
import { scoreUnscored } from '../../src/quality/backfill.js'
import { StatsAggregates } from '../../src/stats/aggregates.js'
import {
  assertClean,
  formatMs,
  formatNumber,
  judged,
  runLoad,
  type BenchContext,
  type Row,
  type Section,
} from '../lib.js'

const TARGET_P50_MS = 50

export const statsSection: Section = {
  name: 'stats',
  title: 'Comparison of Kommunen (stats endpoints)',
  async run(ctx: BenchContext): Promise<Row[]> {
    const rows: Row[] = []
    const config = loadConfig({ ...process.env, DATABASE_URL: ctx.database.url, LOG_LEVEL: 'silent' })
    const store = await openStore(config.database)
    let names: string[] = []
    try {
      const service = new CatalogService(store, vocabularies(), config)
      await service.reference.reload()
      const scoreStart = performance.now()
      const scored = await scoreUnscored(service)
      const scoreMs = performance.now() - scoreStart
      rows.push({
        metric: 'stats setup: scoring and storing the unscored seeded datasets (backfill)',
        value: `${formatNumber(scored)} datasets in ${formatNumber(scoreMs / 1000, 1)} s`,
        target: '—',
        how: 'src/quality/backfill.ts scoreUnscored in the bench process, one core',
      })
      const aggregates = new StatsAggregates(store, {
        organizations: () => service.reference.organizations.values(),
        sideRefreshMs: 60_000,
      })
      const fullStart = performance.now()
      await aggregates.refresh()
      const fullMs = performance.now() - fullStart
      rows.push({
        metric: 'stats: aggregates of all Kommunen computed from nothing',
        value: `${formatMs(fullMs)} ms`,
        target: '—',
        how: 'StatsAggregates.refresh() in the bench process (the first request after an empty stats table does this once)',
      })
      const one = await store.db
        .selectFrom('package')
        .select(['id', 'owner_org'])
        .where('visible', '=', 1)
        .limit(1)
        .executeTakeFirstOrThrow()
      await appendChange(store.db, { kind: 'datasets', keys: [one.id] }).execute()
      const incStart = performance.now()
      await aggregates.refresh()
      const incMs = performance.now() - incStart
      rows.push({
        metric: 'stats: refresh after a write (recomputes that dataset’s Kommune)',
        value: `${formatMs(incMs)} ms`,
        target: '—',
        how: 'a change-feed row naming one dataset, then StatsAggregates.refresh(); paid by the first stats request after a write',
      })
      names = [...service.reference.organizations.values()].filter((o) => o.state === 'active').map((o) => o.name)
    } finally {
      await store.close()
    }

    const load = {
      seconds: ctx.settings.seconds,
      connections: ctx.settings.connections,
      warmupSeconds: ctx.settings.warmupSeconds,
      url: ctx.app.url,
    }
    const runs: Array<[string, string[]]> = [
      ['GET /api/stats/kommunen', ['/api/stats/kommunen']],
      ['GET /api/stats/kommunen?format=csv', ['/api/stats/kommunen?format=csv']],
      [
        `GET /api/stats/kommunen/{name} (${names.length} Kommunen in turn)`,
        names.map((n) => `/api/stats/kommunen/${encodeURIComponent(n)}`),
      ],
      ['GET /api/stats/history (all Kommunen, 30 days)', ['/api/stats/history']],
      [
        'GET /api/stats/history?kommune=NAME&from&to (366 days)',
        names.map((n) => `/api/stats/history?kommune=${encodeURIComponent(n)}&from=2026-01-01&to=2027-01-01`),
      ],
    ]
    for (const [metric, paths] of runs) {
      const probe = await fetch(load.url + paths[0])
      if (probe.status !== 200) throw new Error(`${metric}: ${probe.status} ${(await probe.text()).slice(0, 200)}`)
      const result = await runLoad({ ...load, paths })
      assertClean(metric, result)
      rows.push({
        metric: `${metric} latency p50 / p95`,
        value: judged(
          `${formatMs(result.p50)} / ${formatMs(result.p95)} ms (${formatNumber(result.requestsPerSecond)} req/s)`,
          result.p50 <= TARGET_P50_MS,
        ),
        target: `p50 ≤ ${TARGET_P50_MS} ms at 100,000 datasets (measured at ${formatNumber(ctx.settings.datasets)})`,
      })
    }
    return rows
  },
}
