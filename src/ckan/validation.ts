import type { FastifySchemaValidationError } from 'fastify/types/schema.js'
import { setOwn } from '../json.js'

/** Turns JSON-schema errors into CKAN's field map: `{limit: ["Invalid integer"]}`. */
export function ajvErrorsToFields(errors: FastifySchemaValidationError[]): Record<string, string[]> {
  const fields: Record<string, string[]> = {}
  for (const err of errors) {
    const params = err.params as Record<string, unknown>
    let field = err.instancePath.replace(/^\//, '').replace(/\//g, '.')
    if (err.keyword === 'required') field = field ? `${field}.${params.missingProperty}` : String(params.missingProperty)
    if (err.keyword === 'additionalProperties') field = String(params.additionalProperty)
    if (!field) field = '__body'
    const message = messageFor(err)
    // Field names come from the client (`__proto__`, `constructor`): only own properties count.
    const list = Object.hasOwn(fields, field) ? fields[field]! : []
    if (!Object.hasOwn(fields, field)) setOwn(fields, field, list)
    if (!list.includes(message)) list.push(message)
  }
  return fields
}

function messageFor(err: FastifySchemaValidationError): string {
  const params = err.params as Record<string, unknown>
  switch (err.keyword) {
    case 'required':
      return 'Missing value'
    case 'type':
      if (params.type === 'integer' || params.type === 'number') return 'Invalid integer'
      if (params.type === 'boolean') return 'Value must be one of: true, false'
      if (params.type === 'array') return 'Not a list'
      if (params.type === 'object') return 'Not a dict'
      return `Must be of type ${String(params.type)}`
    case 'minimum':
      return params.limit === 0 ? 'Must be a natural number' : `Must be at least ${String(params.limit)}`
    case 'maximum':
      return `Must be at most ${String(params.limit)}`
    case 'minLength':
      return params.limit === 1 ? 'Missing value' : `Must be at least ${String(params.limit)} characters long`
    case 'maxLength':
      return `Must be at most ${String(params.limit)} characters long`
    case 'pattern':
      return 'Invalid format'
    case 'enum':
      return `Value must be one of: ${(params.allowedValues as unknown[]).join(', ')}`
    case 'additionalProperties':
      return 'The input field is not expected'
    default:
      return err.message ?? 'Invalid value'
  }
}
