import type { ServerOptions as HttpServerOptions } from 'node:http'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import rateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit'
import type { AppConfig } from './config.js'
import { openStore, type Store } from './db/connect.js'
import { migrateToLatest } from './db/migrate.js'
import { createAjv } from './http/ajv.js'
import { CatalogService } from './catalog/service.js'
import { vocabularies } from './catalog/vocabularies.js'
import { registerActionRoutes } from './ckan/routes.js'
import { openApiOptions, swaggerUiOptions } from './ckan/openapi-docs.js'
import { allActions } from './ckan/registry.js'
import { sendBadRequest, sendError, sendInternalError, helpUrl } from './ckan/envelope.js'
import { CatalogError } from './errors.js'
import { JsonLimitError, parseJsonBounded, serializeJson, setOwn } from './json.js'
import { SearchService } from './search/search.js'
import { UserService } from './auth/users.js'
import { registerDcatRoutes } from './dcat/endpoints.js'
import { DatasetValidation } from './validation/dataset-validation.js'
import { registerValidationRoutes } from './validation/routes.js'
import { loggerOptions } from './logging.js'
import { registerHttpConventions } from './http/conventions.js'
import { readinessChecks, registerHealthRoutes } from './http/health.js'
import { registerHomeRoute } from './http/home.js'
import { UsageCounter } from './usage/counter.js'
import { registerUsageRoutes } from './usage/routes.js'
import { startLinkScheduler } from './links/scheduler.js'
import { datasetRules as datasetRulesOf } from './catalog/dataset-rules.js'
import { registerQualityRoutes } from './quality/routes.js'
import { registerStatsRoutes } from './stats/routes.js'
import { rescorePending } from './quality/backfill.js'
import { startRescorer } from './quality/rescorer.js'
import { registerDashboardRoutes } from './dashboard/routes.js'

export interface BuildOptions {
  /** Fastify's logger option (tests: false, or pino options with a stream); default: LOG_LEVEL and LOG_FORMAT. */
  logger?: FastifyServerOptions['logger']
  /** A logger to use as it is (the single-process server shares its own); wins over `logger`. */
  loggerInstance?: FastifyBaseLogger
  /** An already opened store (tests share one); otherwise the configured database is opened and migrated. */
  store?: Store
  /**
   * The database is already migrated and its reference data synchronised (a cluster worker: the primary
   * did both once before forking).
   */
  prepared?: boolean
  /** Where write rate limits count (a cluster worker counts at the primary); default: in this process. */
  rateLimitStore?: RateLimitPluginOptions['store']
}

export interface App {
  fastify: FastifyInstance
  service: CatalogService
  search: SearchService
  users: UserService
  store: Store
}

export const API_VERSION = '0.1.0'

/** Builds the whole service from a configuration: used by the server, the tests and the benchmarks. */
export async function buildApp(config: AppConfig, options: BuildOptions = {}): Promise<App> {
  const store = options.store ?? (await openStore(config.database))
  if (!options.store && !options.prepared) await migrateToLatest(store.db)
  const service = new CatalogService(store, vocabularies(), config)
  // The feed's position before any data is read: what commits from now on reaches this process's caches.
  await service.markChangeFeed(config.changePollMs)
  if (options.prepared) await service.reference.reload()
  else await service.init()

  const fastify = Fastify({
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: options.logger ?? loggerOptions(config, { batched: true }) }),
    // One access line per request instead of Fastify's two (http/conventions.ts).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    ...serverTimeouts(config),
  })
  // Query strings carry only text: their values are coerced to the schema's types. JSON bodies are not:
  // a number where a string belongs is a client error, not something to guess at.
  const coercing = createAjv('array')
  const strict = createAjv(false)
  fastify.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema))
  // Responses are CKAN dicts with open-ended keys: serialize them as they are, schemas document them.
  fastify.setSerializerCompiler(() => (data) => JSON.stringify(data))

  registerBodyParsers(fastify, config)
  registerErrorHandler(fastify, config)
  // Before every route, /docs included: compression attaches itself to the routes registered after it.
  const writeActions = new Set(allActions().filter((action) => !action.sideEffectFree).map((action) => action.name))
  await registerHttpConventions(fastify, config, { writeActions })

  await fastify.register(swagger, openApiOptions(config, API_VERSION))
  await fastify.register(swaggerUi, swaggerUiOptions(config))
  // Limits apply per route (the write actions); see registerActionRoutes.
  await fastify.register(rateLimit, { global: false, ...(options.rateLimitStore ? { store: options.rateLimitStore } : {}) })

  const search = new SearchService(service)
  const users = new UserService(store)
  const validation = new DatasetValidation(service, config)
  // The write's validation also decides the MQA DCAT-AP compliance indicator (quality/compliance.ts): validated once.
  const datasetRules = datasetRulesOf(validation)
  registerActionRoutes(fastify, allActions(), { service, search, users, config, datasetRules })
  registerDcatRoutes(fastify, { service, search, users, config, pageSize: config.dcatPageSize })
  registerValidationRoutes(fastify, { service, users, validation })
  registerHealthRoutes(fastify, readinessChecks(store, search))
  registerHomeRoute(fastify, config, service)
  registerUsageRoutes(fastify, { service, users, store })
  // Usage counts in memory, written in batches off the request path (usage/counter.ts); USAGE_COUNTING=off: none.
  const usage = config.usageCounting ? new UsageCounter(store, fastify.log, config.usageRetentionDays) : undefined
  if (usage) {
    fastify.decorate('usage', usage)
    usage.start(config.usageFlushMs)
  }
  // The background link checker (LINKCHECK_SCHEDULER=on), never on a request path.
  // One process of the service checks (a lease by the database's clock); datasets whose links changed health are rescored after each round.
  const linkScheduler = config.linkCheck.scheduler ? startLinkScheduler(store, config.linkCheck, fastify.log, { afterRun: () => rescorePending(service) }) : undefined
  // Scores changed without a write of the dataset (a Kommune's edit, link results) are stored by one process in the background.
  const rescorer = config.qualityRescoreMs > 0 ? startRescorer(service, config.qualityRescoreMs, fastify.log) : undefined
  registerQualityRoutes(fastify, { service, users, config })
  registerStatsRoutes(fastify, { service, store, config })
  registerDashboardRoutes(fastify)
  // Every process keeps its caches and indexes current by tailing the change feed (catalog/change-feed.ts).
  await service.startChangeFeed(config.changePollMs, (err) => fastify.log.error({ err }, 'reading the change feed failed'))
  fastify.addHook('onClose', async () => {
    await linkScheduler?.stop()
    await rescorer?.stop()
    await usage?.stop().catch((err: unknown) => fastify.log.error({ err }, 'writing usage counts failed'))
    await service.stopChangeFeed()
    if (!options.store) await store.close()
  })
  return { fastify, service, search, users, store }
}

/**
 * How long a client may take (Node's http server and Fastify options): the headers and the body of a
 * request must arrive within requestTimeoutMs however slowly they trickle (Node answers 408 and closes),
 * and a connection on which nothing moves for idleTimeoutMs is closed. Node checks the request deadline
 * every connectionsCheckingInterval: a quarter of it, at most every 30 s (Node's default).
 */
function serverTimeouts(config: AppConfig): { requestTimeout: number; connectionTimeout: number; http: HttpServerOptions } {
  const checkEvery = Math.max(25, Math.min(30_000, Math.floor(config.requestTimeoutMs / 4)))
  return {
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.idleTimeoutMs,
    http: { requestTimeout: config.requestTimeoutMs, headersTimeout: config.requestTimeoutMs, connectionsCheckingInterval: checkEvery },
  }
}

/**
 * Request bodies, parsed in time linear in their size and within the configured limits, before any
 * validator, copy or handler walks them: forms by their number of fields, JSON by its depth and the keys
 * of each object (json.ts checkJsonLimits, one pass, no recursion).
 */
function registerBodyParsers(fastify: FastifyInstance, config: AppConfig): void {
  const jsonLimits = { maxDepth: config.jsonMaxDepth, maxKeys: config.jsonMaxKeys }
  const parseJson = (text: string): unknown => {
    try {
      return parseJsonBounded(text, jsonLimits)
    } catch (err) {
      if (err instanceof JsonLimitError && err.kind === 'keys') throw new TooManyFieldsError(err.message)
      throw new BadJsonError((err as Error).message)
    }
  }
  fastify.removeContentTypeParser('application/json')
  // CKAN treats an empty POST body as {} and wants a JSON object.
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim()
    if (!text) return done(null, {})
    let parsed: unknown
    try {
      parsed = parseJson(text)
    } catch (err) {
      return done(err as Error, undefined)
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return done(new BadJsonError(`Request data JSON decoded to ${JSON.stringify(parsed)?.slice(0, 100)} but it needs to be a dictionary.`), undefined)
    }
    done(null, parsed)
  })
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    let data: Record<string, unknown>
    try {
      data = parseForm(body as string, config.formMaxKeys)
    } catch (err) {
      return done(err as Error, undefined)
    }
    // CKAN: a form whose single key holds '' or '1' is a JSON document sent as a form.
    const keys = Object.keys(data)
    if (keys.length === 1 && (data[keys[0]!] === '' || data[keys[0]!] === '1') && /^\s*\{/.test(keys[0]!)) {
      let parsed: unknown
      try {
        parsed = parseJson(keys[0]!)
      } catch (err) {
        if (err instanceof TooManyFieldsError || (err instanceof BadJsonError && /nested too deeply/.test(err.message))) return done(err, undefined)
        parsed = undefined // an ordinary form
      }
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return done(null, parsed)
    }
    done(null, data)
  })
}

/**
 * A form body as CKAN reads it (a repeated key gives a list), in one pass: the fields are counted before
 * anything is decoded, so a body of more than maxFields fields costs no more than finding its separators.
 */
export function parseForm(body: string, maxFields: number): Record<string, unknown> {
  let fields = 0
  for (let from = 0; from <= body.length; ) {
    let to = body.indexOf('&', from)
    if (to < 0) to = body.length
    if (to > from && ++fields > maxFields) throw new TooManyFieldsError(`Too many form fields: more than ${maxFields}`)
    from = to + 1
  }
  const data: Record<string, unknown> = {}
  for (const [key, value] of new URLSearchParams(body)) {
    if (!Object.hasOwn(data, key)) setOwn(data, key, value)
    else {
      const existing = data[key]
      if (Array.isArray(existing)) existing.push(value)
      else setOwn(data, key, [existing, value])
    }
  }
  return data
}

class BadJsonError extends Error {
  readonly statusCode = 400
  readonly code = 'GODONU_BAD_JSON'
}

/** A body with more fields (form) or keys (one JSON object) than configured: 413, as Werkzeug's max_form_parts. */
class TooManyFieldsError extends Error {
  readonly statusCode = 413
  readonly code = 'GODONU_TOO_MANY_FIELDS'
}

function registerErrorHandler(fastify: FastifyInstance, config: AppConfig): void {
  fastify.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const action = request.url.match(/^\/api\/(?:3\/)?action\/([^/?]+)/)?.[1]
    const help = helpUrl(config.baseUrl, action ?? 'help_show')
    if (error instanceof BadJsonError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return sendBadRequest(reply, `JSON Error: ${error.message}`)
    }
    if (error instanceof TooManyFieldsError) {
      return reply.code(413).type('application/json; charset=utf-8').send(serializeJson({ help, success: false, error: { __type: 'Request Entity Too Large', message: error.message } }))
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ help, success: false, error: { __type: 'Request Entity Too Large', message: `Request body is larger than ${config.bodyLimitBytes} bytes` } })
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendBadRequest(reply, `JSON Error: unsupported content type ${request.headers['content-type'] ?? ''}`, 415)
    }
    if (error instanceof CatalogError) return sendError(reply, help, error)
    if (error.statusCode === 429) {
      return reply.code(429).type('application/json; charset=utf-8').send({ help, success: false, error: { __type: 'Rate Limit Error', message: error.message } })
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ help, success: false, error: { __type: 'Bad Request', message: error.message } })
    }
    request.log.error({ err: error }, 'request failed')
    return sendInternalError(reply, help)
  })
}
