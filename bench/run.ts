/**
 * `npm run bench`: seeds a fresh benchmark database, starts the app and runs the sections below
 * one after another, then prints a Markdown table and writes it to bench/results/latest.md.
 *
 *   DATABASE_URL    mysql://... benchmarks a scratch database `<db>_bench` on that server (dropped
 *                   at the end); unset or sqlite:... a fresh SQLite file in a temporary directory
 *   BENCH_DATASETS  datasets to seed (default 100000)
 *   BENCH_SECONDS   duration of each measured load run (default 10)
 *   BENCH_SECTIONS  comma-separated section names to run (default all): package_show, lists,
 *                   package_search, harvest, dcat, staleness, writes
 *
 * A further benchmark is one more file in bench/sections/ exporting a Section, listed in SECTIONS.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import {
  createBenchDatabase,
  loadSettings,
  renderReport,
  startServer,
  type BenchContext,
  type Row,
  type Section,
  type ServerHandle,
  type ServerKind,
} from './lib.js'
import { seedBenchDatabase } from './setup.js'
import { packageShowSection } from './sections/package-show.js'
import { listsSection } from './sections/lists.js'
import { searchSection } from './sections/search.js'
import { harvestSection } from './sections/harvest.js'
import { dcatSection } from './sections/dcat.js'
import { writesSection } from './sections/writes.js'
import { stalenessSection } from './sections/staleness.js'

// The write section goes last: it adds datasets, which the read sections must not see. The staleness
// section patches some seeded datasets (titles, tags), after the read sections have read them.
const SECTIONS: Section[] = [packageShowSection, listsSection, searchSection, harvestSection, dcatSection, stalenessSection, writesSection]

function selectedSections(): Section[] {
  const raw = process.env.BENCH_SECTIONS?.trim()
  if (!raw) return SECTIONS
  const names = raw.split(',').map((n) => n.trim()).filter(Boolean)
  const unknown = names.filter((n) => !SECTIONS.some((s) => s.name === n))
  if (unknown.length) throw new Error(`BENCH_SECTIONS: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.name).join(', ')}`)
  return SECTIONS.filter((s) => names.includes(s.name))
}

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url))

async function main(): Promise<number> {
  const settings = loadSettings()
  const sections = selectedSections()
  const startedAt = new Date()
  const loadAtStart = loadavg()[0]!
  const database = await createBenchDatabase()
  process.stderr.write(`bench: ${database.label}, ${settings.datasets} datasets, ${settings.seconds} s per run\n`)
  const servers: ServerHandle[] = []
  const rows: Row[] = []
  let failed = false
  // Interrupted: still stop the servers and drop the benchmark database.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}, cleaning up\n`)
      void Promise.all(servers.map((s) => s.stop()))
        .then(() => database.drop())
        .finally(() => process.exit(130))
    })
  }
  try {
    const seeded = await seedBenchDatabase(database, settings)
    rows.push(...seeded.rows)

    const start = async (kind: ServerKind, env: Record<string, string> = {}) => {
      const server = await startServer(kind, { ...env, DATABASE_URL: database.url })
      servers.push(server)
      return server
    }
    const ctx: BenchContext = {
      settings,
      database,
      // One worker process for the read sections: their baseline (a bare Fastify) is one process too.
      app: await start('app', { WORKERS: '1' }),
      datasetIds: seeded.datasetIds,
      publicDatasets: seeded.publicDatasets,
      startServer: start,
    }
    for (const section of sections) {
      process.stderr.write(`bench: ${section.title}...\n`)
      try {
        rows.push(...(await section.run(ctx)))
      } catch (err) {
        failed = true
        process.stderr.write(`bench: section ${section.name} failed: ${(err as Error)?.stack ?? String(err)}\n`)
        rows.push({ metric: `${section.title}`, value: `FAILED: ${(err as Error)?.message ?? String(err)}`, target: '—' })
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    await database.drop().catch((err: unknown) => process.stderr.write(`bench: could not drop the benchmark database: ${String(err)}\n`))
  }

  const report = renderReport(
    {
      database: database.engine,
      settings,
      startedAt,
      seconds: (Date.now() - startedAt.getTime()) / 1000,
      loadAverage: { start: loadAtStart, end: loadavg()[0]! },
    },
    rows,
  )
  process.stdout.write(`${report}\n`)
  mkdirSync(RESULTS_DIR, { recursive: true })
  writeFileSync(`${RESULTS_DIR}latest.md`, report)
  process.stderr.write(`bench: wrote ${RESULTS_DIR}latest.md\n`)
  return failed ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`)
    process.exit(1)
  },
)
