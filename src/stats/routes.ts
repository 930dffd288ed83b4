import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CatalogService } from '../catalog/service.js'
import type { AppConfig } from '../config.js'
import type { Store } from '../db/connect.js'
import type { OrganizationTable } from '../db/types.js'
import { helpUrl } from '../ckan/envelope.js'
import {
  DEFAULT_REFRESH_MS,
  StatsAggregates,
  stillPublic,
  type AggregatesOptions,
  type Snapshot,
} from './aggregates.js'
import { csvRow, type Cell } from './csv.js'
import { kommuneDatasets } from './drilldown.js'
import { daysBetween, history, isDay } from './history.js'
import {
  History,
  HistoryQuery,
  HISTORY_MAX_DAYS,
  INDICATOR_IDS,
  KommuneDatasets,
  KommuneDatasetsQuery,
  KommuneDetail,
  KommunenList,
  ListQuery,
  SORT_KEYS,
  StatsError,
  type KommuneDetailT,
  type KommuneStatsT,
  type KommunenListT,
  type SortKey,
} from './schemas.js'

export interface StatsRouteDeps {
  service: CatalogService
  store: Store
  config: AppConfig
  /** Overrides of the aggregates' options (tests). */
  aggregates?: Partial<AggregatesOptions>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The Kommune statistics' aggregates (src/stats): the server starts their refresher. */
    stats: StatsAggregates
  }
}

/**
 * Starts the background refresher of the Kommune statistics in a server process: every STATS_REFRESH_MS
 * (default 5000; 0 or `off`: none). Every process of a service may run one: a lease lets one refresh at a time.
 */
export function startStatsRefresher(fastify: FastifyInstance, env: NodeJS.ProcessEnv = process.env): void {
  const text = env.STATS_REFRESH_MS?.trim()
  if (text === 'off' || text === '0') return
  const ms = text ? Number(text) : DEFAULT_REFRESH_MS
  if (!Number.isInteger(ms) || ms < 100 || ms > 86_400_000)
    throw new Error(`STATS_REFRESH_MS: an integer from 100 to 86400000 (milliseconds), 0 or off; got ${text}`)
  fastify.stats.start(ms)
}

const BAND_KEYS = ['excellent', 'good', 'sufficient', 'bad'] as const

function activeOrganizations(service: CatalogService): OrganizationTable[] {
  return [...service.reference.organizations.values()]
    .filter((o) => o.state === 'active')
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** The Kommunen of a snapshot, by name (stable), or by a field (nulls last, ties by name). */
export function sortKommunen(list: KommuneStatsT[], sort: string | undefined): KommuneStatsT[] {
  const [field, direction] = (sort ?? 'name').split(' ') as [SortKey, string | undefined]
  const key: SortKey = (SORT_KEYS as readonly string[]).includes(field) ? field : 'name'
  const desc = direction === 'desc'
  const byName = (a: KommuneStatsT, b: KommuneStatsT) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  return [...list].sort((a, b) => {
    const x = a[key]
    const y = b[key]
    if (x === y) return byName(a, b)
    if (x === null) return 1
    if (y === null) return -1
    const order = x < y ? -1 : 1
    return desc ? -order : order
  })
}

function listOf(snapshot: Snapshot, orgs: OrganizationTable[]): KommuneStatsT[] {
  const list: KommuneStatsT[] = []
  for (const org of orgs) {
    const agg = snapshot.kommunen.get(org.id)
    if (agg) list.push(agg.stats)
  }
  return list
}

/** The CSV of the list: one row per Kommune, bands, themes, usage and indicators flattened into columns. */
export function kommunenCsv(list: readonly KommuneStatsT[], themeCodes: readonly string[]): string {
  const scalar = SORT_KEYS
  const header: string[] = [
    ...scalar,
    ...BAND_KEYS.map((b) => `band_${b}`),
    ...BAND_KEYS.map((b) => `band_proportional_${b}`),
    ...themeCodes.map((t) => `theme_${t}`),
    'usage_views',
    'usage_downloads',
    'usage_harvester_visits',
    'usage_period_days',
    ...INDICATOR_IDS.map((i) => `indicator_${i}`),
    ...INDICATOR_IDS.map((i) => `indicator_unknown_${i}`),
  ]
  let out = csvRow(header)
  for (const k of list) {
    const cells: Cell[] = [
      ...scalar.map((f) => k[f]),
      ...BAND_KEYS.map((b) => k.bands[b]),
      ...BAND_KEYS.map((b) => k.bands_proportional[b]),
      ...themeCodes.map((t) => k.themes[t] ?? 0),
      k.usage.views,
      k.usage.downloads,
      k.usage.harvester_visits,
      k.usage.period_days,
      ...INDICATOR_IDS.map((i) => k.indicators[i] ?? null),
      ...INDICATOR_IDS.map((i) => k.indicators_unknown[i] ?? null),
    ]
    out += csvRow(cells)
  }
  return out
}

/** GET /api/stats/kommunen, /api/stats/kommunen/{name} and /api/stats/history: the comparison of Kommunen. */
export function registerStatsRoutes(fastify: FastifyInstance, deps: StatsRouteDeps): StatsAggregates {
  const { service, store, config } = deps
  const aggregates = new StatsAggregates(store, {
    organizations: () => service.reference.organizations.values(),
    sideRefreshMs: 60_000,
    onError: (err) => fastify.log.error({ err }, 'refreshing the Kommune statistics failed'),
    ...deps.aggregates,
  })
  const notFound = (reply: FastifyReply, message: string) =>
    reply
      .code(404)
      .type('application/json; charset=utf-8')
      .send({
        help: helpUrl(config.baseUrl, 'organization_show'),
        success: false,
        error: { __type: 'Not Found Error', message },
      })
  const badRequest = (reply: FastifyReply, message: string) =>
    reply
      .code(400)
      .type('application/json; charset=utf-8')
      .send({ help: helpUrl(config.baseUrl, 'help_show'), success: false, error: { __type: 'Bad Request', message } })

  /** No aggregates stored yet (a fresh database): 503 until the refresher has computed them. */
  const computing = (reply: FastifyReply) =>
    reply
      .code(503)
      .header('retry-after', String(Math.max(1, Math.ceil(aggregates.refreshMs / 1000))))
      .type('application/json; charset=utf-8')
      .send({
        help: helpUrl(config.baseUrl, 'help_show'),
        success: false,
        error: { __type: 'Service Unavailable', message: 'statistics are being computed' },
      })

  const common =
    'Public datasets only (active, not private, of type dataset): private datasets, drafts and deleted ones count nowhere. ' +
    'Served from aggregates maintained in the database by a background refresher (every STATS_REFRESH_MS, default 5 s): an answer ' +
    'is as of its `generated`; a catalog write shows within one refresher interval plus its recomputation, link-check and usage figures ' +
    'may lag by up to a minute while the checker or the counters write. All servers on one database answer alike. ' +
    '503 with Retry-After while no aggregates were computed yet (a fresh database).'

  fastify.get(
    '/api/stats/kommunen',
    {
      schema: {
        tags: ['stats'],
        summary: 'The Kommunen compared: datasets, licences, formats, age, links, MQA scores, themes, usage',
        description:
          `One object per Kommune (sorted by name unless \`sort\` says otherwise). ${common} ` +
          'With `format=csv`: text/csv (RFC 4180, header row; bands, themes, usage and indicators flattened into columns ' +
          "band_*, band_proportional_*, theme_<CODE>, usage_*, indicator_<id>, indicator_unknown_<id>; cells starting with = + - @ tab or CR prefixed with ').",
        querystring: ListQuery,
        response: {
          200: {
            description: 'The Kommunen compared (JSON), or with `format=csv` the same as CSV',
            content: {
              'application/json': { schema: KommunenList },
              'text/csv': { schema: Type.String({ description: 'RFC 4180, one row per Kommune after a header row' }) },
            },
          },
          400: StatsError,
          503: StatsError,
        },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const query = request.query as { format?: 'json' | 'csv'; sort?: string }
      const snapshot = await aggregates.current()
      if (!snapshot) return computing(reply)
      const list = sortKommunen(listOf(snapshot, activeOrganizations(service)), query.sort)
      reply.header('cache-control', 'no-cache')
      if (query.format === 'csv') {
        const codes = [...service.reference.themes.values()].map((t) => t.code).filter(Boolean)
        codes.sort()
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="kommunen.csv"')
          .send(kommunenCsv(list, codes))
      }
      const body: KommunenListT = { generated: snapshot.generated, as_of: snapshot.as_of, kommunen: list }
      return reply.type('application/json; charset=utf-8').send(body)
    },
  )

  fastify.get(
    '/api/stats/kommunen/:name',
    {
      schema: {
        tags: ['stats'],
        summary: "One Kommune's figures, its lowest-scoring datasets and the fixes worth the most points",
        description:
          `The object of the list plus \`lowest_scoring\` and \`top_fixes\`. ${common} \`lowest_scoring\` lists only datasets ` +
          'public at the time of the request (a dataset made private or deleted since the last refresh is left out at once; the ' +
          'counts catch up with the next refresh). 404 for an unknown Kommune.',
        params: Type.Object({ name: Type.String({ maxLength: 200, description: 'Name or id of the Kommune' }) }),
        response: { 200: KommuneDetail, 404: StatsError, 503: StatsError },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const { name } = request.params as { name: string }
      const org = service.reference.organization(name)
      if (!org || org.state !== 'active') return notFound(reply, 'Not found: Kommune')
      const snapshot = await aggregates.current()
      if (!snapshot) return computing(reply)
      const agg = snapshot.kommunen.get(org.id)
      if (!agg) return notFound(reply, 'Not found: Kommune')
      // Privacy does not wait for the refresher: only datasets public now are listed.
      const visible = await stillPublic(
        store.db,
        agg.lowest_scoring.map((d) => d.name),
      )
      const body: KommuneDetailT = {
        ...agg.stats,
        generated: snapshot.generated,
        as_of: snapshot.as_of,
        lowest_scoring: agg.lowest_scoring.filter((d) => visible.has(d.name)),
        top_fixes: agg.top_fixes,
      }
      return reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8').send(body)
    },
  )

  fastify.get(
    '/api/stats/kommunen/:name/datasets',
    {
      schema: {
        tags: ['stats'],
        summary: "A Kommune's datasets by score, lowest first, each with its fixes (the drill-down)",
        description:
          "One page of the Kommune's public datasets (active, not private, of type dataset, as of the request), ordered by their " +
          'stored MQA score in `mode`, lowest first (ties by dataset id), each with the fixes its own explanation gives and the ' +
          'points each earns (GET /dataset/{id}/quality has the whole explanation). `count` is the number of such datasets; page ' +
          'with `offset` and `limit`. Read from the stored scores through an index: a page costs `limit` rows, never a scoring. ' +
          '404 for an unknown Kommune.',
        params: Type.Object({ name: Type.String({ maxLength: 200, description: 'Name or id of the Kommune' }) }),
        querystring: KommuneDatasetsQuery,
        response: { 200: KommuneDatasets, 400: StatsError, 404: StatsError },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const { name } = request.params as { name: string }
      const query = request.query as { mode?: 'portal' | 'proportional'; offset?: number; limit?: number }
      const org = service.reference.organization(name)
      if (!org || org.state !== 'active') return notFound(reply, 'Not found: Kommune')
      const body = await kommuneDatasets(store.db, org.id, query.mode ?? 'portal', query.offset ?? 0, query.limit ?? 20)
      return reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8').send(body)
    },
  )

  fastify.get(
    '/api/stats/history',
    {
      schema: {
        tags: ['stats'],
        summary: 'Daily figures per Kommune, for trend lines',
        description:
          `Every day from \`from\` to \`to\` (at most ${HISTORY_MAX_DAYS} days; default the last 30 days to today, database clock), of one ` +
          'Kommune (`kommune`) or of all. Datasets, score means and band counts are kept by every write (end-of-day state); the other figures ' +
          '(distributions, shares, links, themes, usage, the indicator shares of the heat map) come from the daily snapshots of the aggregates ' +
          '(the last refresh of the day; null before the first snapshot that had them). A day without a change carries the day before. ' +
          `${common} 404 for an unknown Kommune, 400 for a bad range.`,
        querystring: HistoryQuery,
        response: { 200: History, 400: StatsError, 404: StatsError, 503: StatsError },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const query = request.query as { kommune?: string; from?: string; to?: string }
      let orgs = activeOrganizations(service)
      if (query.kommune !== undefined) {
        const org = service.reference.organization(query.kommune)
        if (!org || org.state !== 'active') return notFound(reply, 'Not found: Kommune')
        orgs = [org]
      }
      for (const key of ['from', 'to'] as const) {
        const value = query[key]
        if (value !== undefined && !isDay(value)) return badRequest(reply, `${key}: not a day (YYYY-MM-DD)`)
      }
      // The day of the stored aggregates (the database's day as of the last refresh).
      const snapshot = await aggregates.current()
      if (!snapshot) return computing(reply)
      const to = query.to ?? snapshot.as_of
      const from = query.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10)
      const span = daysBetween(from, to)
      if (span < 1) return badRequest(reply, '`from` is after `to`')
      if (span > HISTORY_MAX_DAYS) return badRequest(reply, `At most ${HISTORY_MAX_DAYS} days`)
      const body = await history(store.db, orgs, from, to)
      return reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8').send(body)
    },
  )

  // The refresher is started by the server (startStatsRefresher), never by a request; stopped on close.
  fastify.decorate('stats', aggregates)
  fastify.addHook('onClose', async () => {
    await aggregates.stop()
  })
  return aggregates
}
