import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CatalogService } from '../catalog/service.js'
import type { UserService } from '../auth/users.js'
import type { Store } from '../db/connect.js'
import { tokenFromHeaders } from '../auth/tokens.js'
import { CatalogError } from '../errors.js'
import { errorBody } from '../ckan/envelope.js'
import { usageOf } from './counter.js'
import { REPORT_TOP, REPORTED_QUERY_MAX_LENGTH } from './report.js'
import { UsageReportCache } from './report-cache.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The usage reports this process computed, kept by usage version (report-cache.ts). */
    usageReports: UsageReportCache
  }
}

export interface UsageRouteDeps {
  service: CatalogService
  users: UserService
  store: Store
}

/**
 * The file URL a download is sent to: the resource's download_url, else its url, else its access_url, as
 * stored; only http(s) (a URL stored without scheme is taken as http, as the catalog accepts it).
 */
export function downloadTarget(resource: Record<string, unknown>): string | null {
  for (const key of ['download_url', 'url', 'access_url']) {
    const value = resource[key]
    if (typeof value !== 'string' || value.trim() === '') continue
    const raw = value.trim()
    try {
      const url = new URL(/^[a-z][a-z0-9+.-]*:/i.test(raw) ? raw : `http://${raw}`)
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname) return url.href
    } catch {
      // not a URL: try the next one
    }
  }
  return null
}

const KindCounts = {
  view_api: Type.Integer({ description: 'Views of datasets through the Action API (package_show)' }),
  view_rdf: Type.Integer({
    description: 'Views of datasets through the DCAT RDF endpoints (/dataset/{id}.ttl and the like)',
  }),
  download: Type.Integer({ description: 'Downloads through /dataset/{id}/resource/{rid}/download' }),
  harvester_visit: Type.Integer({ description: 'Visits of known harvesters (by user agent) to datasets' }),
}

const UsageReportSchema = Type.Object({
  from: Type.String({ description: 'First day (UTC, YYYY-MM-DD)' }),
  to: Type.String({ description: 'Last day (UTC, today)' }),
  days: Type.Integer(),
  organization: Type.Union([Type.String(), Type.Null()], {
    description: 'The Kommune asked for, or null for the whole catalog',
  }),
  totals: Type.Object(KindCounts),
  per_day: Type.Array(Type.Object({ day: Type.String(), ...KindCounts }), {
    description: 'Days with counts, oldest first',
  }),
  datasets: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      title: Type.String(),
      organization: Type.Union([Type.String(), Type.Null()]),
      total: Type.Integer(),
      ...KindCounts,
    }),
    { description: `The ${REPORT_TOP} most used public datasets` },
  ),
  kommunen: Type.Array(
    Type.Object({ name: Type.String(), title: Type.String(), total: Type.Integer(), ...KindCounts }),
    { description: 'Per Kommune, most used first' },
  ),
  catalog_harvester_visits: Type.Integer({
    description: 'Harvester visits to the catalog as a whole (search pages, catalog pages)',
  }),
  zero_result_searches: Type.Array(Type.Object({ query: Type.String(), count: Type.Integer() }), {
    description:
      `The ${REPORT_TOP} most frequent searches that found nothing (whole catalog; normalised query text). Privacy floor: a query ` +
      'appears only once it was made at least USAGE_QUERY_MIN_COUNT times (default 3) in the window, and only when it is at most ' +
      `${REPORTED_QUERY_MAX_LENGTH} characters long`,
  }),
})

/** The download redirect and the usage statistics (GET /api/stats/usage). */
export function registerUsageRoutes(fastify: FastifyInstance, deps: UsageRouteDeps): void {
  const { service, users, store } = deps
  const reports = new UsageReportCache(store, service)
  fastify.decorate('usageReports', reports)
  const plain = (reply: FastifyReply, status: number, message: string) =>
    reply.code(status).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(message)

  fastify.get(
    '/dataset/:id/resource/:rid/download',
    {
      schema: {
        tags: ['usage'],
        summary: "A resource's file: 302 to its URL, counted as a download",
        description:
          "Answers 302 with `Location` set to the resource's stored `download_url` (else its `url`, else its `access_url`), an http(s) URL only; " +
          'never to any other address. 404 when the dataset or resource does not exist or the caller may not see it. Each GET of a public ' +
          'dataset counts one download for the day; nothing about the caller is stored.',
        params: Type.Object({ id: Type.String({ maxLength: 200 }), rid: Type.String({ maxLength: 200 }) }),
        response: {
          302: Type.Null({ description: 'Redirect to the file' }),
          404: Type.String({ description: 'Not found' }),
        },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const { id, rid } = request.params as { id: string; rid: string }
      let dict: Record<string, unknown>
      try {
        const viewer = await users.viewerForToken(tokenFromHeaders(request.headers))
        dict = (await service.showPackage(id, viewer)).dict
      } catch (err) {
        if (!(err instanceof CatalogError)) throw err
        // A dataset the caller may not see is one that does not exist (its existence is not revealed).
        if (err.code === 'not_found' || (err.code === 'not_authorized' && !/API token/.test(err.message)))
          return plain(reply, 404, 'Not found')
        return plain(reply, errorBody(err).status, err.message)
      }
      const resources = Array.isArray(dict.resources) ? (dict.resources as Array<Record<string, unknown>>) : []
      const resource = resources.find((r) => r.id === rid)
      if (!resource) return plain(reply, 404, 'Resource not found')
      const target = downloadTarget(resource)
      if (!target) return plain(reply, 404, 'The resource has no http(s) URL to download')
      usageOf(request)?.download(request, String(dict.id))
      return reply
        .code(302)
        .header('location', target)
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .send()
    },
  )

  fastify.get(
    '/api/stats/usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'How the catalog is used: views, downloads, harvester visits, searches without results',
        description:
          'Counts per day (UTC) of the last `days` days, of the whole catalog or of one Kommune (`org`): dataset views through the API and the ' +
          'RDF endpoints, downloads through the download redirect, harvester visits, and the most frequent searches that found nothing. ' +
          'Public datasets only. Answered from a copy kept per window until new counts or catalog changes are stored. Counts are written by each server process every USAGE_FLUSH_MS (default a minute): the latest ones may not be in yet. ' +
          'No IP address, cookie, user agent or token is stored. Searches without results are listed only from USAGE_QUERY_MIN_COUNT ' +
          `searches on (default 3) and up to ${REPORTED_QUERY_MAX_LENGTH} characters; counts older than USAGE_RETENTION_DAYS (default 400) are deleted.`,
        querystring: Type.Object({
          org: Type.Optional(Type.String({ maxLength: 200, description: 'Name or id of a Kommune (organization)' })),
          days: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 366,
              default: 30,
              description: 'Days back, today included (default 30)',
            }),
          ),
        }),
        response: { 200: UsageReportSchema },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const query = request.query as { org?: string; days?: number }
      let orgId: string | undefined
      if (query.org) {
        const org = service.reference.organization(query.org)
        if (!org)
          return reply.code(404).type('application/json; charset=utf-8').send({ error: 'Organization not found' })
        orgId = org.id
      }
      const report = await reports.report({
        days: query.days ?? 30,
        queryMinCount: service.config.usageQueryMinCount,
        ...(orgId ? { orgId } : {}),
      })
      return reply.header('cache-control', 'no-cache').send(report)
    },
  )
}
