import type { FastifyReply } from 'fastify'
import { CatalogError, type ErrorCode } from '../errors.js'
import { jsonBody, serializeJson } from '../json.js'

/** CKAN's HTTP status and `__type` for each error code (ckan/views/api.py). */
const ERROR_KINDS: Record<ErrorCode, { status: number; type: string }> = {
  not_found: { status: 404, type: 'Not Found Error' },
  validation: { status: 409, type: 'Validation Error' },
  not_authorized: { status: 403, type: 'Authorization Error' },
  search_query: { status: 400, type: 'Search Query Error' },
  search: { status: 409, type: 'Search Error' },
  conflict: { status: 409, type: 'Conflict' },
  integrity: { status: 400, type: 'Integrity Error' },
}

export function helpUrl(baseUrl: string, action: string): string {
  return `${baseUrl}/api/3/action/help_show?name=${encodeURIComponent(action)}`
}

/**
 * CKAN's success envelope, `{"help":...,"success":true,"result":...}`, built from values (json.ts): any
 * array in `result` may be an AsyncIterable of values or RawJson loaded in batches. A short answer goes
 * out as one string; a long one (or one with AsyncIterables) is streamed as the client reads it, so no
 * answer is ever held whole in memory.
 *
 * Errors while streaming: an error before the first chunk is written (headers are not sent yet) reaches
 * the error handler and becomes an error envelope. An error after it destroys the connection (Fastify's
 * stream handling) without the final chunk of the chunked encoding, so the client sees a truncated
 * transfer and incomplete JSON, never a 200 whose JSON looks complete.
 */
export function sendSuccess(reply: FastifyReply, help: string, result: unknown): FastifyReply {
  return reply.code(200).type('application/json; charset=utf-8').send(jsonBody({ help, success: true, result }))
}

export function errorBody(error: CatalogError): { status: number; error: Record<string, unknown> } {
  const kind = ERROR_KINDS[error.code]
  const body: Record<string, unknown> =
    error.code === 'validation' ? { ...error.fields, __type: kind.type } : { __type: kind.type, message: error.message, ...error.fields }
  return { status: kind.status, error: body }
}

export function sendError(reply: FastifyReply, help: string, error: CatalogError): FastifyReply {
  const { status, error: body } = errorBody(error)
  return reply.code(status).type('application/json; charset=utf-8').send(serializeJson({ help, success: false, error: body }))
}

export function sendInternalError(reply: FastifyReply, help: string): FastifyReply {
  return reply
    .code(500)
    .type('application/json; charset=utf-8')
    .send({ help, success: false, error: { __type: 'Internal Server Error', message: 'Internal Server Error' } })
}

/** CKAN answers some request errors with a bare JSON string and no envelope. */
export function sendBadRequest(reply: FastifyReply, message: string, status = 400): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(`Bad request - ${message}`))
}

export function isCatalogError(error: unknown): error is CatalogError {
  return error instanceof CatalogError
}
