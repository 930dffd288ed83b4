/**
 * This catalog's harvester (src/harvest/*) harvesting local sources, run as an operator runs it: `godonu harvest
 * run NAME` (node dist/src/cli/main.js) as a child process against a scratch database of its own.
 *
 * The sources are served by an HTTP server in this process on loopback (so the child runs with
 * HARVEST_PRIVATE_ADDRESSES=allow, which every row states):
 *  - a CKAN 2.10 Action API: package_search with start/rows, sort=id asc, and fq=metadata_modified:[X TO *]
 *    honoured (what the incremental run asks for), over N synthetic package dicts;
 *  - a Hydra-paged Turtle catalog of the same N datasets (100 a page, hydra:next on each page's own IRI).
 *
 * Measured: wall time of the `harvest run` process (start to exit, its start-up and migrations check included)
 * -> datasets/s, the job's own time (the summary line), and the peak VmRSS of the process sampled every
 * SAMPLE_MS. At BENCH_HARVEST_SMALL (default 10,000) datasets and at BENCH_HARVEST_LARGE (default 50,000; 0 skips it) to show whether the
 * peak RSS stays flat. Then 1 % of the datasets change at the source (title and metadata_modified) and the same
 * command runs again: incremental for CKAN (fq on metadata_modified), a complete read for DCAT (only the changed
 * datasets are written); its time against the full run's.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config.js'
import { openStore } from '../../src/db/connect.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { CatalogService } from '../../src/catalog/service.js'
import { vocabularies } from '../../src/catalog/vocabularies.js'
import { createBenchDatabase, formatNumber, judged, type BenchDatabase, type Row, type Section } from '../lib.js'
import { mb, rssMb, SAMPLE_MS } from '../memory.js'

const RATE_TARGET = 1000
const INCREMENTAL_TARGET = 0.1
const RSS_FLAT_TOLERANCE = 1.25
const TURTLE_PAGE = 100
const OLD_MODIFIED = '2020-01-01T00:00:00.000000'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))

function sizeSetting(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name}="${raw}" must be a whole number >= 0`)
  return value
}

/** The synthetic datasets of a source: N of them, some changed (a version > 0 and a newer metadata_modified). */
class SyntheticSource {
  readonly changed = new Map<number, { version: number; modified: string }>()
  constructor(readonly size: number) {}

  id(i: number): string {
    return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
  }

  modified(i: number): string {
    return this.changed.get(i)?.modified ?? OLD_MODIFIED
  }

  title(i: number): string {
    const version = this.changed.get(i)?.version ?? 0
    return `Haushaltsplan ${i} der Gemeinde Beispielstadt${version ? ` (Fassung ${version + 1})` : ''}`
  }

  /** Changes every (1/share)-th dataset: a new title and metadata_modified now. */
  change(share: number): number {
    const step = Math.round(1 / share)
    const now = new Date().toISOString().replace('Z', '000')
    let n = 0
    for (let i = 0; i < this.size; i += step) {
      this.changed.set(i, { version: (this.changed.get(i)?.version ?? 0) + 1, modified: now })
      n++
    }
    return n
  }

  ckanDict(i: number): Record<string, unknown> {
    const id = this.id(i)
    return {
      id,
      name: `haushaltsplan-${i}`,
      title: this.title(i),
      notes: `Der Haushaltsplan ${i} mit allen Einnahmen und Ausgaben, je Produktbereich und Jahr.`,
      license_id: 'http://dcat-ap.de/def/licenses/dl-by-de/2.0',
      metadata_created: OLD_MODIFIED,
      metadata_modified: this.modified(i),
      state: 'active',
      private: false,
      type: 'dataset',
      tags: [{ name: 'haushalt' }, { name: `bereich-${i % 50}` }],
      extras: [{ key: 'identifier', value: `urn:beispielstadt:haushalt:${i}` }],
      resources: [
        {
          id: `10000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
          package_id: id,
          url: `https://daten.beispielstadt.example/haushalt/${i}.csv`,
          name: `Haushaltsplan ${i} (CSV)`,
          format: 'CSV',
        },
      ],
    }
  }

  /** A CKAN 2.10 package_search answer: sort=id asc (ids are in index order), fq on metadata_modified. */
  packageSearch(params: URLSearchParams): string {
    const start = Math.max(0, Number(params.get('start') ?? 0) || 0)
    const rows = Math.min(1000, Math.max(0, Number(params.get('rows') ?? 10) || 0))
    if ((params.get('sort') ?? 'id asc') !== 'id asc') throw new Error(`unexpected sort ${params.get('sort')}`)
    const since = /metadata_modified:\[(\S+) TO \*\]/.exec(params.get('fq') ?? '')?.[1]?.replace(/Z$/, '')
    let matching: number[] | undefined
    if (since !== undefined) {
      matching = [...this.changed.entries()].filter(([, c]) => c.modified >= since).map(([i]) => i)
      if (OLD_MODIFIED >= since)
        matching = undefined // everything
      else matching.sort((a, b) => a - b)
    }
    const count = matching ? matching.length : this.size
    const results: string[] = []
    for (let k = start; k < Math.min(count, start + rows); k++)
      results.push(JSON.stringify(this.ckanDict(matching ? matching[k]! : k)))
    return `{"help":"package_search","success":true,"result":{"count":${count},"sort":"id asc","facets":{},"results":[${results.join(',')}],"search_facets":{}}}`
  }

  /** Page `page` (1-based) of the Hydra-paged Turtle catalog. */
  turtlePage(base: string, page: number): string {
    const pageUrl = `${base}/katalog.ttl?page=${page}`
    const last = Math.max(1, Math.ceil(this.size / TURTLE_PAGE))
    const lines = [
      '@prefix dcat: <http://www.w3.org/ns/dcat#> .',
      '@prefix dct: <http://purl.org/dc/terms/> .',
      '@prefix hydra: <http://www.w3.org/ns/hydra/core#> .',
      '@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .',
      `<${pageUrl}> a hydra:PagedCollection ; hydra:totalItems ${this.size} ; hydra:itemsPerPage ${TURTLE_PAGE}${page < last ? ` ; hydra:next <${base}/katalog.ttl?page=${page + 1}>` : ''} .`,
    ]
    const quote = (s: string) => JSON.stringify(s)
    for (let i = (page - 1) * TURTLE_PAGE; i < Math.min(this.size, page * TURTLE_PAGE); i++) {
      const uri = `https://daten.beispielstadt.example/dataset/haushalt-${i}`
      lines.push(
        `<${uri}> a dcat:Dataset ; dct:title ${quote(this.title(i))} ;`,
        `  dct:description ${quote(`Der Haushaltsplan ${i} mit allen Einnahmen und Ausgaben, je Produktbereich und Jahr.`)} ;`,
        `  dct:identifier "urn:beispielstadt:haushalt:${i}" ; dcat:keyword "haushalt", "bereich-${i % 50}" ;`,
        `  dct:modified "${this.modified(i).slice(0, 19)}"^^xsd:dateTime ;`,
        `  dcat:distribution <${uri}/csv> .`,
        `<${uri}/csv> a dcat:Distribution ; dct:title ${quote(`Haushaltsplan ${i} (CSV)`)} ;`,
        `  dcat:accessURL <https://daten.beispielstadt.example/haushalt/${i}.csv> ;`,
        '  dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ;',
        '  dct:license <http://dcat-ap.de/def/licenses/dl-by-de/2.0> .',
      )
    }
    return `${lines.join('\n')}\n`
  }
}

async function serve(source: SyntheticSource): Promise<{ base: string; server: Server }> {
  let base = ''
  const server = createServer((req, res) => {
    try {
      const url = new URL(req.url ?? '/', base)
      if (url.pathname === '/api/3/action/package_search') {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
        res.end(source.packageSearch(url.searchParams))
      } else if (url.pathname === '/katalog.ttl') {
        res.writeHead(200, { 'content-type': 'text/turtle; charset=utf-8' })
        res.end(source.turtlePage(base, Number(url.searchParams.get('page') ?? 1) || 1))
      } else {
        res.writeHead(404).end()
      }
    } catch (err) {
      res.writeHead(500).end(String(err))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { base, server }
}

interface CliRun {
  seconds: number
  jobSeconds: number | undefined
  peakMb: number
  summary: string
  code: number
}

/** Runs `godonu harvest ...` as a child process; samples its VmRSS every SAMPLE_MS. */
function godonu(args: string[], databaseUrl: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        LOG_LEVEL: 'silent',
        HARVEST_PRIVATE_ADDRESSES: 'allow',
        NODE_OPTIONS: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let peak = 0
    const sample = () => {
      const value = child.pid ? rssMb(child.pid) : null
      if (value !== null) peak = Math.max(peak, value)
    }
    const timer = setInterval(sample, SAMPLE_MS)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString()).slice(-20_000)
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-20_000)
    })
    child.once('error', (err) => {
      clearInterval(timer)
      reject(err)
    })
    child.once('exit', (code) => {
      clearInterval(timer)
      const seconds = (performance.now() - started) / 1000
      const summary = stdout.trim().split('\n').pop() ?? ''
      const jobSeconds = /, ([\d.]+) s\)$/.exec(summary)?.[1]
      if (code !== 0) {
        reject(new Error(`godonu ${args.join(' ')} exited ${code}: ${summary} ${stderr.slice(-2000)}`))
        return
      }
      resolve({
        seconds,
        jobSeconds: jobSeconds ? Number(jobSeconds) : undefined,
        peakMb: peak,
        summary,
        code: code ?? 0,
      })
    })
  })
}

/** A scratch database (migrated) and the name of one of its Kommunen, the harvest sources' owner. */
async function scratchDatabase(): Promise<{ database: BenchDatabase; org: string }> {
  const database = await createBenchDatabase(process.env, '_harvester')
  try {
    const config = loadConfig({ ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' })
    const store = await openStore(config.database)
    try {
      await migrateToLatest(store.db)
      // The reference data (the Kommunen among them), as the service's start loads it.
      await new CatalogService(store, vocabularies(), config).init()
      const org = await store.db
        .selectFrom('organization')
        .select('name')
        .where('state', '=', 'active')
        .orderBy('name')
        .executeTakeFirst()
      if (!org) throw new Error('the scratch database has no organization to own the harvest source')
      return { database, org: org.name }
    } finally {
      await store.close()
    }
  } catch (err) {
    await database.drop()
    throw err
  }
}

interface Measured {
  full: CliRun
  incremental?: CliRun
  changed?: number
}

/** One source type at one size in a fresh scratch database: the complete run, then (optionally) 1 % changed. */
async function measure(type: 'ckan' | 'dcat', size: number, withIncremental: boolean): Promise<Measured> {
  const source = new SyntheticSource(size)
  const { base, server } = await serve(source)
  const { database, org } = await scratchDatabase()
  try {
    const url = type === 'ckan' ? base : `${base}/katalog.ttl?page=1`
    await godonu(
      [
        'harvest',
        'add',
        'bench',
        '--org',
        org,
        '--type',
        type,
        '--url',
        url,
        ...(type === 'dcat' ? ['--format', 'ttl'] : []),
      ],
      database.url,
    )
    process.stderr.write(`bench: harvester: ${type}, ${formatNumber(size)} datasets...\n`)
    const full = await godonu(['harvest', 'run', 'bench'], database.url)
    process.stderr.write(`bench: harvester: ${full.summary}\n`)
    if (!new RegExp(`added ${size},`).test(full.summary))
      throw new Error(`the ${type} run did not add all ${size} datasets: ${full.summary}`)
    if (!withIncremental) return { full }
    const changed = source.change(0.01)
    const incremental = await godonu(['harvest', 'run', 'bench'], database.url)
    process.stderr.write(`bench: harvester: ${incremental.summary}\n`)
    if (!new RegExp(`updated ${changed},`).test(incremental.summary))
      throw new Error(`the ${type} re-run did not update the ${changed} changed datasets: ${incremental.summary}`)
    return { full, incremental, changed }
  } finally {
    server.closeAllConnections()
    server.close()
    await database.drop()
  }
}

const HOW =
  '`godonu harvest run` (node dist/src/cli/main.js) as a child process, HARVEST_PRIVATE_ADDRESSES=allow (loopback source in the bench process), scratch database, LOG_LEVEL=silent; time = process start to exit'

export const harvesterSection: Section = {
  name: 'harvester',
  title: "This catalog's harvester: local CKAN and Hydra-paged Turtle sources",
  async run() {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`)
    const SMALL = Math.max(100, sizeSetting('BENCH_HARVEST_SMALL', 10_000))
    const large = sizeSetting('BENCH_HARVEST_LARGE', 50_000)
    const rows: Row[] = []
    const rate = (n: number, run: CliRun) => n / run.seconds
    const jobTime = (run: CliRun) =>
      run.jobSeconds === undefined ? '' : `; the job itself ${run.jobSeconds.toFixed(1)} s`
    for (const type of ['ckan', 'dcat'] as const) {
      const label = type === 'ckan' ? 'CKAN 2.10 package_search' : 'Hydra-paged Turtle'
      const small = await measure(type, SMALL, true)
      const r = rate(SMALL, small.full)
      rows.push({
        metric: `harvester, ${label}: ${formatNumber(SMALL)} datasets, complete run`,
        value: judged(
          `${formatNumber(r)} datasets/s (${small.full.seconds.toFixed(1)} s${jobTime(small.full)}); peak RSS ${mb(small.full.peakMb)}`,
          r >= RATE_TARGET,
        ),
        target: `>= ${formatNumber(RATE_TARGET)} datasets/s`,
        how: HOW,
      })
      if (small.incremental) {
        const share = small.incremental.seconds / small.full.seconds
        rows.push({
          metric: `harvester, ${label}: re-run after ${formatNumber(small.changed ?? 0)} of ${formatNumber(SMALL)} datasets (1 %) changed`,
          value: judged(
            `${small.incremental.seconds.toFixed(1)} s = ${(share * 100).toFixed(1)} % of the complete run${jobTime(small.incremental)}; ${type === 'ckan' ? 'incremental (fq=metadata_modified)' : 'every page read again, only the changed datasets written'}`,
            share < INCREMENTAL_TARGET,
          ),
          target: `< ${INCREMENTAL_TARGET * 100} % of the complete run's time`,
          how: HOW,
        })
      }
      if (large > 0) {
        const big = await measure(type, large, false)
        const rb = rate(large, big.full)
        const flat = big.full.peakMb <= small.full.peakMb * RSS_FLAT_TOLERANCE
        rows.push({
          metric: `harvester, ${label}: ${formatNumber(large)} datasets, complete run`,
          value: judged(
            `${formatNumber(rb)} datasets/s (${big.full.seconds.toFixed(1)} s${jobTime(big.full)})`,
            rb >= RATE_TARGET,
          ),
          target: `>= ${formatNumber(RATE_TARGET)} datasets/s`,
          how: HOW,
        })
        rows.push({
          metric: `harvester, ${label}: peak RSS of the harvest process, ${formatNumber(SMALL)} vs ${formatNumber(large)} datasets`,
          value: judged(
            `${mb(small.full.peakMb)} vs ${mb(big.full.peakMb)} (${((big.full.peakMb / small.full.peakMb - 1) * 100).toFixed(0)} %)`,
            flat,
          ),
          target: `flat (at ${formatNumber(large)} at most ${Math.round((RSS_FLAT_TOLERANCE - 1) * 100)} % above ${formatNumber(SMALL)}); sampled every ${SAMPLE_MS} ms`,
          how: HOW,
        })
      }
    }
    return rows
  },
}
