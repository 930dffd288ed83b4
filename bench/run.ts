/**
 * `npm run bench`: seeds a fresh benchmark database, starts the app and runs the sections below
 * one after another, then prints a Markdown table and writes it to bench/results/latest.md.
 *
 *   DATABASE_URL    mysql://... benchmarks a scratch database `<db>_bench` on that server (dropped
 *                   at the end); unset or sqlite:... a fresh SQLite file in a temporary directory
 *   BENCH_DATASETS  datasets to seed (default 100000)
 *   BENCH_SECONDS   duration of each measured load run (default 10)
 *   BENCH_SECTIONS  comma-separated section names to run (default all): startup, package_show, lists,
 *                   package_search, harvest, harvester, dcat, quality, staleness, usage, links, stats, dashboard, writes
 *   BENCH_REFERENCE_DATASETS  size of the second, smaller catalog the dump's worker memory is compared
 *                   with (default 10000; measured only when BENCH_DATASETS is larger)
 *   BENCH_RESULTS   file the report is written to (default bench/results/latest.md)
 *
 * The service under test is started as `npm start` starts it (bench/service.ts): package.json's start
 * script, default settings; rows measured otherwise say so.
 *
 * A further benchmark is one more file in bench/sections/ exporting a Section, listed in SECTIONS.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  createBenchDatabase,
  liveDatabases,
  loadSettings,
  renderReport,
  startStaticServer,
  type BenchContext,
  type Row,
  type Section,
  type ServerHandle,
} from './lib.js'
import { startService, type ServiceHandle } from './service.js'
import { estimateIndex } from './memory.js'
import { seedBenchDatabase } from './setup.js'
import { packageShowSection } from './sections/package-show.js'
import { listsSection } from './sections/lists.js'
import { searchSection } from './sections/search.js'
import { harvestSection } from './sections/harvest.js'
import { harvesterSection } from './sections/harvester.js'
import { dcatSection } from './sections/dcat.js'
import { writesSection } from './sections/writes.js'
import { stalenessSection } from './sections/staleness.js'
import { startupSection } from './sections/startup.js'
import { usageSection } from './sections/usage.js'
import { linksSection } from './sections/links.js'
import { qualitySection } from './sections/quality.js'
import { statsSection } from './sections/stats.js'
import { dashboardSection } from './sections/dashboard.js'

// The write section goes last: it adds datasets, which the read sections must not see. The staleness
// section patches some seeded datasets (titles, tags), after the read sections have read them.
const SECTIONS: Section[] = [startupSection, packageShowSection, listsSection, searchSection, harvestSection, harvesterSection, dcatSection, qualitySection, stalenessSection, usageSection, linksSection, statsSection, dashboardSection, writesSection]

function selectedSections(): Section[] {
  const raw = process.env.BENCH_SECTIONS?.trim()
  if (!raw) return SECTIONS
  const names = raw.split(',').map((n) => n.trim()).filter(Boolean)
  const unknown = names.filter((n) => !SECTIONS.some((s) => s.name === n))
  if (unknown.length) throw new Error(`BENCH_SECTIONS: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.name).join(', ')}`)
  return SECTIONS.filter((s) => names.includes(s.name))
}

const RESULTS_FILE = process.env.BENCH_RESULTS?.trim() ? resolve(process.env.BENCH_RESULTS.trim()) : fileURLToPath(new URL('./results/latest.md', import.meta.url))

async function main(): Promise<number> {
  const settings = loadSettings()
  const sections = selectedSections()
  const startedAt = new Date()
  const loadAtStart = loadavg()[0]!
  const database = await createBenchDatabase()
  process.stderr.write(`bench: ${database.label}, ${settings.datasets} datasets, ${settings.seconds} s per run\n`)
  const servers: Array<ServerHandle | ServiceHandle> = []
  const rows: Row[] = []
  let failed = false
  let serviceHow = '(not started)'
  // Interrupted: still stop the servers and drop the benchmark database.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}, cleaning up\n`)
      void Promise.all(servers.map((s) => s.stop()))
        .then(() => Promise.all([...liveDatabases].map((d) => d.drop())))
        .finally(() => process.exit(130))
    })
  }
  try {
    const seeded = await seedBenchDatabase(database, settings)
    rows.push(...seeded.rows)

    const startWith = async (env: Record<string, string> = {}) => {
      const service = await startService(database.url, env)
      servers.push(service)
      return service
    }
    const startStatic = async (bodyFile: string, workers: number) => {
      const server = await startStaticServer(bodyFile, workers)
      servers.push(server)
      return server
    }
    const app = await startWith()
    process.stderr.write(`bench: service up: ${app.how}\n`)
    serviceHow = app.how
    // The index's share of a worker's memory: against the same service without it.
    const withoutIndex = await startService(database.url, { SEARCH_MEMORY_INDEX: '0' })
    const index = await estimateIndex(app, withoutIndex).finally(() => withoutIndex.stop())
    const ctx: BenchContext = {
      settings,
      database,
      app,
      index,
      datasetIds: seeded.datasetIds,
      publicDatasets: seeded.publicDatasets,
      startService: startWith,
      startStatic,
    }
    for (const section of sections) {
      process.stderr.write(`bench: ${section.title}...\n`)
      try {
        // Rows that name no other way were measured on the service as started above.
        rows.push(...(await section.run(ctx)).map((row) => ({ ...row, how: row.how ?? '`npm start`, defaults (see Setup)' })))
      } catch (err) {
        failed = true
        process.stderr.write(`bench: section ${section.name} failed: ${(err as Error)?.stack ?? String(err)}\n`)
        rows.push({ metric: `${section.title}`, value: `FAILED: ${(err as Error)?.message ?? String(err)}`, target: '—', how: '—' })
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    await database.drop().catch((err: unknown) => process.stderr.write(`bench: could not drop the benchmark database: ${String(err)}\n`))
  }

  const report = renderReport(
    {
      database: database.engine,
      service: serviceHow,
      settings,
      startedAt,
      seconds: (Date.now() - startedAt.getTime()) / 1000,
      loadAverage: { start: loadAtStart, end: loadavg()[0]! },
    },
    rows,
  )
  process.stdout.write(`${report}\n`)
  mkdirSync(dirname(RESULTS_FILE), { recursive: true })
  writeFileSync(RESULTS_FILE, report)
  process.stderr.write(`bench: wrote ${RESULTS_FILE}\n`)
  return failed ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`)
    process.exit(1)
  },
)
