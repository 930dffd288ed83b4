/** The longest stored query text of a search that found nothing (characters, after normalisation). */
export const MAX_QUERY_LENGTH = 200

/**
 * A search's query text as it is counted: lower-case, runs of whitespace as one space, trimmed, without
 * control characters or unpaired surrogates, at most MAX_QUERY_LENGTH characters (never cutting a pair).
 * Null when nothing is left (an empty or `*:*` search is no query worth counting).
 */
export function normaliseQuery(raw: unknown): string | null {
  if (typeof raw !== 'string') return null
  // Bound the work before anything else: a longer text is cut (far beyond what is kept).
  const text = raw
    .slice(0, MAX_QUERY_LENGTH * 8)
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    .normalize('NFC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
  if (text === '' || text === '*:*' || text === '*') return null
  let cut = text.slice(0, MAX_QUERY_LENGTH)
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1)
  return cut.trimEnd()
}
