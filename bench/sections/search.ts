/**
 * package_search as a portal's search page calls it: rows=10 with the four facets of the CKAN front end
 * (organization, groups, res_format, license_id).
 *
 * Free-text queries are drawn from the seeded catalog itself, read through the API: the words of every tag
 * (tag_list) and the titles and tags of SAMPLED_DATASETS datasets read with package_search at seeded-random
 * offsets. Two classes, each up to QUERIES_PER_CLASS distinct queries in seeded-random order:
 *   - 1 word: a word of a tag or a title (stop words and words shorter than 3 letters left out);
 *   - 2 words: two different words of one dataset's title and tags (so that each query has a hit).
 * Each class is asked by one client, one query after the other, for BENCH_SECONDS (after a warm-up on
 * other queries); p50/p95/p99 per class are judged against the targets (on MySQL). The slowest queries
 * are asked REPEATS more times, to tell a slow query from a slow moment.
 *
 * Also q=*:* and a date-range fq, each with 1 client and with the usual connections.
 */
import {
  assertClean,
  formatMs,
  formatNumber,
  judgedForMysql,
  median,
  prng,
  runLoad,
  sample,
  type BenchContext,
  type LoadResult,
  type Row,
  type Section,
} from '../lib.js'

const P50_TARGET_MS = 20
const P95_TARGET_MS = 60
const FACETS = ['organization', 'groups', 'res_format', 'license_id']
/** Above this 1-client p50 the run with many connections is skipped: it would measure only queueing (and risk timeouts). */
const QUEUE_SKIP_MS = 500
const SAMPLED_DATASETS = 1000
const SAMPLE_PAGE = 50
const QUERIES_PER_CLASS = 2000
const WARMUP_QUERIES = 100
const SLOWEST = 10
const REPEATS = 3
/** German function words: a search box gets them, but a query of one alone says nothing about search. */
const STOP_WORDS = new Set(
  'der die das des dem den ein eine einer eines einem einen und oder für von vom zum zur mit aus auf bei nach über unter als auch nicht sich ist sind im in am an bis pro je'.split(' '),
)

function searchPath(params: Record<string, string>): string {
  const query = Object.entries({ ...params, rows: '10', 'facet.field': JSON.stringify(FACETS) })
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&')
  return `/api/3/action/package_search?${query}`
}

interface SearchAnswer {
  success: boolean
  result?: { count: number; results: Array<{ title?: string; tags?: Array<{ name: string }> }>; facets: Record<string, Record<string, number>> }
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url)
  const text = await response.text()
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${text.slice(0, 300)}`)
  return JSON.parse(text) as T
}

function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length >= 3 && !STOP_WORDS.has(w))
}

interface QuerySets {
  one: string[]
  two: string[]
  warmup: string[]
  /** Where the words came from, for the table. */
  source: string
}

/** The query classes, drawn from the catalog through the API with the run's seed. */
async function drawQueries(ctx: BenchContext): Promise<QuerySets> {
  const random = prng(ctx.settings.seed + 11)
  const tags = (await getJson<{ result: string[] }>(`${ctx.app.url}/api/3/action/tag_list`)).result
  const pages = Math.max(1, Math.ceil(Math.min(SAMPLED_DATASETS, ctx.publicDatasets) / SAMPLE_PAGE))
  const lastStart = Math.max(0, ctx.publicDatasets - SAMPLE_PAGE)
  const datasets: Array<{ title: string; tags: string[] }> = []
  for (let i = 0; i < pages; i++) {
    const start = Math.floor(random() * (lastStart + 1))
    const body = await getJson<SearchAnswer>(`${ctx.app.url}/api/3/action/package_search?rows=${SAMPLE_PAGE}&start=${start}&sort=${encodeURIComponent('id asc')}&facet=false`)
    for (const d of body.result?.results ?? []) datasets.push({ title: d.title ?? '', tags: (d.tags ?? []).map((t) => t.name) })
  }
  const vocabulary = [...new Set([...tags.flatMap(words), ...datasets.flatMap((d) => words(d.title))])].sort()
  const one = sample(vocabulary, QUERIES_PER_CLASS + WARMUP_QUERIES, random)
  const pairs = new Set<string>()
  for (let attempt = 0; pairs.size < QUERIES_PER_CLASS + WARMUP_QUERIES && attempt < 20 * QUERIES_PER_CLASS; attempt++) {
    const d = datasets[Math.floor(random() * datasets.length)]
    if (!d) break
    const own = [...new Set([...words(d.title), ...d.tags.flatMap(words)])]
    if (own.length < 2) continue
    const [a, b] = sample(own, 2, random)
    pairs.add(`${a} ${b}`)
  }
  const two = [...pairs]
  const warmup = [...one.splice(0, Math.min(WARMUP_QUERIES / 2, Math.floor(one.length / 10))), ...two.splice(0, Math.min(WARMUP_QUERIES / 2, Math.floor(two.length / 10)))]
  return {
    one,
    two,
    warmup,
    source: `${formatNumber(vocabulary.length)} distinct words of ${formatNumber(tags.length)} tags (tag_list) and of the titles of ${formatNumber(datasets.length)} datasets read at seeded-random offsets (seed ${ctx.settings.seed + 11})`,
  }
}

interface Timed {
  q: string
  ms: number
  count: number
}

/** One query, its answer read whole: the time from sending to the last byte. */
async function ask(url: string, q: string): Promise<Timed> {
  const path = searchPath({ q })
  const t0 = performance.now()
  const response = await fetch(url + path)
  const text = await response.text()
  const ms = performance.now() - t0
  const body = JSON.parse(text) as SearchAnswer
  if (!response.ok || !body.success || !body.result) throw new Error(`GET ${path}: HTTP ${response.status} ${text.slice(0, 300)}`)
  const missing = FACETS.filter((f) => !body.result!.facets[f])
  if (missing.length) throw new Error(`GET ${path}: facets ${missing.join(', ')} missing`)
  return { q, ms, count: body.result.count }
}

/** Asks the queries in turn, one at a time, until `seconds` are over (cycling when all were asked). */
async function askInTurn(url: string, queries: string[], seconds: number): Promise<Timed[]> {
  const out: Timed[] = []
  const deadline = performance.now() + seconds * 1000
  for (let i = 0; performance.now() < deadline; i++) out.push(await ask(url, queries[i % queries.length]!))
  return out
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

function classRow(ctx: BenchContext, label: string, timed: Timed[], distinct: number): Row {
  const sorted = timed.map((t) => t.ms).sort((a, b) => a - b)
  const [p50, p95, p99] = [50, 95, 99].map((p) => percentile(sorted, p)) as [number, number, number]
  const counts = timed.map((t) => t.count).sort((a, b) => a - b)
  const zero = counts.filter((c) => c === 0).length
  const asked = new Set(timed.map((t) => t.q)).size
  return {
    metric: `package_search q=<${label}>, rows=10, 4 facets — 1 client: latency p50 / p95 / p99 (${formatNumber(timed.length)} requests, ${formatNumber(asked)} of ${formatNumber(distinct)} distinct queries; hits median ${formatNumber(percentile(counts, 50))}, max ${formatNumber(counts.at(-1) ?? 0)}${zero ? `, ${zero} with none` : ''})`,
    value: judgedForMysql(`${formatMs(p50)} / ${formatMs(p95)} / ${formatMs(p99)} ms`, p50 <= P50_TARGET_MS && p95 <= P95_TARGET_MS, ctx.database),
    target: `p50 ≤ ${P50_TARGET_MS} ms, p95 ≤ ${P95_TARGET_MS} ms (MySQL)`,
  }
}

/** The slowest distinct queries of both classes, asked again REPEATS times each. */
async function slowestRow(ctx: BenchContext, timed: Timed[]): Promise<{ row: Row; list: string }> {
  const worst = new Map<string, Timed>()
  for (const t of timed) if ((worst.get(t.q)?.ms ?? -1) < t.ms) worst.set(t.q, t)
  const slowest = [...worst.values()].sort((a, b) => b.ms - a.ms).slice(0, SLOWEST)
  const again: number[] = []
  for (const t of slowest) {
    const repeats: number[] = []
    for (let i = 0; i < REPEATS; i++) repeats.push((await ask(ctx.app.url, t.q)).ms)
    again.push(median(repeats))
  }
  const list = slowest.map((t, i) => `"${t.q}" ${formatMs(t.ms)} ms (${formatNumber(t.count)} hits; again: ${formatMs(again[i]!)} ms median of ${REPEATS})`).join('; ')
  return {
    row: {
      metric: `package_search: the ${slowest.length} slowest queries of both classes (time in the run; then asked ${REPEATS} more times: median, facet counts possibly from the worker's cache by then)`,
      value: list,
      target: '— (for the search owner: what makes the tail)',
    },
    list,
  }
}

async function probe(url: string, path: string): Promise<number> {
  const body = await getJson<SearchAnswer>(url + path)
  if (!body.success || !body.result) throw new Error(`GET ${path}: ${JSON.stringify(body).slice(0, 300)}`)
  const missing = FACETS.filter((f) => !body.result!.facets[f] || Object.keys(body.result!.facets[f]!).length === 0)
  if (missing.length) throw new Error(`GET ${path}: facets ${missing.join(', ')} are empty`)
  return body.result.count
}

/**
 * Two rows: one request at a time (1 client), judged; and the usual connections, whose latency includes
 * waiting behind the other requests (not judged: the targets are for a request's own latency).
 */
async function measureFixed(ctx: BenchContext, what: string, path: string): Promise<Row[]> {
  const hits = await probe(ctx.app.url, path)
  const target = `p50 ≤ ${P50_TARGET_MS} ms, p95 ≤ ${P95_TARGET_MS} ms (MySQL)`
  const rows: Row[] = []
  let singleP50 = 0
  for (const connections of [1, ctx.settings.connections]) {
    if (connections > 1 && singleP50 > QUEUE_SKIP_MS) {
      rows.push({ metric: `package_search ${what} — ${connections} connections`, value: `not run: one request alone takes ${formatMs(singleP50)} ms (p50)`, target: '—' })
      continue
    }
    const result: LoadResult = await runLoad({ url: ctx.app.url, paths: [path], seconds: ctx.settings.seconds, connections, warmupSeconds: ctx.settings.warmupSeconds })
    assertClean(`package_search ${what}`, result)
    if (!result.requests) {
      rows.push({ metric: `package_search ${what} — ${connections === 1 ? '1 client' : `${connections} connections`}`, value: judgedForMysql(`no answer within the ${ctx.settings.seconds} s run`, false, ctx.database), target })
      singleP50 = Number.POSITIVE_INFINITY
      continue
    }
    const latencies = `${formatMs(result.p50)} / ${formatMs(result.p95)} / ${formatMs(result.p99)} ms`
    const rate = `${formatNumber(result.requestsPerSecond, result.requestsPerSecond < 100 ? 1 : 0)} req/s`
    if (connections === 1) {
      singleP50 = result.p50
      rows.push({
        metric: `package_search ${what}, rows=10, 4 facets (${formatNumber(hits)} hits) — 1 client: latency p50 / p95 / p99`,
        value: judgedForMysql(`${latencies} (${rate})`, result.p50 <= P50_TARGET_MS && result.p95 <= P95_TARGET_MS, ctx.database),
        target,
        how: 'autocannon, 1 connection',
      })
    } else {
      rows.push({
        metric: `package_search ${what} — ${connections} connections: throughput; latency p50 / p95 / p99 incl. queueing`,
        value: `${rate}; ${latencies}`,
        target: '—',
        how: `autocannon, ${connections} connections`,
      })
    }
  }
  return rows
}

export const searchSection: Section = {
  name: 'package_search',
  title: 'package_search with facets',
  async run(ctx) {
    const queries = await drawQueries(ctx)
    if (!queries.one.length || !queries.two.length) throw new Error(`package_search: no queries could be drawn from the catalog (${queries.source})`)
    process.stderr.write(`bench: package_search: ${queries.one.length} one-word and ${queries.two.length} two-word queries from ${queries.source}\n`)
    await askInTurn(ctx.app.url, queries.warmup, ctx.settings.warmupSeconds)
    const one = await askInTurn(ctx.app.url, queries.one, ctx.settings.seconds)
    const two = await askInTurn(ctx.app.url, queries.two, ctx.settings.seconds)
    const how = 'fetch, 1 client, one query after the other, each answer read whole'
    const slowest = await slowestRow(ctx, [...one, ...two])
    process.stderr.write(`bench: package_search slowest: ${slowest.list}\n`)
    return [
      { metric: 'package_search queries', value: `drawn from ${queries.source}`, target: '—', how: 'tag_list and package_search through the API' },
      { ...classRow(ctx, '1 word', one, queries.one.length), how },
      { ...classRow(ctx, '2 words', two, queries.two.length), how },
      { ...slowest.row, how },
      ...(await measureFixed(ctx, 'q=*:*', searchPath({ q: '*:*' }))),
      ...(await measureFixed(ctx, 'q=*:* fq=metadata_modified:[NOW-30DAYS TO NOW]', searchPath({ q: '*:*', fq: 'metadata_modified:[NOW-30DAYS TO NOW]' }))),
    ]
  },
}
