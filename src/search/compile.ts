import { sql, type RawBuilder, type SqlBool } from 'kysely'
import type { ReferenceCache } from '../catalog/reference.js'
import type { Vocabularies } from '../catalog/vocabularies.js'
import { tagId } from '../catalog/package.js'
import type { Query, RangeBound, TermQuery, WildcardQuery } from './ast.js'
import { SearchQueryError } from './ast.js'
import { parseSolrDate } from './datemath.js'
import type { FullTextAdapter, TextMatch } from './fulltext.js'
import { tokens } from './text.js'
import { escapeLike } from '../db/dialect.js'
import { balancedJoin } from './sql-tree.js'
import { isQualityField, qualityExistsSql, qualityRangeSql, qualityTermSql } from './quality-fields.js'

/**
 * Turns a query tree into one SQL condition over `package p`. Identifiers come only from the tables
 * below; every user value is a bound parameter.
 */
export interface CompileContext {
  fullText: FullTextAdapter
  reference: ReferenceCache
  vocab: Vocabularies
  now: Date
}

/**
 * A table looked up by field names from the query: without a prototype, so that `toString`,
 * `constructor` or `__proto__` name no entry (with one, `valueOf:[1 TO 2]` reached a function).
 */
export function fieldTable<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries))
}

const TRUE = sql<SqlBool>`1 = 1`
const FALSE = sql<SqlBool>`1 = 0`

/** Solr string fields that live in a column of `package`. */
const PACKAGE_COLUMNS = fieldTable<string>({
  id: 'id',
  name: 'name',
  author: 'author',
  author_email: 'author_email',
  maintainer: 'maintainer',
  maintainer_email: 'maintainer_email',
  version: 'version',
  url: 'url',
  owner_org: 'owner_org',
  state: 'state',
  type: 'type',
  dataset_type: 'type',
  creator_user_id: 'creator_user_id',
})

const DATE_FIELDS = new Set(['metadata_modified', 'metadata_created'])
const NUMBER_FIELDS = new Set(['num_resources', 'num_tags'])
export const TEXT_FIELDS = fieldTable<TextMatch['column']>({ text: 'all', title: 'title', notes: 'body', tags_text: 'tags' })
const RESOURCE_COLUMNS = fieldTable<string>({ res_format: 'format', res_name: 'name', res_description: 'description', res_url: 'url' })
/** Fields Solr has but that carry no meaning here: they match everything. */
const IGNORED_FIELDS = new Set(['site_id', 'entity_type'])

export function compileQuery(query: Query, ctx: CompileContext): RawBuilder<SqlBool> {
  switch (query.kind) {
    case 'all':
      return TRUE
    case 'and':
      return joinClauses(query.clauses.map((c) => compileQuery(c, ctx)), 'and')
    case 'or':
      return joinClauses(query.clauses.map((c) => compileQuery(c, ctx)), 'or')
    case 'not':
      return sql<SqlBool>`not (${compileQuery(query.clause, ctx)})`
    case 'term':
      return compileTerm(query, ctx)
    case 'wildcard':
      return compileWildcard(query, ctx)
    case 'exists':
      return compileExists(query.field)
    case 'range':
      return compileRange(query.field, query.from, query.to, query.includeFrom, query.includeTo, ctx)
  }
}

function joinClauses(parts: RawBuilder<SqlBool>[], op: 'and' | 'or'): RawBuilder<SqlBool> {
  return balancedJoin(parts, op)
}

function textLeaf(column: TextMatch['column'], value: string, prefix: boolean, ctx: CompileContext): RawBuilder<SqlBool> {
  const words = tokens(value)
  // Solr's analyzer drops pure punctuation: such a clause constrains nothing.
  if (words.length === 0) return TRUE
  return ctx.fullText.matches({ column, words, prefix })
}

function resolveOrganization(value: string, ctx: CompileContext): string | null {
  return ctx.reference.organization(value)?.id ?? null
}

function compileTerm(q: TermQuery, ctx: CompileContext): RawBuilder<SqlBool> {
  const field = q.field
  if (field === null) return textLeaf('all', q.value, false, ctx)
  if (IGNORED_FIELDS.has(field)) return TRUE
  if (field in TEXT_FIELDS) return textLeaf(TEXT_FIELDS[field]!, q.value, false, ctx)
  if (field === 'organization') {
    const id = resolveOrganization(q.value, ctx)
    return id ? sql<SqlBool>`p.owner_org = ${id}` : FALSE
  }
  if (field === 'groups') {
    const theme = ctx.reference.theme(q.value)
    return theme ? sql<SqlBool>`exists (select 1 from package_theme g where g.package_id = p.id and g.theme_id = ${theme.id})` : FALSE
  }
  if (field === 'tags') return sql<SqlBool>`exists (select 1 from package_tag t where t.package_id = p.id and t.tag_id = ${tagId(q.value)})`
  if (field === 'license_id' || field === 'license') return sql<SqlBool>`p.license_id = ${ctx.vocab.licenseToId(q.value)}`
  if (field === 'capacity') return q.value === 'private' ? sql<SqlBool>`p.private = 1` : q.value === 'public' ? sql<SqlBool>`p.private = 0` : FALSE
  if (field in RESOURCE_COLUMNS) {
    const column = RESOURCE_COLUMNS[field]!
    const value = field === 'res_format' ? ctx.vocab.formatToUri(q.value) : q.value
    return sql<SqlBool>`exists (select 1 from resource r where r.package_id = p.id and r.state = 'active' and ${sql.ref(`r.${column}`)} = ${value})`
  }
  if (field in PACKAGE_COLUMNS) return sql<SqlBool>`${sql.ref(`p.${PACKAGE_COLUMNS[field]}`)} = ${q.value}`
  if (isQualityField(field)) return qualityTermSql(field, q.value)
  if (DATE_FIELDS.has(field)) {
    const bound = { raw: q.value, quoted: q.phrase }
    return compileRange(field, bound, bound, true, true, ctx)
  }
  if (NUMBER_FIELDS.has(field)) return sql<SqlBool>`${sql.ref(`p.${field}`)} = ${toNumber(q.value)}`
  return extraCondition(field, sql`e.value = ${q.value}`)
}

/** Any other field is a dataset extra, under `extras_<key>` or (as CKAN indexes it too) its bare key. */
function extraCondition(field: string, valueCondition: RawBuilder<unknown>): RawBuilder<SqlBool> {
  const key = field.startsWith('extras_') ? field.slice('extras_'.length) : field
  return sql<SqlBool>`exists (select 1 from package_extra e where e.package_id = p.id and e.${sql.ref('key')} = ${key} and ${valueCondition})`
}

function likePattern(q: WildcardQuery): string {
  return q.parts
    .map((part) => (part.kind === 'any' ? '%' : part.kind === 'one' ? '_' : escapeLike(part.text)))
    .join('')
}

/** The literal text of a wildcard value, its pieces joined by spaces: what a text field matches of it. */
export function wildcardLiterals(q: WildcardQuery): string {
  return q.parts.flatMap((p) => (p.kind === 'literal' ? [p.text] : [])).join(' ')
}

/** Whether a text field matches a wildcard value as a prefix (`wasser*`; `*x*` and inner wildcards too). */
export function wildcardIsPrefix(q: WildcardQuery): boolean {
  return q.match === 'prefix' || q.match === 'contains' || q.match === 'pattern'
}

function compileWildcard(q: WildcardQuery, ctx: CompileContext): RawBuilder<SqlBool> {
  const field = q.field
  const textColumn = field === null ? 'all' : TEXT_FIELDS[field]
  if (textColumn) {
    // Full-text engines support prefixes; `*x*` and inner wildcards read as the literal words, prefix-matched.
    const literal = wildcardLiterals(q)
    return textLeaf(textColumn, literal, wildcardIsPrefix(q), ctx)
  }
  if (field === null) return TRUE
  const pattern = likePattern(q)
  const like = (column: RawBuilder<unknown>) => sql<SqlBool>`${column} like ${pattern} escape '!'`
  if (field === 'tags') return sql<SqlBool>`exists (select 1 from package_tag pt join tag t on t.id = pt.tag_id where pt.package_id = p.id and ${like(sql.ref('t.name'))})`
  if (field === 'organization') return sql<SqlBool>`p.owner_org in (select o.id from organization o where ${like(sql.ref('o.name'))})`
  if (field === 'groups') return sql<SqlBool>`exists (select 1 from package_theme g join theme th on th.id = g.theme_id where g.package_id = p.id and ${like(sql.ref('th.name'))})`
  if (field === 'license_id') return like(sql.ref('p.license_id'))
  if (field in RESOURCE_COLUMNS) {
    return sql<SqlBool>`exists (select 1 from resource r where r.package_id = p.id and r.state = 'active' and ${like(sql.ref(`r.${RESOURCE_COLUMNS[field]}`))})`
  }
  if (field in PACKAGE_COLUMNS) return like(sql.ref(`p.${PACKAGE_COLUMNS[field]}`))
  if (IGNORED_FIELDS.has(field)) return TRUE
  if (DATE_FIELDS.has(field) || NUMBER_FIELDS.has(field) || isQualityField(field)) throw new SearchQueryError(`wildcards are not supported on ${field}`)
  return extraCondition(field, like(sql.ref('e.value')))
}

function compileExists(field: string): RawBuilder<SqlBool> {
  if (field === 'tags') return sql<SqlBool>`exists (select 1 from package_tag t where t.package_id = p.id)`
  if (field === 'groups') return sql<SqlBool>`exists (select 1 from package_theme g where g.package_id = p.id)`
  if (field === 'organization' || field === 'owner_org') return sql<SqlBool>`p.owner_org is not null`
  if (field === 'license_id') return sql<SqlBool>`p.license_id is not null`
  if (field in RESOURCE_COLUMNS) return sql<SqlBool>`exists (select 1 from resource r where r.package_id = p.id and r.state = 'active' and ${sql.ref(`r.${RESOURCE_COLUMNS[field]}`)} <> '')`
  if (field in PACKAGE_COLUMNS) return sql<SqlBool>`${sql.ref(`p.${PACKAGE_COLUMNS[field]}`)} <> ''`
  if (isQualityField(field)) return qualityExistsSql()
  if (field in TEXT_FIELDS || DATE_FIELDS.has(field) || NUMBER_FIELDS.has(field) || IGNORED_FIELDS.has(field)) return TRUE
  return extraCondition(field, sql`e.value <> ''`)
}

function toNumber(raw: string): number {
  const value = Number(raw)
  if (!Number.isFinite(value)) throw new SearchQueryError(`"${raw.slice(0, 50)}" is not a number`)
  return value
}

function compileRange(
  field: string,
  from: RangeBound | null,
  to: RangeBound | null,
  includeFrom: boolean,
  includeTo: boolean,
  ctx: CompileContext,
): RawBuilder<SqlBool> {
  if (isQualityField(field)) return qualityRangeSql(field, from?.raw ?? null, to?.raw ?? null, includeFrom, includeTo)
  let column: RawBuilder<unknown>
  let convert: (raw: string) => string | number
  if (DATE_FIELDS.has(field)) {
    column = sql.ref(`p.${field}`)
    convert = (raw) => parseSolrDate(raw, ctx.now).iso
  } else if (NUMBER_FIELDS.has(field)) {
    column = sql.ref(`p.${field}`)
    convert = toNumber
  } else if (field in PACKAGE_COLUMNS) {
    column = sql.ref(`p.${PACKAGE_COLUMNS[field]}`)
    convert = (raw) => raw
  } else {
    throw new SearchQueryError(`range queries are not supported on ${field}`)
  }
  const parts: RawBuilder<SqlBool>[] = []
  if (from) parts.push(includeFrom ? sql<SqlBool>`${column} >= ${convert(from.raw)}` : sql<SqlBool>`${column} > ${convert(from.raw)}`)
  if (to) parts.push(includeTo ? sql<SqlBool>`${column} <= ${convert(to.raw)}` : sql<SqlBool>`${column} < ${convert(to.raw)}`)
  return parts.length ? joinClauses(parts, 'and') : TRUE
}

/** The positive free-text words of a q tree (for relevance), ignoring negated parts. */
export function scoringMatches(query: Query): TextMatch[] {
  switch (query.kind) {
    case 'and':
    case 'or':
      return query.clauses.flatMap(scoringMatches)
    case 'term': {
      if (query.field !== null && !(query.field in TEXT_FIELDS)) return []
      const words = tokens(query.value)
      return words.length ? [{ column: 'all', words, prefix: false }] : []
    }
    case 'wildcard': {
      if (query.field !== null && !(query.field in TEXT_FIELDS)) return []
      const words = tokens(wildcardLiterals(query))
      return words.length ? [{ column: 'all', words, prefix: true }] : []
    }
    default:
      return []
  }
}

/** Whether a tree uses the full-text index anywhere (negated or not). */
export function usesFullText(query: Query): boolean {
  switch (query.kind) {
    case 'and':
    case 'or':
      return query.clauses.some(usesFullText)
    case 'not':
      return usesFullText(query.clause)
    case 'term':
    case 'wildcard':
      return query.field === null || query.field in TEXT_FIELDS
    default:
      return false
  }
}
