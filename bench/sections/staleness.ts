/**
 * Several servers on one database (issue 9, "Measured staleness"):
 *
 *   - Cross-server staleness. Two services A and B on the benchmark database, each as `npm start` starts
 *     it (bench/service.ts: WORKERS, CHANGE_POLL_MS and LOG_LEVEL at their defaults, log to a file; only
 *     WRITE_RATE_LIMIT raised, as in the writes section, so that the samples' writes are not refused).
 *     Each sample patches the title and the tags of a seeded dataset on A (a sysadmin token), then polls B,
 *     anonymously, every POLL_MS until its package_show shows the new title (document cache) and its
 *     package_search finds the dataset by its new tag (in-memory search index). Staleness is the time from
 *     A's answer to the answer of B's first poll that shows it: SAMPLES samples (fewer if MAX_SECONDS
 *     run out; a sample gives up after SAMPLE_TIMEOUT_MS). Target p99 <= 1 s.
 *   - Cost of tailing the feed when idle. package_show throughput (autocannon, the package_show section's
 *     ids) against one service with CHANGE_POLL_MS at its default and one with the largest CHANGE_POLL_MS
 *     (one poll a minute), both started as `npm start` starts them but with WORKERS=1 (one worker each: the
 *     comparison is of one process's work, not of the cores), measured
 *     alternately, ROUNDS times each. Target: no measurable change, i.e. the medians of the two
 *     configurations differ by no more than the runs of one configuration differ among themselves (and at
 *     least NOISE_FLOOR); when those runs differ by more than NOISE_CEILING the row says it is inconclusive.
 */
import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { loadConfig } from '../../src/config.js'
import { openStore } from '../../src/db/connect.js'
import { action, addUserWithToken, type GodonuServer } from '../../test/helpers/servers.js'
import { assertClean, formatMs, formatNumber, judged, median, runLoad, type BenchContext, type LoadResult, type Row, type Section } from '../lib.js'

const SAMPLES = 200
const MAX_SECONDS = 180
const SAMPLE_TIMEOUT_MS = 10_000
const POLL_MS = 5
const TARGET_P99_MS = 1000
/** Datasets the samples take turns on (their documents are in B's cache when a sample starts). */
const TARGETS = 20
/** CHANGE_POLL_MS of the "tailing practically off" configuration (the largest the service accepts). */
const IDLE_POLL_MS = '60000'
const NOISE_FLOOR = 0.03
/** Runs of one configuration differing by more than this: the machine was too busy to tell anything. */
const NOISE_CEILING = 0.1
const ROUNDS = 3

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function sysadminToken(ctx: BenchContext): Promise<{ token: string; hasFeed: boolean }> {
  const config = loadConfig({ ...process.env, DATABASE_URL: ctx.database.url, LOG_LEVEL: 'silent' })
  const store = await openStore(config.database)
  try {
    const token = await addUserWithToken(store, `bench-staleness-${randomBytes(4).toString('hex')}`, { sysadmin: true })
    const hasFeed = await sql`select count(*) as n from change_feed`.execute(store.db).then(
      () => true,
      () => false,
    )
    return { token, hasFeed }
  } finally {
    await store.close()
  }
}

interface Sample {
  show: number
  search: number
}

/** One write on A and the wait until B shows it; null parts when B did not within SAMPLE_TIMEOUT_MS. */
type Server = Pick<GodonuServer, 'base'>

async function sample(A: Server, B: Server, token: string, id: string, i: number): Promise<Sample> {
  const tag = `staleness-${i}-${randomBytes(3).toString('hex')}`
  const title = `Staleness sample ${i} ${tag}`
  const written = await action(A, 'package_patch', { body: { id, title, tags: [{ name: tag }] }, token })
  if (written.status !== 200) throw new Error(`package_patch on A: HTTP ${written.status} ${JSON.stringify(written.body.error).slice(0, 300)}`)
  const since = written.answeredAt
  let show = Number.NaN
  let search = Number.NaN
  while (Number.isNaN(show) || Number.isNaN(search)) {
    if (performance.now() - since > SAMPLE_TIMEOUT_MS) break
    const [shown, found] = await Promise.all([
      Number.isNaN(show) ? action(B, 'package_show', { query: { id } }) : null,
      Number.isNaN(search) ? action(B, 'package_search', { query: { fq: `tags:${tag}`, rows: 0 } }) : null,
    ])
    if (shown && shown.body.result?.title === title) show = shown.answeredAt - since
    if (found && found.body.result?.count === 1) search = found.answeredAt - since
    await sleep(POLL_MS)
  }
  return { show: Number.isNaN(show) ? Number.POSITIVE_INFINITY : show, search: Number.isNaN(search) ? Number.POSITIVE_INFINITY : search }
}

function staleRow(what: string, values: number[], planned: number): Row {
  const sorted = values.slice().sort((a, b) => a - b)
  const p50 = percentile(sorted, 50)
  const p99 = percentile(sorted, 99)
  const missed = sorted.filter((v) => !Number.isFinite(v)).length
  const show = (v: number) => (Number.isFinite(v) ? `${formatMs(v)} ms` : `> ${SAMPLE_TIMEOUT_MS} ms`)
  const count = sorted.length < planned ? `${sorted.length} of ${planned} samples (${MAX_SECONDS} s limit)` : `${sorted.length} samples`
  return {
    metric: `cross-server staleness, ${what} (write on A, poll B every ${POLL_MS} ms; ${count}) p50 / p99 / max`,
    value: judged(`${show(p50)} / ${show(p99)} / ${show(sorted.at(-1) ?? Number.NaN)}${missed ? `, ${missed} not seen within ${SAMPLE_TIMEOUT_MS} ms` : ''}`, p99 <= TARGET_P99_MS),
    target: `p99 ≤ ${TARGET_P99_MS} ms`,
  }
}

async function measureStaleness(ctx: BenchContext, token: string): Promise<Row[]> {
  // As `npm start` starts them (default workers, default logging), started at the same moment.
  const env = { WRITE_RATE_LIMIT: '10000000' }
  const launched = await Promise.allSettled([ctx.startService(env), ctx.startService(env)])
  const services = launched.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  try {
    const failed = launched.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed) throw failed.reason
    const [A, B] = services.map((s) => ({ base: s.url })) as [Server, Server]
    const targets = ctx.datasetIds.slice(0, TARGETS)
    for (const id of targets) await action(B, 'package_show', { query: { id } })
    const samples: Sample[] = []
    const started = performance.now()
    for (let i = 0; i < SAMPLES && performance.now() - started < MAX_SECONDS * 1000; i++) {
      samples.push(await sample(A, B, token, targets[i % targets.length]!, i))
    }
    const how = `two services A and B, each ${services[0]!.how}; fetch client`
    const both = samples.map((s) => Math.max(s.show, s.search))
    process.stderr.write(`bench: staleness ${samples.length} samples, p99 ${formatMs(percentile(both.slice().sort((a, b) => a - b), 99))} ms\n`)
    return [
      staleRow('package_show and package_search both show the write', both, SAMPLES),
      staleRow('package_show (document cache)', samples.map((s) => s.show), SAMPLES),
      staleRow('package_search fq=tags:… (in-memory index)', samples.map((s) => s.search), SAMPLES),
    ].map((row) => ({ ...row, how }))
  } finally {
    await Promise.all(services.map((s) => s.stop()))
  }
}

async function measureIdleTailing(ctx: BenchContext): Promise<Row[]> {
  const paths = ctx.datasetIds.map((id) => `/api/3/action/package_show?id=${encodeURIComponent(id)}`)
  const load = { paths, seconds: ctx.settings.seconds, connections: ctx.settings.connections, warmupSeconds: ctx.settings.warmupSeconds }
  const defaultPoll = loadConfig({ ...process.env, DATABASE_URL: ctx.database.url }).changePollMs
  const configurations: Array<{ label: string; env: Record<string, string> }> = [
    { label: `CHANGE_POLL_MS=${defaultPoll} (default)`, env: { WORKERS: '1' } },
    { label: `CHANGE_POLL_MS=${IDLE_POLL_MS}`, env: { WORKERS: '1', CHANGE_POLL_MS: IDLE_POLL_MS } },
  ]
  const servers = await Promise.all(configurations.map((c) => ctx.startService(c.env)))
  const runs: LoadResult[][] = configurations.map(() => [])
  try {
    // Alternately, so that a drift of the machine's load affects both alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (let c = 0; c < configurations.length; c++) {
        const result = await runLoad({ ...load, url: servers[c]!.url })
        assertClean(`package_show, ${configurations[c]!.label}`, result)
        runs[c]!.push(result)
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
  }
  const rates = runs.map((r) => r.map((x) => x.requestsPerSecond))
  const [tailing, idle] = rates.map(median) as [number, number]
  const ratio = tailing / idle
  const spread = Math.max(...rates.map((r) => (Math.max(...r) - Math.min(...r)) / median(r)))
  const noise = Math.max(NOISE_FLOOR, spread)
  const measurable = Math.abs(1 - ratio) > noise
  const verdict =
    spread > NOISE_CEILING
      ? `${ratio.toFixed(3)}: INCONCLUSIVE, runs of one configuration differed by ${(spread * 100).toFixed(0)} % (a busy machine)`
      : judged(`${ratio.toFixed(3)}${measurable ? ' (a measurable change)' : ' (within the noise)'}`, !measurable)
  return [
    ...configurations.map((c, i) => ({
      metric: `package_show, ${c.label}, one worker (runs alternately, ${rates[i]!.length} × ${ctx.settings.seconds} s)`,
      value: `${rates[i]!.map((r) => formatNumber(r)).join(' / ')} req/s`,
      target: '—',
      how: servers[i]!.how,
    })),
    {
      metric: `cost of tailing the change feed when idle: median package_show throughput with CHANGE_POLL_MS=${defaultPoll} / with ${IDLE_POLL_MS} (a change is measurable beyond ±${(noise * 100).toFixed(1)} %, the larger of the run-to-run spread and ${NOISE_FLOOR * 100} %)`,
      value: verdict,
      target: 'no measurable throughput change',
      how: `both ${servers[0]!.how.replace(/, set: .*$/, '')}, set: WORKERS=1 and CHANGE_POLL_MS as named`,
    },
  ]
}

export const stalenessSection: Section = {
  name: 'staleness',
  title: 'several servers: cross-server staleness and the cost of tailing the change feed',
  async run(ctx) {
    const { token, hasFeed } = await sysadminToken(ctx)
    const rows: Row[] = []
    if (!hasFeed) rows.push({ metric: 'change feed', value: 'MISSED: the database has no change_feed table (migration 0008)', target: 'present' })
    rows.push(...(await measureStaleness(ctx, token)))
    rows.push(...(await measureIdleTailing(ctx)))
    return rows
  },
}
