import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import rateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv
import type { AppConfig } from './config.js'
import { openStore, type Store } from './db/connect.js'
import { migrateToLatest } from './db/migrate.js'
import { CatalogService } from './catalog/service.js'
import { vocabularies } from './catalog/vocabularies.js'
import { registerActionRoutes } from './ckan/routes.js'
import { allActions } from './ckan/registry.js'
import { sendBadRequest, sendError, sendInternalError, helpUrl } from './ckan/envelope.js'
import { CatalogError } from './errors.js'
import { SearchService } from './search/search.js'
import { UserService } from './auth/users.js'
import { registerDcatRoutes } from './dcat/endpoints.js'
import { DatasetValidation } from './validation/dataset-validation.js'
import { registerValidationRoutes } from './validation/routes.js'

export interface BuildOptions {
  logger?: FastifyServerOptions['logger']
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
  if (options.prepared) await service.reference.reload()
  else await service.init()

  const fastify = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
  })
  // Query strings carry only text: their values are coerced to the schema's types. JSON bodies are not:
  // a number where a string belongs is a client error, not something to guess at.
  const coercing = createAjv('array')
  const strict = createAjv(false)
  fastify.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema))
  // Responses are CKAN dicts with open-ended keys: serialize them as they are, schemas document them.
  fastify.setSerializerCompiler(() => (data) => JSON.stringify(data))

  registerBodyParsers(fastify)
  registerErrorHandler(fastify, config)

  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'GoDonu Catalog API',
        description:
          'CKAN-compatible Action API v3 and DCAT-AP.de endpoints of the shared open-data catalog of Hessian Kommunen.',
        version: API_VERSION,
      },
      servers: [{ url: config.baseUrl }],
    },
  })
  await fastify.register(swaggerUi, { routePrefix: '/docs' })
  // Limits apply per route (the write actions); see registerActionRoutes.
  await fastify.register(rateLimit, { global: false, ...(options.rateLimitStore ? { store: options.rateLimitStore } : {}) })

  const search = new SearchService(service)
  const users = new UserService(store.db)
  const validation = new DatasetValidation(service, config)
  registerActionRoutes(fastify, allActions(), { service, search, users, config, datasetRules: (input) => validation.writeFindings(input) })
  registerDcatRoutes(fastify, { service, search, users, config, pageSize: config.dcatPageSize })
  registerValidationRoutes(fastify, { service, users, validation })
  fastify.addHook('onClose', async () => {
    if (!options.store) await store.close()
  })
  return { fastify, service, search, users, store }
}

function createAjv(coerceTypes: 'array' | false): Ajv {
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, coerceTypes, useDefaults: false, strict: false })
  addFormats(ajv)
  return ajv
}

function registerBodyParsers(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('application/json')
  // CKAN treats an empty POST body as {} and wants a JSON object.
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim()
    if (!text) return done(null, {})
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (err) {
      return done(new BadJsonError((err as Error).message), undefined)
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return done(new BadJsonError(`Request data JSON decoded to ${JSON.stringify(parsed)?.slice(0, 100)} but it needs to be a dictionary.`), undefined)
    }
    done(null, parsed)
  })
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const params = new URLSearchParams(body as string)
    const data: Record<string, unknown> = {}
    for (const key of new Set(params.keys())) {
      const values = params.getAll(key)
      data[key] = values.length === 1 ? values[0] : values
    }
    // CKAN: a form whose single key holds '' or '1' is a JSON document sent as a form.
    const keys = Object.keys(data)
    if (keys.length === 1 && (data[keys[0]!] === '' || data[keys[0]!] === '1')) {
      try {
        const parsed = JSON.parse(keys[0]!)
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return done(null, parsed)
      } catch {
        /* an ordinary form */
      }
    }
    done(null, data)
  })
}

class BadJsonError extends Error {
  readonly statusCode = 400
  readonly code = 'GODONU_BAD_JSON'
}

function registerErrorHandler(fastify: FastifyInstance, config: AppConfig): void {
  fastify.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const action = request.url.match(/^\/api\/(?:3\/)?action\/([^/?]+)/)?.[1]
    const help = helpUrl(config.baseUrl, action ?? 'help_show')
    if (error instanceof BadJsonError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return sendBadRequest(reply, `JSON Error: ${error.message}`)
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
