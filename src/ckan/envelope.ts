import type { FastifyReply } from 'fastify'
import { CatalogError, type ErrorCode } from '../errors.js'
import { serializeJson } from '../json.js'

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

export function sendSuccess(reply: FastifyReply, help: string, result: unknown): FastifyReply {
  return reply.code(200).type('application/json; charset=utf-8').send(serializeJson({ help, success: true, result }))
}

export function errorBody(error: CatalogError): { status: number; error: Record<string, unknown> } {
  const kind = ERROR_KINDS[error.code]
  const body: Record<string, unknown> =
    error.code === 'validation' ? { ...error.fields, __type: kind.type } : { __type: kind.type, message: error.message, ...error.fields }
  return { status: kind.status, error: body }
}

export function sendError(reply: FastifyReply, help: string, error: CatalogError): FastifyReply {
  const { status, error: body } = errorBody(error)
  return reply.code(status).type('application/json; charset=utf-8').send({ help, success: false, error: body })
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
