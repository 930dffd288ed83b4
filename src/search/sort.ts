/**
 * CKAN's package_search `sort` parameter: comma-separated `field direction` pairs, e.g.
 * `score desc, metadata_modified desc` (the default), `id asc` (what ckanext-harvest sends), `name asc`.
 * Missing, empty/blank or `rank` means the default. Fields are whitelisted (case-sensitive, as Solr field
 * names are); directions are `asc`/`desc` in any case. Anything else is a SearchQueryError.
 */

import { SearchQueryError } from './ast.js'

export { SearchQueryError } from './ast.js'

export const SORT_FIELDS = [
  'id',
  'name',
  'title_string',
  'title',
  'metadata_modified',
  'metadata_created',
  'score',
  'views_recent',
  'num_resources',
  'num_tags',
  // MQA scores (quality-fields.ts)
  'quality_score',
  'quality_score_proportional',
] as const

export type SortField = (typeof SORT_FIELDS)[number]
export type SortDirection = 'asc' | 'desc'

export interface SortKey {
  /** The field to sort by. Never 'views_recent' (see `substitutedFor`). */
  field: Exclude<SortField, 'views_recent'>
  direction: SortDirection
  /**
   * Set when the requested field is not tracked and another was used in its place:
   * `views_recent` (page-view tracking) sorts by `metadata_modified` in the requested direction.
   */
  substitutedFor?: 'views_recent'
}

/** ckan.search.default_package_sort */
export const DEFAULT_SORT = 'score desc, metadata_modified desc'

const MAX_SORT_LENGTH = 1000
const MAX_SORT_KEYS = 10

const FIELD_SET: ReadonlySet<string> = new Set(SORT_FIELDS)

export function parseSort(sort: string | undefined | null): SortKey[] {
  if (sort !== undefined && sort !== null && typeof sort !== 'string') {
    throw new SearchQueryError('sort must be a string')
  }
  const text = (sort ?? '').trim()
  if (text === '' || text === 'rank') return parseSort(DEFAULT_SORT)
  if (text.length > MAX_SORT_LENGTH) throw new SearchQueryError(`sort is longer than ${MAX_SORT_LENGTH} characters`)
  const pieces = text.split(',').map((p) => p.trim())
  const keys: SortKey[] = []
  for (const piece of pieces) {
    if (piece === '') continue // tolerate "name asc," and "a asc,,b desc"
    const words = piece.split(/\s+/)
    const shown = piece.length > 60 ? `${piece.slice(0, 60)}…` : piece
    if (words.length !== 2) {
      throw new SearchQueryError(
        words.length === 1
          ? `Can't determine a Sort Order (asc or desc) in sort spec '${shown}'`
          : `invalid sort spec '${shown}' (expected 'field asc' or 'field desc')`,
      )
    }
    const [field, dirWord] = words
    const direction = dirWord.toLowerCase()
    if (direction !== 'asc' && direction !== 'desc') {
      throw new SearchQueryError(`Can't determine a Sort Order (asc or desc) in sort spec '${shown}'`)
    }
    if (!FIELD_SET.has(field)) {
      const f = field.length > 60 ? `${field.slice(0, 60)}…` : field
      throw new SearchQueryError(`cannot sort on field '${f}' (allowed: ${SORT_FIELDS.join(', ')})`)
    }
    if (field === 'views_recent') {
      keys.push({ field: 'metadata_modified', direction, substitutedFor: 'views_recent' })
    } else {
      keys.push({ field: field as SortKey['field'], direction })
    }
    if (keys.length > MAX_SORT_KEYS) throw new SearchQueryError(`sort has more than ${MAX_SORT_KEYS} keys`)
  }
  if (keys.length === 0) return parseSort(DEFAULT_SORT)
  return keys
}
