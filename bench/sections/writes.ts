/**
 * Writes through the Action API, with the validation every write gets (CKAN rules and the
 * DCAT-AP.de rules):
 *   - package_create, 1 client (up to CREATE_SEQUENTIAL_MAX datasets or BENCH_SECONDS) and
 *     CONCURRENT_CLIENTS clients (BENCH_SECONDS), each request a new dataset with a unique name;
 *   - package_patch of the title of random existing datasets, 1 client;
 *   - package_update with the full dict of a dataset (read once with package_show), title changed, 1 client.
 * The bodies are realistic: package_show dicts of seeded datasets (several resources, extras,
 * tags, themes), with the server-assigned fields removed and a new name.
 *
 * A dedicated sysadmin and API token are created in the store for the run, and the writes go to
 * a service of their own, started as `npm start` starts it but with WRITE_RATE_LIMIT=10000000 (the
 * default limit of 300 writes per minute per token would otherwise answer 429); the rows say so.
 * Any non-2xx answer fails the section.
 */
import { randomBytes } from 'node:crypto'
import { loadConfig } from '../../src/config.js'
import { openStore } from '../../src/db/connect.js'
import { UserService } from '../../src/auth/users.js'
import {
  assertPoolClean,
  formatMs,
  formatNumber,
  judgedForMysql,
  runPool,
  type BenchContext,
  type PoolRequest,
  type PoolResult,
  type Row,
  type Section,
} from '../lib.js'

const CREATE_SEQUENTIAL_MAX = 500
const CONCURRENT_CLIENTS = 8
/** Keeps a long BENCH_SECONDS from growing the catalog without bound. */
const CREATE_CONCURRENT_MAX = 20_000
const UPDATE_MAX = 2000
const CREATE_TARGET_PER_S = 200
const TEMPLATES = 50

type Dict = Record<string, unknown>

/** Fields the server sets: a create body does not send them. */
const SERVER_FIELDS = [
  'id',
  'name',
  'metadata_created',
  'metadata_modified',
  'creator_user_id',
  'revision_id',
  'organization',
  'num_resources',
  'num_tags',
  'relationships_as_object',
  'relationships_as_subject',
  'isopen',
  'license_title',
  'license_url',
  'tracking_summary',
]
const SERVER_RESOURCE_FIELDS = ['id', 'package_id', 'created', 'metadata_modified', 'position', 'revision_id', 'tracking_summary', 'state']

/** A package_create body from a package_show dict: the server's fields dropped, a new name. */
function createBody(template: Dict, name: string): Dict {
  const body: Dict = { ...template }
  for (const field of SERVER_FIELDS) delete body[field]
  body.name = name
  body.title = `${String(template.title)} (${name.slice(-6)})`
  body.resources = ((template.resources as Dict[] | undefined) ?? []).map((r) => {
    const resource = { ...r }
    for (const field of SERVER_RESOURCE_FIELDS) delete resource[field]
    return resource
  })
  body.extras = ((template.extras as Array<{ key: string; value: string }> | undefined) ?? []).map((e) =>
    e.key === 'identifier' ? { key: e.key, value: e.value.replace(/[^/]*$/, name) } : e,
  )
  return body
}

async function benchToken(ctx: BenchContext): Promise<string> {
  const config = loadConfig({ ...process.env, DATABASE_URL: ctx.database.url, LOG_LEVEL: 'silent' })
  const store = await openStore(config.database)
  try {
    const users = new UserService(store)
    const user = await users.addUser({ name: `bench-writer-${randomBytes(4).toString('hex')}`, sysadmin: true })
    return (await users.createToken(user.id, 'bench', null)).token
  } finally {
    await store.close()
  }
}

async function showDict(url: string, id: string): Promise<Dict> {
  const response = await fetch(`${url}/api/3/action/package_show?id=${encodeURIComponent(id)}`)
  const body = (await response.json()) as { success: boolean; result?: Dict }
  if (!response.ok || !body.success || !body.result) throw new Error(`package_show ${id}: HTTP ${response.status} ${JSON.stringify(body).slice(0, 300)}`)
  return body.result
}

async function publicCount(url: string): Promise<number> {
  const response = await fetch(`${url}/api/3/action/package_search?rows=0&facet=false`)
  const body = (await response.json()) as { success: boolean; result?: { count: number } }
  if (!response.ok || !body.success || !body.result) throw new Error(`package_search: HTTP ${response.status} ${JSON.stringify(body).slice(0, 300)}`)
  return body.result.count
}

function latencies(result: PoolResult): string {
  return `p50 ${formatMs(result.p50)} / p95 ${formatMs(result.p95)} / p99 ${formatMs(result.p99)} ms`
}

export const writesSection: Section = {
  name: 'writes',
  title: 'Writes (package_create, package_patch, package_update)',
  async run(ctx) {
    const token = await benchToken(ctx)
    const app = await ctx.startService({ WRITE_RATE_LIMIT: '10000000' })
    try {
      const url = app.url
      const headers = { authorization: token }
      const half = Math.max(1, Math.floor(ctx.datasetIds.length / 2))
      const templates: Dict[] = []
      for (const id of ctx.datasetIds.slice(0, TEMPLATES)) templates.push(await showDict(url, id))
      const bodyBytes = templates.map((t) => Buffer.byteLength(JSON.stringify(createBody(t, 'bench-xxxxxxxx-000000')))).sort((a, b) => a - b)
      const typicalBytes = bodyBytes[Math.floor(bodyBytes.length / 2)]!

      const run = randomBytes(4).toString('hex')
      let serial = 0
      const create = (): PoolRequest => {
        const n = serial++
        const body = createBody(templates[n % templates.length]!, `bench-${run}-${String(n).padStart(6, '0')}`)
        return { method: 'POST', path: '/api/3/action/package_create', headers, body }
      }

      const before = await publicCount(url)
      // Warm-up (JIT, validators, prepared statements): not measured, but checked.
      const warm = await runPool({ url, concurrency: CONCURRENT_CLIENTS, seconds: ctx.settings.warmupSeconds, request: create })
      assertPoolClean('package_create warm-up', warm)

      const sequential = await runPool({ url, concurrency: 1, seconds: ctx.settings.seconds, maxRequests: CREATE_SEQUENTIAL_MAX, request: create })
      assertPoolClean('package_create, 1 client', sequential)
      const concurrent = await runPool({ url, concurrency: CONCURRENT_CLIENTS, seconds: ctx.settings.seconds, maxRequests: CREATE_CONCURRENT_MAX, request: create })
      assertPoolClean(`package_create, ${CONCURRENT_CLIENTS} clients`, concurrent)

      const after = await publicCount(url)
      const created = warm.requests + sequential.requests + concurrent.requests
      if (after - before !== created) throw new Error(`package_create: ${created} datasets created with success, but package_search counts ${after - before} more`)

      // package_patch: the title of random existing (seeded) datasets.
      const patchIds = ctx.datasetIds.slice(0, half)
      const patch = await runPool({
        url,
        concurrency: 1,
        seconds: ctx.settings.seconds,
        maxRequests: UPDATE_MAX,
        request: (i) => ({ method: 'POST', path: '/api/3/action/package_patch', headers, body: { id: patchIds[i % patchIds.length], title: `Bench-Titel ${run} ${i}` } }),
      })
      assertPoolClean('package_patch', patch)

      // package_update: full dicts read once, the title changed on each write.
      const updateDicts: Dict[] = []
      for (const id of ctx.datasetIds.slice(half, half + TEMPLATES)) updateDicts.push(await showDict(url, id))
      if (!updateDicts.length) updateDicts.push(templates[0]!)
      const update = await runPool({
        url,
        concurrency: 1,
        seconds: ctx.settings.seconds,
        maxRequests: UPDATE_MAX,
        request: (i) => {
          const dict = updateDicts[i % updateDicts.length]!
          return { method: 'POST', path: '/api/3/action/package_update', headers, body: { ...dict, title: `${String(dict.title)} ${run} ${i}` } }
        },
      })
      assertPoolClean('package_update', update)

      const createTarget = `≥ ${CREATE_TARGET_PER_S} datasets/s with ${CONCURRENT_CLIENTS} clients (MySQL)`
      const rows: Row[] = [
        {
          metric: `package_create with validation, 1 client (${formatNumber(sequential.requests)} datasets, bodies from ${templates.length} seeded datasets, median ${formatNumber(typicalBytes)} bytes)`,
          value: `${formatNumber(sequential.requestsPerSecond, 1)} datasets/s; ${latencies(sequential)}`,
          target: '—',
        },
        {
          metric: `package_create with validation, ${CONCURRENT_CLIENTS} concurrent clients (${formatNumber(concurrent.requests)} datasets)`,
          value: judgedForMysql(
            `${formatNumber(concurrent.requestsPerSecond, 1)} datasets/s; ${latencies(concurrent)}`,
            concurrent.requestsPerSecond >= CREATE_TARGET_PER_S,
            ctx.database,
          ),
          target: createTarget,
        },
        {
          metric: `package_patch {id, title} of random seeded datasets, 1 client (${formatNumber(patch.requests)} writes over ${formatNumber(patchIds.length)} datasets)`,
          value: `${latencies(patch)} (${formatNumber(patch.requestsPerSecond, 1)} writes/s)`,
          target: '—',
        },
        {
          metric: `package_update with the full package_show dict (read once), title changed, 1 client (${formatNumber(update.requests)} writes over ${formatNumber(updateDicts.length)} datasets)`,
          value: `${latencies(update)} (${formatNumber(update.requestsPerSecond, 1)} writes/s)`,
          target: '—',
        },
      ]
      return rows.map((row) => ({ ...row, how: `${app.how}; fetch clients` }))
    } finally {
      await app.stop()
    }
  },
}
