/**
 * MQA scoring (src/quality/): every seeded dataset scored in both modes, as a write scores it (the dataset's
 * package dict mapped to DCAT-AP.de RDF, the facts read from it, both modes, link health from the default
 * source), in this process, one core:
 *   - scoring alone: the package dicts are read first (in pages, not timed), then each is scored; datasets per
 *     second of the scoring's own CPU time (process.cpuUsage: on a shared machine the wall clock measures the
 *     other processes too), and the wall-clock rate beside it. The first page is scored WARMUP times untimed
 *     first (JIT). Target >= 5,000/s.
 *   - scoring with reading: the same, with reading the documents in pages of PAGE timed too.
 * Scores are not stored here (a write stores its own dataset's score in its transaction; see the writes section).
 */
import { sql } from 'kysely'
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { loadConfig } from '../../src/config.js'
import { openStore } from '../../src/db/connect.js'
import { CatalogService } from '../../src/catalog/service.js'
import { vocabularies } from '../../src/catalog/vocabularies.js'
import type { PackageDict } from '../../src/dcat/mapping.js'
import { formatNumber, judged, type BenchContext, type Row, type Section } from '../lib.js'

const PAGE = 1000
const WARMUP = 3
const TARGET_PER_S = 5000

export const qualitySection: Section = {
  name: 'quality',
  title: 'MQA quality scores',
  async run(ctx: BenchContext): Promise<Row[]> {
    const config = loadConfig({ ...process.env, DATABASE_URL: ctx.database.url, LOG_LEVEL: 'silent' })
    const store = await openStore(config.database)
    try {
      const service = new CatalogService(store, vocabularies(), config)
      await service.reference.reload()
      let after = ''
      let scored = 0
      let scoringMs = 0
      let readingMs = 0
      let checksum = 0
      let cpuMicros = 0
      let warmed = false
      for (;;) {
        const readStart = performance.now()
        const ids = (
          await store.db.selectFrom('package').select('id').where('id', '>', after).orderBy('id').limit(PAGE).execute()
        ).map((r) => r.id)
        if (ids.length === 0) break
        after = ids.at(-1)!
        const dicts = (await service.packageDicts(ids, sql`1 = 1`)) as PackageDict[]
        readingMs += performance.now() - readStart
        if (!warmed) {
          for (let i = 0; i < WARMUP; i++) for (const dict of dicts) service.quality.score(dict, 'unchecked')
          warmed = true
        }
        const cpuStart = process.cpuUsage()
        const scoreStart = performance.now()
        for (const dict of dicts) checksum += service.quality.score(dict, 'unchecked').portal.score
        scoringMs += performance.now() - scoreStart
        const cpu = process.cpuUsage(cpuStart)
        cpuMicros += cpu.user + cpu.system
        scored += dicts.length
      }
      const perCpuSecond = scored / (cpuMicros / 1e6)
      const perSecond = scored / (scoringMs / 1000)
      const withReading = scored / ((scoringMs + readingMs) / 1000)
      const load = loadavg()[0]!
      return [
        {
          metric: `MQA scoring of all ${formatNumber(scored)} datasets, both modes (datasets/s)`,
          value: judged(
            `${formatNumber(perCpuSecond)} per CPU-second (wall clock: ${formatNumber(perSecond)}/s)`,
            perCpuSecond >= TARGET_PER_S,
          ),
          target: `>= ${formatNumber(TARGET_PER_S)}/s`,
          how: `in the bench process, one thread, judged on its CPU time (load average ${formatNumber(load, 1)}); documents read beforehand; first page scored ${WARMUP}× untimed (mean portal score ${formatNumber(checksum / Math.max(1, scored), 1)})`,
        },
        {
          metric: 'MQA scoring with reading the documents (datasets/s)',
          value: formatNumber(withReading),
          target: '—',
          how: `pages of ${PAGE} package dicts read and scored`,
        },
      ]
    } finally {
      await store.close()
    }
  },
}
