/**
 * package_search as a portal's search page calls it: rows=10 with the four facets of the CKAN
 * front end (organization, groups, res_format, license_id), for
 *   - short German free-text queries (1-2 words from the synthetic catalog's vocabulary),
 *   - q=*:* (the unfiltered front page: the facets count the whole catalog),
 *   - an fq date range on metadata_modified (the seeder stamps every dataset with the seeding time,
 *     so NOW-30DAYS matches the whole seeded catalog).
 * Each is run with 1 client (the latency of one request on an idle server) and with the usual
 * number of connections (latency under load, requests queue in the one Node process).
 * The latency targets were set for MySQL/MariaDB; on SQLite they are printed, not judged.
 */
import {
  assertClean,
  formatMs,
  formatNumber,
  judgedForMysql,
  runLoad,
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

/**
 * Words of the synthetic generator (src/catalog/synthetic.ts): titles ("Haltestellen des ÖPNV in …",
 * "Baumkataster …", "Wahlergebnisse …", "Haushaltsplan …"), tags ("verkehr", "parken", "statistik")
 * and descriptions. From rare (one topic) to frequent (many topics); two-word queries are ANDed.
 */
const QUERIES = [
  'haltestellen',
  'baumkataster',
  'wahlergebnisse',
  'verkehr',
  'parken',
  'haushaltsplan',
  'spielplätze',
  'kommunalwahl ergebnisse',
  'bevölkerung statistik',
  'schulen bildung',
]

function searchPath(params: Record<string, string>): string {
  const query = Object.entries({ ...params, rows: '10', 'facet.field': JSON.stringify(FACETS) })
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&')
  return `/api/3/action/package_search?${query}`
}

interface SearchAnswer {
  success: boolean
  result?: { count: number; results: unknown[]; facets: Record<string, Record<string, number>> }
}

/** Asks each path once: every answer must succeed with hits and all four facets. Returns the hit counts. */
async function probe(url: string, paths: string[]): Promise<number[]> {
  const counts: number[] = []
  for (const path of paths) {
    const response = await fetch(url + path)
    const body = (await response.json()) as SearchAnswer
    if (!response.ok || !body.success || !body.result) throw new Error(`GET ${path}: HTTP ${response.status} ${JSON.stringify(body).slice(0, 300)}`)
    if (body.result.count === 0) throw new Error(`GET ${path}: no hits (pick words the seeded catalog contains)`)
    const missing = FACETS.filter((f) => !body.result!.facets[f] || Object.keys(body.result!.facets[f]!).length === 0)
    if (missing.length) throw new Error(`GET ${path}: facets ${missing.join(', ')} are empty`)
    counts.push(body.result.count)
  }
  return counts
}

function hits(counts: number[]): string {
  const min = Math.min(...counts)
  const max = Math.max(...counts)
  return min === max ? `${formatNumber(min)} hits` : `${formatNumber(min)} to ${formatNumber(max)} hits`
}

/**
 * Two rows: the latency of one request at a time (1 client), judged against the targets; and the
 * throughput with the usual connections, whose latency includes waiting behind the other requests
 * in the one Node process (not judged: the targets are for a request's own latency).
 */
async function measure(ctx: BenchContext, what: string, paths: string[], counts: number[]): Promise<Row[]> {
  const target = `p50 ≤ ${P50_TARGET_MS} ms, p95 ≤ ${P95_TARGET_MS} ms (MySQL)`
  const rows: Row[] = []
  let singleP50 = 0
  for (const connections of [1, ctx.settings.connections]) {
    if (connections > 1 && singleP50 > QUEUE_SKIP_MS) {
      rows.push({
        metric: `package_search ${what.replace(/ \(.*\)$/, '')}, same requests — ${connections} connections`,
        value: `not run: one request alone takes ${Number.isFinite(singleP50) ? `${formatMs(singleP50)} ms (p50)` : 'longer than the run'}, ${connections} at once would only queue behind each other`,
        target: '—',
      })
      continue
    }
    const result: LoadResult = await runLoad({
      url: ctx.app.url,
      paths,
      seconds: ctx.settings.seconds,
      connections,
      warmupSeconds: ctx.settings.warmupSeconds,
    })
    assertClean(`package_search ${what}`, result)
    if (!result.requests) {
      // Not one answer within the run: every request takes longer than BENCH_SECONDS.
      rows.push({
        metric: `package_search ${what}, rows=10, 4 facets (${hits(counts)}) — ${connections === 1 ? '1 client' : `${connections} connections`}`,
        value: judgedForMysql(`no answer within the ${ctx.settings.seconds} s run`, false, ctx.database),
        target,
      })
      singleP50 = Number.POSITIVE_INFINITY
      continue
    }
    if (connections === 1) singleP50 = result.p50
    const met = result.p50 <= P50_TARGET_MS && result.p95 <= P95_TARGET_MS
    const latencies = `${formatMs(result.p50)} / ${formatMs(result.p95)} / ${formatMs(result.p99)} ms`
    const rate = `${formatNumber(result.requestsPerSecond, result.requestsPerSecond < 100 ? 1 : 0)} req/s`
    rows.push(
      connections === 1
        ? {
            metric: `package_search ${what}, rows=10, 4 facets (${hits(counts)}) — 1 client: latency p50 / p95 / p99`,
            value: judgedForMysql(`${latencies} (${rate}, ${formatNumber(result.requests)} requests)`, met, ctx.database),
            target,
          }
        : {
            metric: `package_search ${what.replace(/ \(.*\)$/, '')}, same requests — ${connections} connections: throughput; latency p50 / p95 / p99 incl. queueing`,
            value: `${rate}; ${latencies}`,
            target: '—',
          },
    )
  }
  return rows
}

export const searchSection: Section = {
  name: 'package_search',
  title: 'package_search with facets',
  async run(ctx) {
    const textPaths = QUERIES.map((q) => searchPath({ q }))
    const allPaths = [searchPath({ q: '*:*' })]
    const rangePaths = [searchPath({ q: '*:*', fq: 'metadata_modified:[NOW-30DAYS TO NOW]' })]
    const textCounts = await probe(ctx.app.url, textPaths)
    const allCounts = await probe(ctx.app.url, allPaths)
    const rangeCounts = await probe(ctx.app.url, rangePaths)
    return [
      ...(await measure(ctx, `q=<1-2 German words> (${QUERIES.length} queries in turn: ${QUERIES.map((q) => `"${q}"`).join(', ')})`, textPaths, textCounts)),
      ...(await measure(ctx, 'q=*:*', allPaths, allCounts)),
      ...(await measure(ctx, 'q=*:* fq=metadata_modified:[NOW-30DAYS TO NOW]', rangePaths, rangeCounts)),
    ]
  },
}
