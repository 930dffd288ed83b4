/**
 * Helpers shared by the benchmark sections: the benchmark database, the static baseline's server
 * process, load generation with autocannon and the Markdown table. The service itself is started as
 * `npm start` starts it (bench/service.ts); its memory is sampled by bench/memory.ts.
 *
 * The clients (autocannon, fetch, curl) run in this process or a child of it, never in the server's
 * processes; runs are sequential, never concurrent.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { parseDatabaseUrl, redact } from '../src/config.js'
import type { ServiceHandle } from './service.js'
import type { IndexEstimate } from './memory.js'

export interface Settings {
  datasets: number
  seconds: number
  connections: number
  seed: number
  /** Seconds of load before each measured run (JIT, caches), not counted. */
  warmupSeconds: number
}

export interface Row {
  metric: string
  value: string
  target: string
  /** How the row was measured, where it differs from the section's usual way (the table's last column). */
  how?: string
}

/** A running server process (the static baseline). */
export interface ServerHandle {
  url: string
  stop(): Promise<void>
}

export interface BenchContext {
  settings: Settings
  database: BenchDatabase
  /** The service as `npm start` starts it (all defaults), already running; nothing has searched yet on it. */
  app: ServiceHandle
  /** The in-memory search index's share of a worker's RSS: `app` against the same service without the index (bench/memory.ts). */
  index: IndexEstimate
  /** Ids of up to 1000 random public datasets of the seeded catalog. */
  datasetIds: string[]
  /** Number of public active datasets in the seeded catalog. */
  publicDatasets: number
  /** Starts a further service as `npm start` does, with `env` over the defaults (stopped at the end of the run). */
  startService(env?: Record<string, string>): Promise<ServiceHandle>
  /** Starts the static baseline: a bare Fastify on `workers` processes answering every GET with the file's content. */
  startStatic(bodyFile: string, workers: number): Promise<ServerHandle>
}

/** One part of the benchmark: a title and the rows it measured. */
export interface Section {
  name: string
  title: string
  run(ctx: BenchContext): Promise<Row[]>
}

function intSetting(name: string, fallback: number, min: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min) throw new Error(`${name}="${raw}" must be a whole number >= ${min}`)
  return value
}

export function loadSettings(): Settings {
  return {
    datasets: intSetting('BENCH_DATASETS', 100000, 1),
    seconds: intSetting('BENCH_SECONDS', 10, 1),
    connections: 10,
    seed: 1,
    warmupSeconds: 1,
  }
}

// ---------------------------------------------------------------------------------------------
// The benchmark database: a fresh SQLite file, or a scratch database `<db>_bench` on MySQL.

export interface BenchDatabase {
  kind: 'sqlite' | 'mysql'
  /** DATABASE_URL of the benchmark database, for this process and the server processes. */
  url: string
  /** Where it is, password hidden. */
  label: string
  /** The database engine, for the report. */
  engine: string
  drop(): Promise<void>
}

/** The benchmark databases not dropped yet (an interrupted run drops them all). */
export const liveDatabases = new Set<BenchDatabase>()

/**
 * A fresh benchmark database; `suffix` names the scratch database on MySQL (`<db><suffix>`). Listed in
 * liveDatabases until dropped.
 */
export async function createBenchDatabase(env: NodeJS.ProcessEnv = process.env, suffix = '_bench'): Promise<BenchDatabase> {
  const database = await newBenchDatabase(env, suffix)
  const drop = database.drop
  database.drop = async () => {
    await drop()
    liveDatabases.delete(database)
  }
  liveDatabases.add(database)
  return database
}

async function newBenchDatabase(env: NodeJS.ProcessEnv, suffix: string): Promise<BenchDatabase> {
  const configured = env.DATABASE_URL
  if (!configured || configured.startsWith('sqlite:')) {
    const dir = mkdtempSync(join(tmpdir(), 'godonu-bench-'))
    const file = join(dir, 'bench.sqlite')
    return {
      kind: 'sqlite',
      url: `sqlite:${file}`,
      label: `SQLite ${file}`,
      engine: 'SQLite (better-sqlite3, WAL)',
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    }
  }
  const base = parseDatabaseUrl(configured)
  if (base.kind !== 'mysql') throw new Error('unexpected database kind')
  const scratch = `${base.database}${suffix}`
  const { createConnection } = await import('mysql2/promise')
  const connect = () => createConnection({ host: base.host, port: base.port, user: base.user, password: base.password })
  const admin = await connect()
  try {
    // A run that was killed leaves its database behind: start from scratch.
    await admin.query(`DROP DATABASE IF EXISTS \`${scratch}\``)
    await admin.query(`CREATE DATABASE \`${scratch}\``) // the server's default collation, as a plain CREATE DATABASE gets: the tables state their own
    const [rows] = await admin.query('SELECT VERSION() AS version')
    const version = (rows as Array<{ version: string }>)[0]?.version ?? '?'
    const url = new URL(configured)
    url.pathname = `/${scratch}`
    return {
      kind: 'mysql',
      url: url.toString(),
      label: `${redact(url.toString())} (${version})`,
      engine: /mariadb/i.test(version) ? `MariaDB ${version.replace(/-MariaDB.*$/i, '')}` : `MySQL ${version}`,
      drop: async () => {
        const conn = await connect()
        try {
          await conn.query(`DROP DATABASE IF EXISTS \`${scratch}\``)
        } finally {
          await conn.end()
        }
      },
    }
  } finally {
    await admin.end()
  }
}

// ---------------------------------------------------------------------------------------------
// The static baseline's server process (bench/server.ts).

const SERVER_SCRIPT = fileURLToPath(new URL('./server.ts', import.meta.url))
const running = new Set<ChildProcess>()

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** Forks bench/server.ts (the static baseline on `workers` processes) and waits until it listens. */
export function startStaticServer(bodyFile: string, workers: number): Promise<ServerHandle> {
  const kind = 'static'
  const child = fork(SERVER_SCRIPT, [kind], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_STATIC_BODY_FILE: bodyFile, BENCH_STATIC_WORKERS: String(workers) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  running.add(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  exited.then(() => running.delete(child))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
  }
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${kind} server exited (code ${code}) before listening`))
    child.once('exit', onExit)
    child.once('message', (message: { port?: number; error?: string }) => {
      child.off('exit', onExit)
      if (message.error || !message.port) {
        void stop()
        reject(new Error(`${kind} server failed: ${message.error ?? 'no port'}`))
        return
      }
      resolve({ url: `http://127.0.0.1:${message.port}`, stop })
    })
  })
}

/** A temporary directory removed when the process exits. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-${randomBytes(2).toString('hex')}-`))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  return dir
}

// ---------------------------------------------------------------------------------------------
// Load generation.

export interface LoadOptions {
  /** Base URL of the server. */
  url: string
  /** Paths to request (with query string), cycled through in order across all connections. */
  paths: string[]
  seconds: number
  connections: number
  warmupSeconds?: number
}

export interface LoadResult {
  requestsPerSecond: number
  requests: number
  /** Latency percentiles in milliseconds, over every response of the measured run. */
  p50: number
  p95: number
  p99: number
  mean: number
  non2xx: number
  errors: number
  statusCodes: Record<string, number>
  /** Mean size of a response in bytes, headers included. */
  meanResponseBytes: number
}

function once(options: LoadOptions, seconds: number, latencies?: number[]): Promise<autocannon.Result> {
  let next = 0
  const paths = options.paths
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: seconds,
        timeout: 30,
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] }),
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    )
    if (latencies) {
      instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
        latencies.push(responseTime)
      })
    }
  })
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

/** Runs autocannon against `paths` for a bounded time (after a warm-up) and summarises it. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (!options.paths.length) throw new Error('runLoad needs at least one path')
  if (options.warmupSeconds) await once(options, options.warmupSeconds)
  const latencies: number[] = []
  const result = await once(options, options.seconds, latencies)
  latencies.sort((a, b) => a - b)
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]))
  return {
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    mean: latencies.reduce((a, b) => a + b, 0) / Math.max(latencies.length, 1),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statusCodes,
    meanResponseBytes: result.throughput.total / Math.max(result.requests.total, 1),
  }
}

/** One HTTP request of a pool run (runPool). */
export interface PoolRequest {
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  /** JSON-encoded when an object. */
  body?: unknown
}

export interface PoolOptions {
  /** Base URL of the server. */
  url: string
  /** Clients sending one request after the other (each waits for its answer before the next). */
  concurrency: number
  /** Stop issuing requests after this many seconds. */
  seconds: number
  /** Stop issuing requests after this many (default: unbounded). */
  maxRequests?: number
  /** The `i`-th request of the run (i = 0, 1, 2, ... across all clients). */
  request(i: number): PoolRequest
}

export interface PoolResult {
  requests: number
  /** Wall time from the first request to the last answer. */
  seconds: number
  requestsPerSecond: number
  p50: number
  p95: number
  p99: number
  mean: number
  /** Answers with a status outside 2xx, and network errors. */
  non2xx: number
  errors: number
  statusCodes: Record<string, number>
  /** The first few failures: status (0 = network error) and the start of the answer. */
  failures: Array<{ status: number; body: string }>
}

/**
 * A closed-loop run with fetch: `concurrency` clients, each sending its next request when the answer
 * to the previous one has arrived, until `seconds` have passed or `maxRequests` were sent. Every
 * answer body is read in full; latencies are in milliseconds, from sending to the last byte.
 */
export async function runPool(options: PoolOptions): Promise<PoolResult> {
  const latencies: number[] = []
  const statusCodes: Record<string, number> = {}
  const failures: PoolResult['failures'] = []
  const max = options.maxRequests ?? Number.POSITIVE_INFINITY
  let issued = 0
  let errors = 0
  let non2xx = 0
  const started = performance.now()
  const deadline = started + options.seconds * 1000
  const client = async () => {
    while (issued < max && performance.now() < deadline) {
      const request = options.request(issued++)
      const init: RequestInit = { method: request.method, headers: { ...request.headers } }
      if (request.body !== undefined) {
        init.body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body)
        ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
      }
      const t0 = performance.now()
      try {
        const response = await fetch(options.url + request.path, init)
        const text = await response.text()
        latencies.push(performance.now() - t0)
        statusCodes[response.status] = (statusCodes[response.status] ?? 0) + 1
        if (response.status < 200 || response.status > 299) {
          non2xx++
          if (failures.length < 3) failures.push({ status: response.status, body: text.slice(0, 300) })
        }
      } catch (err) {
        errors++
        if (failures.length < 3) failures.push({ status: 0, body: String((err as Error)?.message ?? err) })
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, client))
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return {
    requests: latencies.length + errors,
    seconds,
    requestsPerSecond: latencies.length / Math.max(seconds, 0.001),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    mean: latencies.reduce((a, b) => a + b, 0) / Math.max(latencies.length, 1),
    non2xx,
    errors,
    statusCodes,
    failures,
  }
}

/** Fails the benchmark loudly when a pool run got an error answer. */
export function assertPoolClean(what: string, result: PoolResult): void {
  if (result.non2xx || result.errors) {
    const first = result.failures.map((f) => `${f.status || 'network error'}: ${f.body}`).join(' | ')
    throw new Error(`${what}: ${result.non2xx} non-2xx answers and ${result.errors} network errors of ${result.requests} (status codes ${JSON.stringify(result.statusCodes)}; first: ${first})`)
  }
}

/** Median of a few numbers. */
export function median(values: number[]): number {
  return percentile(values.slice().sort((a, b) => a - b), 50)
}

/** Fails the benchmark when a run got error answers: its numbers would be meaningless. */
export function assertClean(what: string, result: LoadResult): void {
  if (result.non2xx || result.errors) {
    throw new Error(`${what}: ${result.non2xx} non-2xx answers and ${result.errors} errors/timeouts (status codes ${JSON.stringify(result.statusCodes)})`)
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting.

export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

export function formatMs(value: number): string {
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)
}

export function latencyRow(metric: string, result: LoadResult, target = '—'): Row {
  return {
    metric: `${metric} latency p50 / p95 / p99`,
    value: `${formatMs(result.p50)} / ${formatMs(result.p95)} / ${formatMs(result.p99)} ms (${formatNumber(result.requestsPerSecond)} req/s)`,
    target,
  }
}

/**
 * `value` judged against a target that was set for MySQL/MariaDB: on SQLite it is only printed,
 * with the note "(target is for MySQL)".
 */
export function judgedForMysql(value: string, met: boolean, database: BenchDatabase): string {
  return database.kind === 'mysql' ? judged(value, met) : `not judged (the target is for MySQL): ${value}`
}

/** `value`, led by PASS or MISS: whether it meets the row's target. */
export function judged(value: string, met: boolean): string {
  return `${met ? 'PASS' : 'MISS'}: ${value}`
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

export function renderTable(rows: Row[]): string {
  const lines = ['| metric | value | target | how measured |', '| --- | --- | --- | --- |']
  for (const row of rows) lines.push(`| ${escapeCell(row.metric)} | ${escapeCell(row.value)} | ${escapeCell(row.target)} | ${escapeCell(row.how ?? '—')} |`)
  return lines.join('\n')
}

export interface ReportHeader {
  database: string
  /** How the service under test was started (the `how` of the rows that name nothing else). */
  service: string
  settings: Settings
  startedAt: Date
  seconds: number
  /** 1-minute load average of the machine at the start and at the end of the run (other processes compete). */
  loadAverage?: { start: number; end: number }
}

export function renderReport(header: ReportHeader, rows: Row[]): string {
  const cpu = cpus()
  const s = header.settings
  return [
    '# GoDonu Catalog benchmark',
    '',
    `${header.startedAt.toISOString()} · Node ${process.version} · ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'} · ${header.database}`,
    '',
    `Setup: ${formatNumber(s.datasets)} seeded datasets (seed ${s.seed}). The service is started as a user starts it:` +
      ` ${header.service}; its output (the access log) goes to a file. Rows that differ from that say how in the last column.` +
      ' The clients run in the bench process (autocannon, fetch) or in a child of it (curl), never in the' +
      ` service's processes: autocannon with ${s.connections} connections (unless a row names another number of` +
      ` clients) for ${s.seconds} s per run, after a ${s.warmupSeconds} s warm-up; runs are sequential. Writes, the search` +
      ' queries and the harvest use closed-loop fetch clients (each sends its next request when the previous' +
      ' answer has arrived, and reads every answer whole). Latency percentiles are over every response of a run.' +
      ` Memory is the VmRSS of the service's primary and of each worker, sampled separately every 100 ms.` +
      ` Whole run: ${header.seconds.toFixed(0)} s.` +
      (header.loadAverage
        ? ` Machine load average (1 min) at start / end: ${header.loadAverage.start.toFixed(1)} / ${header.loadAverage.end.toFixed(1)} on ${cpu.length} CPUs.`
        : ''),
    '',
    renderTable(rows),
    '',
  ].join('\n')
}

/** A seeded PRNG (mulberry32), so that a run picks the same ids and offsets every time. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `count` distinct items of `items` in random order (all of them when there are fewer). */
export function sample<T>(items: readonly T[], count: number, random: () => number): T[] {
  const copy = items.slice()
  const n = Math.min(count, copy.length)
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (copy.length - i))
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy.slice(0, n)
}
