/**
 * CSV as RFC 4180 says (CRLF line ends; a field with a comma, quote, CR or LF in quotes, quotes doubled), safe to
 * open in a spreadsheet: a text cell starting with = + - @ tab or CR is prefixed with ' so that it is not taken as a
 * formula (OWASP "CSV injection"). Numbers are written as numbers (a negative number is not text and stays as it
 * is); null is an empty cell. NUL and lone surrogates (not encodable in UTF-8) become U+FFFD.
 */
export type Cell = string | number | null | undefined

const FORMULA_START = /^[=+\-@\t\r]/
const NEEDS_QUOTES = /[",\r\n]/
const UNENCODABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
  let text = value.replace(UNENCODABLE, '\uFFFD')
  if (FORMULA_START.test(text)) text = `'${text}`
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function csvRow(cells: readonly Cell[]): string {
  return cells.map(csvCell).join(',') + '\r\n'
}
