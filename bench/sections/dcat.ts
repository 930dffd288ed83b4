/**
 * The DCAT-AP.de export that GovData harvests, and the validation of what it exports:
 *   - the whole catalog as one streamed Turtle document (GET /catalog.ttl?page=all), read by one client as it
 *     arrives, DUMP_RUNS times (the first run also warms the JIT): datasets/s, and the resident memory of the app
 *     process, sampled every 100 ms (/proc/<pid>/status, else `ps`) just before and during each dump: a dump that
 *     is streamed keeps it flat whatever the size of the catalog. The datasets in the document are counted
 *     (`a dcat:Dataset`) and must be every public dataset;
 *   - one Hydra page of 100 datasets (GET /catalog.ttl?page=N, N random over all pages), 1 client sequential;
 *   - validation time per dataset: the quads of one exported page (100 datasets, from GET /catalog.ttl?page=1)
 *     validated in this process by createValidator (own DCAT-AP.de 2 shapes, compiled once), best and median of
 *     VALIDATE_RUNS; and POST /api/validate with that page's Turtle, 1 client sequential (parse + validate +
 *     JSON report, HTTP included).
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { parseRdf } from '../../src/dcat/parse.js'
import { createValidator } from '../../src/validation/index.js'
import { assertPoolClean, formatMs, formatNumber, judged, median, prng, runPool, type BenchContext, type Row, type Section } from '../lib.js'

const DUMP_RUNS = 3
const DUMP_TARGET_PER_S = 10_000
const RSS_TARGET_MB = 300
const RSS_SAMPLE_MS = 100
const PAGE = 100
const PAGE_TARGET_P50_MS = 50
const PAGE_PATHS = 200
const PAGE_MAX_REQUESTS = 2000
const VALIDATE_RUNS = 7
const VALIDATE_TARGET_MS = 5
const VALIDATE_POSTS = 10

const DATASET_MARK = Buffer.from('a dcat:Dataset')

// ---------------------------------------------------------------------------------------------
// Resident memory of the app process.

const execFileAsync = promisify(execFile)

/** Resident set size of a process in MB: /proc/<pid>/status (Linux), else `ps -o rss=`. */
async function rssMb(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]
    if (kb) return Number(kb) / 1024
  } catch {
    // not Linux: ps below
  }
  const { stdout } = await execFileAsync('ps', ['-o', 'rss=', '-p', String(pid)])
  const kb = Number(stdout.trim())
  if (!Number.isFinite(kb) || kb <= 0) throw new Error(`cannot read the memory of process ${pid}`)
  return kb / 1024
}

/** Samples a process's RSS every RSS_SAMPLE_MS until stopped; returns the peak and the number of samples. */
function sampleRss(pid: number): { stop(): Promise<{ peak: number; samples: number }> } {
  let peak = 0
  let samples = 0
  let pending: Promise<void> = Promise.resolve()
  const sample = () => {
    pending = pending.then(async () => {
      const mb = await rssMb(pid).catch(() => 0)
      if (mb > 0) samples++
      peak = Math.max(peak, mb)
    })
  }
  sample()
  const timer = setInterval(sample, RSS_SAMPLE_MS)
  return {
    async stop() {
      clearInterval(timer)
      sample()
      await pending
      return { peak, samples }
    },
  }
}

// ---------------------------------------------------------------------------------------------
// The streamed dump.

interface Dump {
  datasets: number
  bytes: number
  seconds: number
  firstByteMs: number
  rssBefore: number
  rssPeak: number
  rssSamples: number
}

async function dumpOnce(ctx: BenchContext, pid: number): Promise<Dump> {
  const rssBefore = await rssMb(pid)
  const sampler = sampleRss(pid)
  const started = performance.now()
  let firstByteMs = NaN
  let bytes = 0
  let datasets = 0
  let rss = { peak: 0, samples: 0 }
  try {
    const response = await fetch(`${ctx.app.url}/catalog.ttl?page=all`)
    if (!response.ok || !response.body) throw new Error(`GET /catalog.ttl?page=all: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`)
    if (!/^text\/turtle/.test(response.headers.get('content-type') ?? '')) throw new Error(`GET /catalog.ttl?page=all: content type ${response.headers.get('content-type')}`)
    // The datasets are counted in the bytes as they go by (a mark may straddle two chunks: the tail is kept).
    let tail = Buffer.alloc(0)
    for await (const chunk of response.body) {
      if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - started
      bytes += chunk.length
      const data = tail.length ? Buffer.concat([tail, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
      for (let at = data.indexOf(DATASET_MARK); at !== -1; at = data.indexOf(DATASET_MARK, at + DATASET_MARK.length)) datasets++
      tail = Buffer.from(data.subarray(Math.max(0, data.length - (DATASET_MARK.length - 1))))
    }
  } finally {
    rss = await sampler.stop()
  }
  return { datasets, bytes, seconds: (performance.now() - started) / 1000, firstByteMs, rssBefore, rssPeak: Math.max(rss.peak, rssBefore), rssSamples: rss.samples }
}

function mb(value: number): string {
  return `${formatNumber(value)} MB`
}

async function dumpRows(ctx: BenchContext): Promise<Row[]> {
  const pid = ctx.app.pid
  if (!pid) throw new Error('the app server has no process id to sample')
  const runs: Dump[] = []
  for (let i = 0; i < DUMP_RUNS; i++) {
    const dump = await dumpOnce(ctx, pid)
    if (dump.datasets !== ctx.publicDatasets) throw new Error(`GET /catalog.ttl?page=all: ${dump.datasets} datasets in the document, the seeded catalog has ${ctx.publicDatasets} public ones`)
    runs.push(dump)
  }
  const rate = (d: Dump) => d.datasets / d.seconds
  const best = runs.reduce((a, b) => (rate(b) > rate(a) ? b : a))
  const peak = Math.max(...runs.map((d) => d.rssPeak))
  const perRun = runs
    .map((d, i) => `run ${i + 1}: ${formatNumber(rate(d))}/s in ${d.seconds.toFixed(1)} s, first byte ${formatMs(d.firstByteMs)} ms`)
    .join('; ')
  return [
    {
      metric: `full Turtle dump GET /catalog.ttl?page=all, streamed: ${formatNumber(best.datasets)} datasets, ${(best.bytes / 1e6).toFixed(0)} MB, 1 client (best of ${DUMP_RUNS})`,
      value: judged(`${formatNumber(rate(best))} datasets/s, ${(best.bytes / 1e6 / best.seconds).toFixed(1)} MB/s (${perRun})`, rate(best) >= DUMP_TARGET_PER_S),
      target: `≥ ${formatNumber(DUMP_TARGET_PER_S)} datasets/s`,
    },
    {
      metric: `app process RSS during the dump (sampled every ${RSS_SAMPLE_MS} ms): before → peak, per run`,
      value: judged(runs.map((d, i) => `run ${i + 1}: ${mb(d.rssBefore)} → ${mb(d.rssPeak)} (${d.rssSamples} samples)`).join('; '), peak < RSS_TARGET_MB),
      target: `peak < ${RSS_TARGET_MB} MB`,
    },
  ]
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
