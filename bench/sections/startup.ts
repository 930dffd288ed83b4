/**
 * Start-up (issue 10): the service started as `npm start` starts it, on the embedded default (SQLite) with
 * STARTUP_DATASETS seeded datasets, timed from the spawn of the start script to the first 200 answer of a
 * package_search (which also loads the in-memory search index) and of status_show. RUNS starts, the median
 * reported with each phase the primary logged. Target: under 3 s to the first answer on an idle machine.
 */
import { join } from 'node:path'
import { rmSync } from 'node:fs'
import { loadConfig } from '../../src/config.js'
import { seedCatalog } from '../../src/cli/seed-command.js'
import { timeToFirstAnswer, type StartTiming } from '../service.js'
import {
  formatMs,
  formatNumber,
  judged,
  median,
  scratchDir,
  type BenchContext,
  type Row,
  type Section,
} from '../lib.js'

const STARTUP_DATASETS = 10_000
const RUNS = 3
const TARGET_MS = 3000

export const startupSection: Section = {
  name: 'startup',
  title: 'Start-up on SQLite',
  async run(ctx: BenchContext): Promise<Row[]> {
    const dir = scratchDir('godonu-bench-startup')
    try {
      const url = `sqlite:${join(dir, 'catalog.db')}`
      await seedCatalog(
        loadConfig({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' }),
        STARTUP_DATASETS,
        ctx.settings.seed,
        () => {},
      )
      const rows: Row[] = []
      for (const [what, path] of [
        ['package_search?q=wasser&rows=10 (loads the search index)', '/api/3/action/package_search?q=wasser&rows=10'],
        ['status_show', '/api/3/action/status_show'],
      ] as const) {
        const runs: StartTiming[] = []
        for (let i = 0; i < RUNS; i++) runs.push(await timeToFirstAnswer(url, path))
        const ms = runs.map((r) => r.firstAnswerMs)
        const middle = runs[ms.indexOf(median(ms))] ?? runs[0]!
        const phases = middle.phases.map((p) => `${p.msg} ${formatNumber(p.sinceStartMs)}`).join(', ')
        rows.push({
          metric: `start-up to the first answer of ${what}, SQLite, ${formatNumber(STARTUP_DATASETS)} datasets (median of ${RUNS}; runs ${ms.map(formatMs).join(' / ')} ms)`,
          value: judged(`${formatMs(median(ms))} ms`, median(ms) < TARGET_MS),
          target: `< ${formatNumber(TARGET_MS)} ms`,
          how: `from the spawn of the start script; primary's phases, ms since its start: ${phases}`,
        })
      }
      return rows
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
}
