import { MAX_CLAUSES, MAX_QUERY_LENGTH, SearchQueryError, type Query } from './ast.js'
import { parseQuery } from './parser.js'

/**
 * One budget for the whole query of a request, not per string: q, fq and every fq_list item together
 * (the parser's limits hold for each string; without this, fq_list multiplied them). Beyond it the
 * request is a 400 Search Query Error, before anything reaches the database.
 */
export const REQUEST_MAX_CLAUSES = MAX_CLAUSES
export const REQUEST_MAX_QUERY_LENGTH = MAX_QUERY_LENGTH
export const MAX_FILTER_QUERIES = 50

export interface SearchQueries {
  q?: string
  fq?: string
  fq_list?: string[]
}

/** The parsed q and filters of a request, within the request's budget. */
export function parseSearchQueries(params: SearchQueries): { query: Query; filters: Query[] } {
  const list = params.fq_list ?? []
  if (list.length > MAX_FILTER_QUERIES) throw new SearchQueryError(`fq_list has more than ${MAX_FILTER_QUERIES} filter queries`)
  const filterTexts = [params.fq, ...list].filter((f): f is string => typeof f === 'string' && f.trim() !== '')
  // Lengths first: nothing is parsed of a request that is too long as a whole.
  const length = [params.q, ...filterTexts].reduce((n, s) => n + (typeof s === 'string' ? s.length : 0), 0)
  if (length > REQUEST_MAX_QUERY_LENGTH) throw new SearchQueryError(`q, fq and fq_list together are longer than ${REQUEST_MAX_QUERY_LENGTH} characters`)
  const query = parseMainQuery(params.q)
  const filters = filterTexts.map((f) => parseQuery(f, { defaultOperator: 'AND' }))
  const clauses = [query, ...filters].reduce((n, q) => n + leafCount(q), 0)
  if (clauses > REQUEST_MAX_CLAUSES) throw new SearchQueryError(`q, fq and fq_list together have more than ${REQUEST_MAX_CLAUSES} clauses`)
  return { query, filters }
}

function parseMainQuery(q: string | undefined): Query {
  const text = (q ?? '').trim()
  if (text === '' || text === '*:*') return { kind: 'all' }
  // CKAN: a q without a colon goes to dismax over the text fields; with one it is a fielded Lucene query.
  return parseQuery(text, { defaultOperator: 'AND', syntax: text.includes(':') ? 'lucene' : 'dismax' })
}

/** The leaves of a tree (`*:*` alone counts nothing): what each becomes in SQL is one condition. */
export function leafCount(q: Query): number {
  switch (q.kind) {
    case 'all':
      return 0
    case 'and':
    case 'or':
      return q.clauses.reduce((n, c) => n + leafCount(c), 0)
    case 'not':
      return leafCount(q.clause)
    default:
      return 1
  }
}
