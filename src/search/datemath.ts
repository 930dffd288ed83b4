/**
 * Solr dates and date math for range bounds, with microsecond precision.
 *
 * CKAN stores metadata_created/metadata_modified as naive-UTC strings with microseconds
 * (`2024-05-02T09:13:00.123456`), and ckanext-harvest sends `metadata_modified:[2024-05-02T09:13:00.123456Z TO *]`.
 * A JS Date keeps only milliseconds, so parsing returns `SolrDate.iso` — the exact 26-character CKAN form —
 * which compares correctly (as a string) against stored values. All arithmetic is in UTC (no DST).
 *
 * Accepted (whole string, no surrounding spaces):
 *   base := 'NOW' | DATE
 *   DATE := YYYY-MM-DD [ ('T'|' ') hh:mm[:ss[.f{1,9}]] ] [ 'Z' | ±hh:mm ]     (no zone = UTC)
 *   math := ( ('+'|'-') digits UNIT | '/' UNIT )*                               applied left to right
 *   UNIT := YEAR(S) MONTH(S) DAY(S) DATE HOUR(S) MINUTE(S) SECOND(S) MILLI(S) MILLISECOND(S)
 * `NOW`, units, `T` and `Z` are matched case-insensitively. Fractions beyond 6 digits are truncated.
 * Adding months/years clamps the day like Solr's Calendar (Jan 31 + 1MONTH = Feb 28/29).
 * Results must lie in years 0000..9999.
 */

import { SearchQueryError } from './ast.js'

export { SearchQueryError } from './ast.js'

export interface SolrDate {
  /** `YYYY-MM-DDTHH:MM:SS.ffffff` (26 chars), naive UTC, microseconds preserved — CKAN's stored form. */
  iso: string
  /** The same instant truncated to milliseconds. */
  date: Date
  /** Microseconds within the millisecond (0..999), lost in `date`. */
  microsWithinMilli: number
}

type Unit = 'YEAR' | 'MONTH' | 'DAY' | 'HOUR' | 'MINUTE' | 'SECOND' | 'MILLI'

const UNITS: Record<string, Unit> = {
  YEAR: 'YEAR',
  YEARS: 'YEAR',
  MONTH: 'MONTH',
  MONTHS: 'MONTH',
  DAY: 'DAY',
  DAYS: 'DAY',
  DATE: 'DAY',
  HOUR: 'HOUR',
  HOURS: 'HOUR',
  MINUTE: 'MINUTE',
  MINUTES: 'MINUTE',
  SECOND: 'SECOND',
  SECONDS: 'SECOND',
  MILLI: 'MILLI',
  MILLIS: 'MILLI',
  MILLISECOND: 'MILLI',
  MILLISECONDS: 'MILLI',
}

const FIXED_MS: Partial<Record<Unit, number>> = {
  DAY: 86_400_000,
  HOUR: 3_600_000,
  MINUTE: 60_000,
  SECOND: 1_000,
  MILLI: 1,
}

/** Earliest/latest instants representable in the 4-digit-year CKAN form. */
const MIN_MS = utc(0, 0, 1)
const MAX_MS = utc(9999, 11, 31, 23, 59, 59, 999)

const DATE_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))?/

/** Internal instant: epoch milliseconds plus microseconds within that millisecond. */
interface Instant {
  ms: number
  us: number
}

function invalid(value: string, why: string): SearchQueryError {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value
  return new SearchQueryError(`invalid date '${shown}': ${why}`)
}

/** Date.UTC with years 0..99 taken literally (Date.UTC maps them to 1900..1999). */
function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const t = new Date(0)
  t.setUTCFullYear(y, mo, d)
  t.setUTCHours(h, mi, s, ms)
  return t.getTime()
}

function daysInMonth(y: number, mo: number /* 0-based */): number {
  return new Date(utc(y, mo + 1, 0)).getUTCDate()
}

/**
 * Parses a Solr date or date-math expression. `now` is the instant `NOW` stands for (pass the same
 * value for every bound of one request). Throws SearchQueryError when invalid.
 */
export function parseSolrDate(value: string, now: Date): SolrDate {
  if (typeof value !== 'string') throw invalid(String(value), 'not a string')
  if (value.length > 200) throw invalid(value, 'too long')
  let rest: string
  let t: Instant
  if (/^NOW/i.test(value)) {
    const nowMs = now instanceof Date ? now.getTime() : NaN
    if (!Number.isFinite(nowMs)) throw invalid(value, "'now' is not a valid Date")
    t = { ms: nowMs, us: 0 }
    rest = value.slice(3)
  } else {
    const m = DATE_RE.exec(value)
    if (!m) throw invalid(value, "expected 'NOW' or an ISO 8601 date like 2024-01-01T00:00:00Z")
    t = parseIso(value, m)
    rest = value.slice(m[0].length)
  }
  t = applyMath(value, t, rest)
  if (t.ms < MIN_MS || t.ms > MAX_MS) throw invalid(value, 'the year is outside 0000..9999')
  return { iso: formatInstant(t), date: new Date(t.ms), microsWithinMilli: t.us }
}

function parseIso(value: string, m: RegExpExecArray): Instant {
  const y = Number(m[1])
  const mo = Number(m[2])
  const d = Number(m[3])
  const h = m[4] === undefined ? 0 : Number(m[4])
  const mi = m[5] === undefined ? 0 : Number(m[5])
  const s = m[6] === undefined ? 0 : Number(m[6])
  const frac = (m[7] ?? '').padEnd(9, '0')
  if (mo < 1 || mo > 12) throw invalid(value, 'month out of range')
  if (d < 1 || d > daysInMonth(y, mo - 1)) throw invalid(value, 'day out of range')
  if (h > 23) throw invalid(value, 'hour out of range')
  if (mi > 59) throw invalid(value, 'minute out of range')
  if (s > 59) throw invalid(value, 'second out of range')
  let ms = utc(y, mo - 1, d, h, mi, s, Number(frac.slice(0, 3)))
  const us = Number(frac.slice(3, 6))
  if (m[9] !== undefined) {
    const oh = Number(m[10])
    const om = Number(m[11])
    if (oh > 23 || om > 59) throw invalid(value, 'time zone offset out of range')
    const offset = (oh * 60 + om) * 60_000
    ms += m[9] === '+' ? -offset : offset
  }
  return { ms, us }
}

const MATH_RE = /^(?:([+-])(\d{1,9})([A-Za-z]+)|\/([A-Za-z]+))/

function applyMath(value: string, start: Instant, expr: string): Instant {
  let t = start
  let rest = expr
  let steps = 0
  while (rest.length > 0) {
    if (++steps > 20) throw invalid(value, 'too many date math operations')
    const m = MATH_RE.exec(rest)
    if (!m) throw invalid(value, `cannot read date math at '${rest.length > 30 ? rest.slice(0, 30) + '…' : rest}'`)
    const unitName = (m[3] ?? m[4]).toUpperCase()
    const unit = UNITS[unitName]
    if (!unit) throw invalid(value, `unknown date math unit '${m[3] ?? m[4]}'`)
    if (m[4] !== undefined) t = roundDown(t, unit)
    else t = add(value, t, unit, (m[1] === '-' ? -1 : 1) * Number(m[2]))
    if (t.ms < MIN_MS - 86_400_000 * 366 * 2 || t.ms > MAX_MS + 86_400_000 * 366 * 2) {
      // Far out of range already; stop before Date arithmetic loses meaning.
      throw invalid(value, 'the year is outside 0000..9999')
    }
    rest = rest.slice(m[0].length)
  }
  return t
}

function add(value: string, t: Instant, unit: Unit, n: number): Instant {
  const fixed = FIXED_MS[unit]
  if (fixed !== undefined) {
    const ms = t.ms + n * fixed
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) throw invalid(value, 'the year is outside 0000..9999')
    return { ms, us: t.us }
  }
  const months = unit === 'YEAR' ? n * 12 : n
  if (Math.abs(months) > 12 * 20_000) throw invalid(value, 'the year is outside 0000..9999')
  const d = new Date(t.ms)
  const y = d.getUTCFullYear()
  const mo = d.getUTCMonth()
  const total = y * 12 + mo + months
  const ny = Math.floor(total / 12)
  const nmo = total - ny * 12
  const day = Math.min(d.getUTCDate(), daysInMonth(ny, nmo))
  const ms = utc(ny, nmo, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds())
  return { ms, us: t.us }
}

function roundDown(t: Instant, unit: Unit): Instant {
  if (unit === 'MILLI') return { ms: t.ms, us: 0 }
  const d = new Date(t.ms)
  const y = d.getUTCFullYear()
  switch (unit) {
    case 'YEAR':
      return { ms: utc(y, 0, 1), us: 0 }
    case 'MONTH':
      return { ms: utc(y, d.getUTCMonth(), 1), us: 0 }
    case 'DAY':
      return { ms: utc(y, d.getUTCMonth(), d.getUTCDate()), us: 0 }
    case 'HOUR':
      return { ms: utc(y, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()), us: 0 }
    case 'MINUTE':
      return { ms: utc(y, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()), us: 0 }
    case 'SECOND':
      return {
        ms: utc(y, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()),
        us: 0,
      }
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0')

function formatInstant(t: Instant): string {
  const d = new Date(t.ms)
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}` +
    `.${pad(d.getUTCMilliseconds(), 3)}${pad(t.us, 3)}`
  )
}

/**
 * CKAN's timestamp form for a Date: naive UTC with 6 fractional digits, e.g. `2024-03-01T10:20:30.123000`.
 * Throws a RangeError for an invalid Date or a year outside 0000..9999 (a programming error, not user input).
 */
export function toCkanTimestamp(d: Date): string {
  const ms = d.getTime()
  if (!Number.isFinite(ms)) throw new RangeError('toCkanTimestamp: invalid Date')
  if (ms < MIN_MS || ms > MAX_MS) throw new RangeError('toCkanTimestamp: year outside 0000..9999')
  return formatInstant({ ms, us: 0 })
}
