/**
 * The DCAT-AP.de export that GovData harvests, and the validation of what it exports:
 *   - the whole catalog as one streamed Turtle document (GET /catalog.ttl?page=all) from the service as
 *     `npm start` runs it, as a user fetches it: first once with fetch in the bench process counting the
 *     datasets in the stream (`a dcat:Dataset`; they must be every public dataset), then DUMP_RUNS times with
 *     curl (a process of its own, body to /dev/null), datasets/s from the known count; judged on the
 *     median curl run. The RSS of the primary and of each worker is sampled every 100 ms during every run;
 *     judged: the peak of any worker < RSS_TARGET_MB, and its growth over the same measurement on a catalog
 *     of BENCH_REFERENCE_DATASETS (default 10,000; a second scratch database, seeded the same way, measured
 *     when the run is larger) no more than the growth of the in-memory search index (a worker's RSS before
 *     and after its first package_search) between the two sizes: the dump itself must not grow with the catalog;
 *   - one Hydra page of 100 datasets (GET /catalog.ttl?page=N, N random over all pages), 1 client sequential;
 *   - validation time per dataset: the quads of one exported page (100 datasets, from GET /catalog.ttl?page=1)
 *     validated in this process by createValidator (own DCAT-AP.de 2 shapes, compiled once), best and median of
 *     VALIDATE_RUNS; and POST /api/validate with that page's Turtle, 1 client sequential (parse + validate +
 *     JSON report, HTTP included).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { parseRdf } from '../../src/dcat/parse.js'
import { createValidator } from '../../src/validation/index.js'
import { assertPoolClean, createBenchDatabase, formatMs, formatNumber, judged, median, prng, runPool, type BenchContext, type Row, type Section } from '../lib.js'
import { estimateIndex, formatIndexEstimate, formatMemory, mb, recordMemory, SAMPLE_MS, type IndexEstimate, type MemoryRecording } from '../memory.js'
import { startService, type ServiceHandle } from '../service.js'
import { seedBenchDatabase } from '../setup.js'

const DUMP_RUNS = 3
const DUMP_TARGET_PER_S = 10_000
const RSS_TARGET_MB = 400
const PAGE = 100
const PAGE_TARGET_P50_MS = 50
const PAGE_PATHS = 200
const PAGE_MAX_REQUESTS = 2000
const VALIDATE_RUNS = 7
const VALIDATE_TARGET_MS = 5
const VALIDATE_POSTS = 10

const DATASET_MARK = Buffer.from('a dcat:Dataset')
const execFileAsync = promisify(execFile)

function referenceDatasets(): number {
  const raw = process.env.BENCH_REFERENCE_DATASETS?.trim()
  if (!raw) return 10_000
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new Error(`BENCH_REFERENCE_DATASETS="${raw}" must be a whole number >= 1`)
  return value
}

// ---------------------------------------------------------------------------------------------
// The streamed dump.

interface Dump {
  client: 'fetch' | 'curl'
  /** Datasets counted in the stream (fetch), or the known number of public datasets (curl). */
  datasets: number
  bytes: number
  seconds: number
  firstByteMs: number
  memory: MemoryRecording
}

/** Reads the dump with fetch in this process, counting the datasets as the bytes go by. */
async function dumpWithFetch(service: ServiceHandle): Promise<Dump> {
  const recording = recordMemory(service)
  const started = performance.now()
  let firstByteMs = NaN
  let bytes = 0
  let datasets = 0
  let memory: MemoryRecording
  try {
    const response = await fetch(`${service.url}/catalog.ttl?page=all`)
    if (!response.ok || !response.body) throw new Error(`GET /catalog.ttl?page=all: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`)
    if (!/^text\/turtle/.test(response.headers.get('content-type') ?? '')) throw new Error(`GET /catalog.ttl?page=all: content type ${response.headers.get('content-type')}`)
    // A mark may straddle two chunks: the tail is kept.
    let tail = Buffer.alloc(0)
    for await (const chunk of response.body) {
      if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - started
      bytes += chunk.length
      const data = tail.length ? Buffer.concat([tail, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
      for (let at = data.indexOf(DATASET_MARK); at !== -1; at = data.indexOf(DATASET_MARK, at + DATASET_MARK.length)) datasets++
      tail = Buffer.from(data.subarray(Math.max(0, data.length - (DATASET_MARK.length - 1))))
    }
  } finally {
    memory = recording.stop()
  }
  return { client: 'fetch', datasets, bytes, seconds: (performance.now() - started) / 1000, firstByteMs, memory }
}

/** Reads the dump with curl (a process of its own), body to /dev/null. */
async function dumpWithCurl(service: ServiceHandle, datasets: number): Promise<Dump> {
  const recording = recordMemory(service)
  const started = performance.now()
  let stdout: string
  let memory: MemoryRecording
  try {
    ;({ stdout } = await execFileAsync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_starttransfer} %{content_type}', `${service.url}/catalog.ttl?page=all`]))
  } finally {
    memory = recording.stop()
  }
  const seconds = (performance.now() - started) / 1000
  const [status, size, firstByte, type] = stdout.trim().split(' ')
  if (status !== '200' || !/^text\/turtle/.test(type ?? '')) throw new Error(`curl GET /catalog.ttl?page=all: ${stdout}`)
  return { client: 'curl', datasets, bytes: Number(size), seconds, firstByteMs: Number(firstByte) * 1000, memory }
}

async function hasCurl(): Promise<boolean> {
  return execFileAsync('curl', ['--version']).then(
    () => true,
    () => false,
  )
}

interface DumpMeasurement {
  runs: Dump[]
  /** Median datasets/s of the timed runs (curl; fetch when curl is missing). */
  rate: number
  /** Highest RSS of any worker over all runs (MB). */
  workerPeak: number
}

async function measureDumps(service: ServiceHandle, publicDatasets: number, timedRuns: number): Promise<DumpMeasurement> {
  const counted = await dumpWithFetch(service)
  if (counted.datasets !== publicDatasets) throw new Error(`GET /catalog.ttl?page=all: ${counted.datasets} datasets in the document, the catalog has ${publicDatasets} public ones`)
  const runs: Dump[] = [counted]
  const curl = await hasCurl()
  for (let i = 0; i < timedRuns; i++) runs.push(curl ? await dumpWithCurl(service, publicDatasets) : await dumpWithFetch(service))
  const timed = runs.slice(1)
  return {
    runs,
    rate: median(timed.map((d) => d.datasets / d.seconds)),
    workerPeak: Math.max(...runs.map((d) => d.memory.workerPeak)),
  }
}

interface Reference {
  datasets: number
  index: IndexEstimate
  dump: DumpMeasurement
  how: string
}

/** The same measurements on a second, smaller catalog (BENCH_REFERENCE_DATASETS), seeded the same way. */
async function measureReference(ctx: BenchContext, datasets: number): Promise<Reference> {
  const database = await createBenchDatabase(process.env, '_bench_ref')
  try {
    process.stderr.write(`bench: reference catalog of ${datasets} datasets (${database.label})\n`)
    const seeded = await seedBenchDatabase(database, { ...ctx.settings, datasets })
    const service = await startService(database.url)
    try {
      const withoutIndex = await startService(database.url, { SEARCH_MEMORY_INDEX: '0' })
      const index = await estimateIndex(service, withoutIndex).finally(() => withoutIndex.stop())
      const dump = await measureDumps(service, seeded.publicDatasets, DUMP_RUNS)
      return { datasets, index, dump, how: `${service.how}; a second scratch database seeded with ${formatNumber(datasets)} datasets (seed ${ctx.settings.seed}), dropped after` }
    } finally {
      await service.stop()
    }
  } finally {
    await database.drop()
  }
}

function runsText(runs: Dump[]): string {
  return runs
    .map((d, i) => `${i === 0 ? 'counting run (fetch)' : `run ${i} (${d.client})`}: ${formatNumber(d.datasets / d.seconds)}/s in ${d.seconds.toFixed(1)} s, first byte ${formatMs(d.firstByteMs)} ms`)
    .join('; ')
}

function memoryText(runs: Dump[]): string {
  return runs.map((d, i) => `${i === 0 ? 'counting run' : `run ${i}`}: ${formatMemory(d.memory)}`).join(' · ')
}

async function dumpRows(ctx: BenchContext): Promise<Row[]> {
  const dump = await measureDumps(ctx.app, ctx.publicDatasets, DUMP_RUNS)
  const timed = dump.runs.slice(1)
  const best = timed[0]!
  const refSize = referenceDatasets()
  const rows: Row[] = [
    {
      metric: `full Turtle dump GET /catalog.ttl?page=all, streamed: ${formatNumber(ctx.publicDatasets)} public datasets, ${(best.bytes / 1e6).toFixed(0)} MB, 1 client (median of ${timed.length} ${best.client} runs)`,
      value: judged(`${formatNumber(dump.rate)} datasets/s (${runsText(dump.runs)})`, dump.rate >= DUMP_TARGET_PER_S),
      target: `≥ ${formatNumber(DUMP_TARGET_PER_S)} datasets/s`,
      how: `${ctx.app.how}; ${best.client === 'curl' ? 'curl -o /dev/null (a process of its own), datasets/s from the known count' : 'fetch in the bench process (no curl here)'}; the counting run is not judged`,
    },
    {
      metric: `RSS during the dump, each process sampled every ${SAMPLE_MS} ms: before → peak, per run`,
      value: judged(`largest worker peak ${mb(dump.workerPeak)} (${memoryText(dump.runs)})`, dump.workerPeak < RSS_TARGET_MB),
      target: `peak of any worker < ${RSS_TARGET_MB} MB`,
    },
    {
      metric: `in-memory search index's share of a worker's RSS, ${formatNumber(ctx.publicDatasets)} public datasets: RSS before → 1 s after its first package_search`,
      value: `≈ ${mb(ctx.index.indexMb)} (${formatIndexEstimate(ctx.index)})`,
      target: '— (information)',
    },
  ]
  if (ctx.settings.datasets <= refSize) {
    rows.push({
      metric: `worker RSS growth during the dump against a catalog of ${formatNumber(refSize)} datasets`,
      value: `not measured: this run has ${formatNumber(ctx.settings.datasets)} datasets, not more than the reference (BENCH_REFERENCE_DATASETS=${refSize})`,
      target: "growth ≤ the index's growth",
    })
    return rows
  }
  let ref: Reference
  try {
    ref = await measureReference(ctx, refSize)
  } catch (err) {
    // The dump's own rows stand; the comparison is missing and says why.
    rows.push({ metric: `worker RSS growth during the dump against a catalog of ${formatNumber(refSize)} datasets`, value: `FAILED: ${(err as Error)?.message ?? String(err)}`, target: "growth ≤ the index's growth" })
    return rows
  }
  const growth = dump.workerPeak - ref.dump.workerPeak
  const indexGrowth = ctx.index.indexMb - ref.index.indexMb
  rows.push(
    {
      metric: `reference catalog of ${formatNumber(ref.datasets)} datasets: index share; dump (${runsText(ref.dump.runs)}) worker RSS`,
      value: `index ≈ ${mb(ref.index.indexMb)} (${formatIndexEstimate(ref.index)}); largest worker peak during the dump ${mb(ref.dump.workerPeak)} (${memoryText(ref.dump.runs)})`,
      target: '— (information)',
      how: ref.how,
    },
    {
      metric: `largest worker peak during the dump: ${formatNumber(ctx.settings.datasets)} vs ${formatNumber(ref.datasets)} datasets, growth against the index's growth`,
      value: judged(`${mb(dump.workerPeak)} − ${mb(ref.dump.workerPeak)} = ${mb(growth)}; index ${mb(ctx.index.indexMb)} − ${mb(ref.index.indexMb)} = ${mb(indexGrowth)}`, growth <= indexGrowth),
      target: "growth ≤ the index's growth",
    },
  )
  return rows
}

// ---------------------------------------------------------------------------------------------
// Hydra pages and validation.

async function pageRows(ctx: BenchContext): Promise<Row[]> {
  const pages = Math.max(1, Math.ceil(ctx.publicDatasets / PAGE))
  const random = prng(ctx.settings.seed + 7)
  const paths = Array.from({ length: PAGE_PATHS }, () => `/catalog.ttl?page=${1 + Math.floor(random() * pages)}`)
  const probe = await fetch(ctx.app.url + paths[0])
  const probeText = await probe.text()
  if (!probe.ok || !probeText.includes('hydra:')) throw new Error(`GET ${paths[0]}: HTTP ${probe.status} ${probeText.slice(0, 300)}`)
  // Warm-up, then the measured run.
  await runPool({ url: ctx.app.url, concurrency: 1, seconds: ctx.settings.warmupSeconds, maxRequests: 50, request: (i) => ({ method: 'GET', path: paths[i % paths.length]! }) })
  const result = await runPool({
    url: ctx.app.url,
    concurrency: 1,
    seconds: ctx.settings.seconds,
    maxRequests: PAGE_MAX_REQUESTS,
    request: (i) => ({ method: 'GET', path: paths[i % paths.length]! }),
  })
  assertPoolClean('GET /catalog.ttl?page=N', result)
  return [
    {
      metric: `one Hydra page of ${PAGE}: GET /catalog.ttl?page=N (N random of ${formatNumber(pages)}), 1 client sequential, latency p50 / p95 / p99`,
      value: judged(`${formatMs(result.p50)} / ${formatMs(result.p95)} / ${formatMs(result.p99)} ms (${formatNumber(result.requests)} requests)`, result.p50 <= PAGE_TARGET_P50_MS),
      target: `p50 ≤ ${PAGE_TARGET_P50_MS} ms`,
    },
  ]
}

async function validationRows(ctx: BenchContext): Promise<Row[]> {
  const response = await fetch(`${ctx.app.url}/catalog.ttl?page=1`)
  const turtle = await response.text()
  if (!response.ok) throw new Error(`GET /catalog.ttl?page=1: HTTP ${response.status} ${turtle.slice(0, 300)}`)
  const quads = await parseRdf(turtle, 'ttl')
  const datasets = quads.filter((q) => q.predicate.value === 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type' && q.object.value === 'http://www.w3.org/ns/dcat#Dataset').length
  if (!datasets) throw new Error('GET /catalog.ttl?page=1 has no dcat:Dataset')

  let started = performance.now()
  const validator = await createValidator({ profile: 'dcat_ap_de_2' })
  const compileMs = performance.now() - started
  const first = await validator.validate(quads)
  const times: number[] = []
  for (let i = 0; i < VALIDATE_RUNS; i++) {
    started = performance.now()
    await validator.validate(quads)
    times.push(performance.now() - started)
  }
  const best = Math.min(...times) / datasets
  const mid = median(times) / datasets

  // The same page through the API, as an editor's tool sends it.
  const posts: number[] = []
  for (let i = 0; i < VALIDATE_POSTS + 1; i++) {
    started = performance.now()
    const answer = await fetch(`${ctx.app.url}/api/validate`, { method: 'POST', headers: { 'content-type': 'text/turtle' }, body: turtle })
    const text = await answer.text()
    if (!answer.ok) throw new Error(`POST /api/validate: HTTP ${answer.status} ${text.slice(0, 300)}`)
    if (i > 0) posts.push(performance.now() - started)
  }
  const postMs = median(posts)
  const findings = `${first.counts.violation} violations, ${first.counts.warning} warnings`
  return [
    {
      metric: `validation of exported datasets, in process: createValidator (own DCAT-AP.de 2 shapes) on one page of ${datasets} datasets (${formatNumber(quads.length)} quads), best / median of ${VALIDATE_RUNS}`,
      value: judged(`${best.toFixed(2)} / ${mid.toFixed(2)} ms per dataset (${findings}; shapes compiled in ${formatNumber(compileMs)} ms)`, best < VALIDATE_TARGET_MS),
      target: `< ${VALIDATE_TARGET_MS} ms per dataset`,
      how: 'createValidator in the bench process (no HTTP)',
    },
    {
      metric: `POST /api/validate with that page as Turtle (${(Buffer.byteLength(turtle) / 1e3).toFixed(0)} kB), 1 client, median of ${VALIDATE_POSTS}`,
      value: `${formatMs(postMs)} ms per request = ${(postMs / datasets).toFixed(2)} ms per dataset`,
      target: '—',
    },
  ]
}

export const dcatSection: Section = {
  name: 'dcat',
  title: 'DCAT-AP.de export (streamed dump, Hydra pages) and validation',
  async run(ctx) {
    return [...(await dumpRows(ctx)), ...(await pageRows(ctx)), ...(await validationRows(ctx))]
  },
}
