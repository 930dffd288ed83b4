import type { TObject, TSchema } from '@sinclair/typebox'
import type { ValidateFunction } from 'ajv'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CatalogService } from '../catalog/service.js'
import type { AppConfig } from '../config.js'
import type { SearchService } from '../search/search.js'
import type { UserService } from '../auth/users.js'
import type { Viewer } from '../auth/viewer.js'
import type { PackageInput } from '../catalog/package.js'
import { tokenFromHeaders } from '../auth/tokens.js'
import { CatalogError, searchQueryError, validationError } from '../errors.js'
import type { ActionContext, ActionDefinition } from './action.js'
import { helpUrl, isCatalogError, sendBadRequest, sendError, sendInternalError, sendSuccess } from './envelope.js'
import { actionDocs, documentedMethod } from './openapi-docs.js'
import { ajvErrorsToFields } from './validation.js'
import { createAjv } from '../http/ajv.js'

/**
 * The validator of action inputs, whatever part of the request they come in: no type coercion, because
 * normaliseScalars has already read numbers and booleans as CKAN does. (Ajv's coercion of query strings
 * would also take what CKAN's int_validator refuses: `0x10`, `1e3`, `2.0`.)
 */
const actionInputAjv = createAjv(false)
/** An action's input validator, compiled on first use and once per schema (each serves two prefixes, GET and POST): start-up compiles none. */
const compiledInputs = new WeakMap<object, ValidateFunction>()
const actionInputValidator = ({ schema }: { schema: object }) => {
  const validate = (data: unknown): boolean => {
    let compiled = compiledInputs.get(schema)
    if (!compiled) compiledInputs.set(schema, (compiled = actionInputAjv.compile(schema)))
    const valid = compiled(data) as boolean
    validate.errors = compiled.errors
    return valid
  }
  validate.errors = null as ValidateFunction['errors']
  return validate
}

export const ACTION_PREFIXES = ['/api/3/action', '/api/action'] as const

/** Query parameters that every action ignores: JSONP callback and jQuery's cache buster. */
const TRANSPORT_PARAMS = ['callback', '_']

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1', 't', 'y'])
const FALSE_WORDS = new Set(['false', 'no', 'off', '0', 'f', 'n', ''])
/** What Python's int() takes from CKAN's int_validator: optional sign, ASCII digits, surrounding blanks. */
const INTEGER_TEXT = /^\s*[+-]?\d+\s*$/
const NUMBER_TEXT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/

/** The JSON types a property's schema admits: its `type`, or those of the members of a union. */
function schemaTypes(prop: TSchema): string[] {
  if (typeof prop.type === 'string') return [prop.type]
  if (Array.isArray(prop.anyOf)) return (prop.anyOf as TSchema[]).flatMap(schemaTypes)
  return []
}

/** Marks a property to remove: CKAN's int_validator reads a blank as no value. */
const NO_VALUE = Symbol('no value')

/** A text value as CKAN's validators read it for a property of these types; undefined leaves it as it is. */
function scalarFromText(types: string[], text: string): unknown {
  if (types.includes('integer') || types.includes('number')) {
    if (!text.trim()) return NO_VALUE
    if (INTEGER_TEXT.test(text)) return Number(text)
    if (types.includes('number') && NUMBER_TEXT.test(text)) return Number(text)
  }
  if (types.includes('boolean')) {
    const word = text.trim().toLowerCase()
    if (TRUE_WORDS.has(word)) return true
    if (FALSE_WORDS.has(word)) return false
  }
  return undefined
}

/**
 * CKAN's validators (int_validator, natural_number_validator, boolean_validator) take numbers and booleans
 * given as text, whether they come in a query string, a form or a JSON body (ckanapi sends `{"rows": "2"}`):
 * the top-level properties of the action's schema that want a number or a boolean, and admit no string, are
 * read so before the schema judges them. Text that is not a number is left for the schema's `Invalid integer`.
 */
export function normaliseScalars(schema: TObject, data: unknown): void {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return
  const record = data as Record<string, unknown>
  for (const [key, prop] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const value = Object.hasOwn(record, key) ? record[key] : undefined
    if (typeof value !== 'string') continue
    const types = schemaTypes(prop)
    if (types.includes('string')) continue
    const read = scalarFromText(types, value)
    if (read === NO_VALUE) delete record[key]
    else if (read !== undefined) record[key] = read
  }
}

function inputError(action: ActionDefinition, request: FastifyRequest): CatalogError {
  const errors = request.validationError!.validation ?? []
  const fields = ajvErrorsToFields(errors as never)
  if (action.inputErrors === 'search') {
    const unknown = errors.filter((e: { keyword: string }) => e.keyword === 'additionalProperties').map((e: { params: unknown }) => `'${(e.params as Record<string, unknown>).additionalProperty}'`)
    if (unknown.length) return searchQueryError(`Search Query is invalid: "Invalid search parameters: [${unknown.join(', ')}]"`)
  }
  return validationError(fields)
}

/** Rate-limit counters of every write action, under both prefixes: one limit, not one per route. */
const WRITE_LIMIT_GROUP = 'write-actions'

/** The caller of a request, resolved once: the write rate limit keys on it before the handler runs. */
const viewers = new WeakMap<FastifyRequest, Promise<Viewer>>()
function viewerOf(users: UserService, request: FastifyRequest): Promise<Viewer> {
  let viewer = viewers.get(request)
  if (!viewer) {
    viewer = users.viewerForToken(tokenFromHeaders(request.headers))
    viewers.set(request, viewer)
  }
  return viewer
}

/**
 * Whose write budget a request spends: a valid token's user (all their tokens share it, so minting tokens
 * buys no writes), else the client address: anonymous callers and tokens that are not valid (made up,
 * revoked, expired), so that made-up tokens never get a fresh budget.
 */
async function writeLimitKey(users: UserService, request: FastifyRequest): Promise<string> {
  try {
    const viewer = await viewerOf(users, request)
    if (viewer.userId) return `user:${viewer.userId}`
  } catch {
    // Refused by the handler with the same error; counted against the address meanwhile.
  }
  return `ip:${request.ip}`
}

export interface ActionDeps {
  service: CatalogService
  search: SearchService
  users: UserService
  datasetRules?: (input: PackageInput) => Promise<unknown[]>
  config: AppConfig
}

export function registerActionRoutes(app: FastifyInstance, actions: ActionDefinition<any>[], deps: ActionDeps): void {
  // One limiter (one store, one counter per key) in front of every write route: @fastify/rate-limit's
  // per-route config would give each route, and each prefix, counters of its own.
  const writeLimit = app.rateLimit({
    max: deps.config.writeRateLimitPerMinute,
    timeWindow: 60_000,
    groupId: WRITE_LIMIT_GROUP,
    keyGenerator: (request: FastifyRequest) => writeLimitKey(deps.users, request),
    errorResponseBuilder: (_request: FastifyRequest, context: { after: string; statusCode: number }) =>
      Object.assign(new Error(`Too many requests: retry in ${context.after}`), { statusCode: context.statusCode }),
  })
  for (const action of actions) {
    const help = helpUrl(deps.config.baseUrl, action.name)
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.validationError) return sendError(reply, help, inputError(action, request))
      const input = (request.method === 'GET' ? request.query : request.body ?? {}) as Record<string, unknown>
      try {
        const viewer = await viewerOf(deps.users, request)
        const ctx: ActionContext = { ...deps, viewer, request, reply }
        await action.authorize?.(ctx, input)
        const result = await action.handler(ctx, input)
        return sendSuccess(reply, help, result)
      } catch (err) {
        if (isCatalogError(err)) return sendError(reply, help, err)
        request.log.error({ err, action: action.name }, 'action failed')
        return sendInternalError(reply, help)
      }
    }
    const preValidation = async (request: FastifyRequest) => {
      const data = request.method === 'GET' ? request.query : request.body
      if (data && typeof data === 'object') {
        for (const key of TRANSPORT_PARAMS) delete (data as Record<string, unknown>)[key]
      }
      normaliseScalars(action.input, data)
    }
    // One documented entry per action (openapi-docs.ts): reads under GET, writes under POST, on the
    // /api/3/action prefix; the other method and the /api/action alias answer the same but stay hidden.
    const docs = actionDocs(action, deps.config)
    const documentation = (prefix: string, method: 'GET' | 'POST') =>
      prefix === ACTION_PREFIXES[0] && method === documentedMethod(action) ? { schema: {}, config: { swaggerTransform: docs } } : { schema: { hide: true }, config: {} }
    for (const prefix of ACTION_PREFIXES) {
      const url = `${prefix}/${action.name}`
      if (action.sideEffectFree) {
        const { schema, config } = documentation(prefix, 'GET')
        app.get(url, { attachValidation: true, preValidation, validatorCompiler: actionInputValidator, config, schema: { ...schema, querystring: action.input } }, handler)
      } else {
        app.get(url, { schema: { hide: true } }, async (_request, reply) =>
          sendBadRequest(reply, 'JSON Error: Invalid request. Please use POST method for your request'),
        )
      }
      // Writes (and token creation) spend the caller's write budget (writeLimitKey).
      const { schema, config } = documentation(prefix, 'POST')
      app.post(url, { attachValidation: true, ...(action.sideEffectFree ? {} : { onRequest: writeLimit }), preValidation, validatorCompiler: actionInputValidator, config, schema: { ...schema, body: action.input } }, handler)
    }
  }
  for (const prefix of ACTION_PREFIXES) {
    app.route({
      method: ['GET', 'POST'],
      url: `${prefix}/:name`,
      schema: { hide: true },
      handler: async (request, reply) =>
        sendBadRequest(reply, `Action name not known: ${(request.params as { name: string }).name}`),
    })
  }
  app.get('/api', { schema: { hide: true } }, async () => ({ version: 1 }))
  app.get('/api/:ver', { schema: { hide: true } }, async (request, reply) => {
    const ver = Number((request.params as { ver: string }).ver)
    if (!Number.isInteger(ver) || ver < 1 || ver > 3) return reply.code(404).send({ success: false, error: { __type: 'Not Found Error', message: 'Not found' } })
    return { version: ver }
  })
}
