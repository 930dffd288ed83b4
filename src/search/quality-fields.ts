import { sql, type RawBuilder, type SqlBool } from 'kysely'
import { SearchQueryError } from './ast.js'

/**
 * The search fields of the MQA scores (src/quality/), in one registry that both ways of searching read: the SQL
 * path (compile.ts, search.ts) and the in-memory index (memory-index.ts). Each names its column of
 * package_quality and how the index reads it from a dataset, so that both give the same answers: scores compare
 * as numbers, a dataset without a score has none (it matches no term or range, sorts as the smallest value:
 * first ascending, last descending, as NULL does in SQLite and MySQL) and is not counted in the band facet.
 */
export type QualityColumn = 'score_portal' | 'band_portal' | 'score_proportional' | 'band_proportional'

export interface QualityValues {
  score_portal: number
  band_portal: string
  score_proportional: number
  band_proportional: string
}

export interface QualityField {
  column: QualityColumn
  kind: 'number' | 'keyword'
}

/** Without a prototype (as compile.ts fieldTable): `toString` or `__proto__` name no field. */
export const QUALITY_FIELDS: Readonly<Record<string, QualityField>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, QualityField>, {
    quality_score: { column: 'score_portal', kind: 'number' },
    quality_band: { column: 'band_portal', kind: 'keyword' },
    quality_score_proportional: { column: 'score_proportional', kind: 'number' },
    quality_band_proportional: { column: 'band_proportional', kind: 'keyword' },
  }),
)

export function isQualityField(field: string): boolean {
  return field in QUALITY_FIELDS
}

function qualityNumber(raw: string): number {
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(value)) throw new SearchQueryError(`"${raw.slice(0, 50)}" is not a number`)
  return value
}

/** A term value as the field compares it (a number for a score; the text of a band). */
function termValue(field: QualityField, raw: string): number | string {
  return field.kind === 'number' ? qualityNumber(raw) : raw
}

const column = (f: QualityField) => sql.ref(`q.${f.column}`)
const scored = (condition: RawBuilder<SqlBool>) =>
  sql<SqlBool>`exists (select 1 from package_quality q where q.package_id = p.id and ${condition})`

// --- SQL --------------------------------------------------------------------------------------------

export function qualityTermSql(name: string, raw: string): RawBuilder<SqlBool> {
  const f = QUALITY_FIELDS[name]
  return scored(sql<SqlBool>`${column(f)} = ${termValue(f, raw)}`)
}

export function qualityExistsSql(): RawBuilder<SqlBool> {
  return scored(sql<SqlBool>`1 = 1`)
}

/** Ranges only over scores (bands are words: `quality_band:good`). */
function rangeField(name: string): QualityField {
  const f = QUALITY_FIELDS[name]
  if (f.kind !== 'number') throw new SearchQueryError(`range queries are not supported on ${name}`)
  return f
}

export function qualityRangeSql(
  name: string,
  from: string | null,
  to: string | null,
  includeFrom: boolean,
  includeTo: boolean,
): RawBuilder<SqlBool> {
  const f = rangeField(name)
  const parts: RawBuilder<SqlBool>[] = [sql<SqlBool>`1 = 1`]
  if (from !== null)
    parts.push(
      includeFrom
        ? sql<SqlBool>`${column(f)} >= ${termValue(f, from)}`
        : sql<SqlBool>`${column(f)} > ${termValue(f, from)}`,
    )
  if (to !== null)
    parts.push(
      includeTo ? sql<SqlBool>`${column(f)} <= ${termValue(f, to)}` : sql<SqlBool>`${column(f)} < ${termValue(f, to)}`,
    )
  return scored(sql.join(parts, sql` and `) as RawBuilder<SqlBool>)
}

/** The sort expression of a score: NULL for a dataset without one. */
export function qualityOrderSql(name: string): RawBuilder<unknown> {
  const f = QUALITY_FIELDS[name]
  return sql`(select ${column(f)} from package_quality q where q.package_id = p.id)`
}

/** The facet join and value column of a band. */
export function qualityFacetSql(
  name: string,
  join: RawBuilder<unknown>,
): { join: RawBuilder<unknown>; value: RawBuilder<unknown> } {
  const f = QUALITY_FIELDS[name]
  return { join: sql`${join} package_quality q on q.package_id = p.id`, value: column(f) }
}

// --- In memory -----------------------------------------------------------------------------------------

export function qualityValue(values: QualityValues | null, name: string): number | string | null {
  if (!values) return null
  return values[QUALITY_FIELDS[name].column]
}

export function qualityTermMatch(name: string, raw: string): (values: QualityValues | null) => boolean {
  const f = QUALITY_FIELDS[name]
  const wanted = termValue(f, raw)
  return (values) => values !== null && values[f.column] === wanted
}

export function qualityRangeMatch(
  name: string,
  from: string | null,
  to: string | null,
  includeFrom: boolean,
  includeTo: boolean,
): (values: QualityValues | null) => boolean {
  const f = rangeField(name)
  const lower = from === null ? null : termValue(f, from)
  const upper = to === null ? null : termValue(f, to)
  return (values) => {
    if (values === null) return false
    const v = values[f.column]
    if (lower !== null && (includeFrom ? v < lower : v <= lower)) return false
    if (upper !== null && (includeTo ? v > upper : v >= upper)) return false
    return true
  }
}

/** The order of qualityOrderSql over index entries: numbers, no score smallest. */
export function compareQuality(a: QualityValues | null, b: QualityValues | null, name: string): number {
  const x = qualityValue(a, name) as number | null
  const y = qualityValue(b, name) as number | null
  if (x === y) return 0
  if (x === null) return -1
  if (y === null) return 1
  return x < y ? -1 : 1
}
