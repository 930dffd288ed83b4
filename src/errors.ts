/** Errors are values with codes; the CKAN layer turns each code into CKAN's status and `__type`. */
export type ErrorCode =
  | 'not_found'
  | 'validation'
  | 'not_authorized'
  | 'search_query'
  | 'search'
  | 'conflict'
  | 'integrity'

export class CatalogError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Field-level messages for validation errors: `{name: ["That URL is already in use."]}`. */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'CatalogError'
  }
}

export const notFound = (what = '') => new CatalogError('not_found', what ? `Not found: ${what}` : 'Not found')
export const notAuthorized = (message: string) => new CatalogError('not_authorized', `Access denied: ${message}`)
export const validationError = (fields: Record<string, unknown>) => new CatalogError('validation', 'Validation Error', fields)
export const searchQueryError = (message: string) => new CatalogError('search_query', message)
