/**
 * Syntax tree of the Solr/Lucene query subset accepted by package_search (`q`, `fq`, `fq_list`).
 *
 * The parser (parser.ts) already resolves Lucene's clause flags (`+x`, `-x`, `NOT x`, and the
 * optional/required interplay of a BooleanQuery) into plain boolean algebra, so a compiler only has to
 * handle `and` / `or` / `not` over leaves. Semantics:
 *   - `and` with no positive clause (only `not`s) means "everything except": `-organization:x` is
 *     `{kind:'not', clause: organization:x}` and matches every dataset not in x (Solr's pure-negative rule).
 *   - `not` always means set complement (relative to the datasets the caller searches at all).
 *   - `field: null` is the default full-text field (CKAN's `text`, or dismax over name/title/tags/groups/text).
 *   - Field names are as written (case kept); the parser checks only their syntax, not that they exist.
 *   - Values are unescaped (`\:` became `:`); wildcards are structural (see WildcardQuery), so a literal `*`
 *     written as `\*` or inside quotes stays a literal character.
 *   - Range bounds are raw strings: the compiler decides by field type whether they are dates
 *     (datemath.ts `parseSolrDate`), numbers or strings.
 *   - Boosts (`^2`), fuzziness (`~`, `~0.8`) and phrase slop (`"a b"~3`) are accepted and dropped.
 *
 * Invariants of a tree returned by `parseQuery`:
 *   - `and` / `or` have at least 2 clauses and are flattened (no `and` directly inside `and`, same for `or`).
 *   - `not` never directly contains `not` (double negation is removed).
 *   - `all` never appears inside `and` (removed) or `or` (the whole `or` becomes `all`); it can appear
 *     under `not` (`-*:*` matches nothing) or alone.
 *   - nesting depth is bounded (the parser limits input nesting to MAX_DEPTH), leaves to MAX_CLAUSES.
 */

import { CatalogError } from '../errors.js'

/** `*:*`, `*`, an empty query: matches every dataset. */
export interface MatchAllQuery {
  kind: 'all'
}

/** A plain value: `flood`, `name:foo`, `title:"quoted phrase"`, `tags:Straßenbäume`. */
export interface TermQuery {
  kind: 'term'
  /** null = default full-text field */
  field: string | null
  /** Unescaped text. Can be '' only for an empty phrase `""`. */
  value: string
  /** Written in double quotes: a phrase for text fields, an exact value for string fields. */
  phrase: boolean
}

/** One piece of a wildcard pattern. `literal` text never contains wildcard meaning. */
export type WildcardPart =
  | { kind: 'literal'; text: string }
  /** `*`: any run of characters, possibly empty */
  | { kind: 'any' }
  /** `?`: exactly one character */
  | { kind: 'one' }

/**
 * A value with unescaped `*` / `?`: `wasser*`, `title:*verkehr*`, `name:ab?c`.
 * `match` classifies the common shapes so a compiler can use `LIKE 'x%'` etc. directly:
 *   - 'prefix'   `wasser*`        value = 'wasser'
 *   - 'suffix'   `*verkehr`       value = 'verkehr'
 *   - 'contains' `*verkehr*`      value = 'verkehr'
 *   - 'pattern'  anything else (`?`, inner `*`, several literals); value = '' and only `parts` count.
 * Runs of `*` are collapsed. A value made only of `*` is never a WildcardQuery (it is `exists`/`all`).
 */
export interface WildcardQuery {
  kind: 'wildcard'
  field: string | null
  match: 'prefix' | 'suffix' | 'contains' | 'pattern'
  value: string
  parts: WildcardPart[]
}

/** `field:*` or `field:[* TO *]`: the field has a (non-empty) value. */
export interface ExistsQuery {
  kind: 'exists'
  field: string
}

/** One end of a range as written, unescaped. `*` (unquoted) is represented by `null` in RangeQuery instead. */
export interface RangeBound {
  raw: string
  /** written in double quotes (then `"*"` is a literal star, not an open end) */
  quoted: boolean
}

/** `field:[a TO b]`, `{a TO b}`, `[a TO b}`, `[* TO NOW]`, `[2024-05-02T09:13:00.123456Z TO *]`. */
export interface RangeQuery {
  kind: 'range'
  field: string
  /** null = open (`*`) */
  from: RangeBound | null
  to: RangeBound | null
  /** `[` (true) or `{` (false); always false when from is null */
  includeFrom: boolean
  /** `]` (true) or `}` (false); always false when to is null */
  includeTo: boolean
}

export interface AndQuery {
  kind: 'and'
  clauses: Query[]
}

export interface OrQuery {
  kind: 'or'
  clauses: Query[]
}

export interface NotQuery {
  kind: 'not'
  clause: Query
}

export type LeafQuery = MatchAllQuery | TermQuery | WildcardQuery | ExistsQuery | RangeQuery
export type Query = LeafQuery | AndQuery | OrQuery | NotQuery

/** Hard limits (inputs beyond them raise SearchQueryError). */
export const MAX_QUERY_LENGTH = 10_000
export const MAX_DEPTH = 32
export const MAX_CLAUSES = 200

/**
 * A query the user got wrong. Maps to CKAN's 400 "Search Query Error" (`code: 'search_query'`).
 * `message` always starts with "Search Query is invalid: "; `position` is the 0-based offset in the
 * parsed string where the problem was found, or null when it concerns the whole input.
 */
export class SearchQueryError extends CatalogError {
  readonly position: number | null
  /** the message without the "Search Query is invalid: " prefix and without the position suffix */
  readonly detail: string

  constructor(detail: string, position: number | null = null) {
    super('search_query', `Search Query is invalid: ${detail}${position === null ? '' : ` (at position ${position})`}`)
    this.name = 'SearchQueryError'
    this.detail = detail
    this.position = position
  }
}

/** Solr-like text of a tree, for logs and tests. Not guaranteed to round-trip through parseQuery for every literal. */
export function formatQuery(q: Query): string {
  switch (q.kind) {
    case 'all':
      return '*:*'
    case 'term': {
      const v = q.phrase ? `"${q.value.replace(/["\\]/g, '\\$&')}"` : escapeTerm(q.value)
      return q.field === null ? v : `${q.field}:${v}`
    }
    case 'wildcard': {
      const v = q.parts.map((p) => (p.kind === 'any' ? '*' : p.kind === 'one' ? '?' : escapeTerm(p.text))).join('')
      return q.field === null ? v : `${q.field}:${v}`
    }
    case 'exists':
      return `${q.field}:*`
    case 'range': {
      const b = (x: RangeBound | null) => (x === null ? '*' : x.quoted ? `"${x.raw.replace(/["\\]/g, '\\$&')}"` : x.raw)
      const open = q.includeFrom || q.from === null ? '[' : '{'
      const close = q.includeTo || q.to === null ? ']' : '}'
      return `${q.field}:${open}${b(q.from)} TO ${b(q.to)}${close}`
    }
    case 'and':
      return `(${q.clauses.map(formatQuery).join(' AND ')})`
    case 'or':
      return `(${q.clauses.map(formatQuery).join(' OR ')})`
    case 'not':
      return `-${formatQuery(q.clause)}`
  }
}

function escapeTerm(s: string): string {
  if (s === 'AND' || s === 'OR' || s === 'NOT') return `\\${s}`
  return s.replace(/[\s+\-!():^[\]"{}~*?\\/&|]/g, '\\$&')
}
