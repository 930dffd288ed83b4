/** The one place Ajv instances are configured: Fastify's route schemas and the CKAN actions' inputs share it. */
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

/**
 * An Ajv that reports every error and changes nothing in the data, except that with `coerceTypes: 'array'`
 * text is read as the schema's type (for query strings, which carry only text).
 */
export function createAjv(coerceTypes: 'array' | false): Ajv {
  return addFormats(
    new Ajv({ allErrors: true, removeAdditional: false, coerceTypes, useDefaults: false, strict: false }),
  )
}
