/**
 * German-aware folding shared by the index and the queries, so `Straßenbäume`, `strassenbaeume` and
 * `STRASSENBÄUME` meet: lower case, ä/ö/ü -> ae/oe/ue, ß -> ss, other diacritics dropped.
 */
const GERMAN: Record<string, string> = { ä: 'ae', ö: 'oe', ü: 'ue', ß: 'ss', ẞ: 'ss' }

export function foldText(text: string): string {
  return text
    .toLowerCase()
    .replace(/[äöüßẞ]/g, (c) => GERMAN[c]!)
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
}

/** Folded word tokens ([a-z0-9] runs and other letters), as both the index and the queries see them. */
export function tokens(text: string): string[] {
  return foldText(text).match(/[\p{L}\p{N}]+/gu) ?? []
}

/** The indexed text of a field: its tokens joined by spaces. */
export function indexText(...parts: Array<string | null | undefined>): string {
  return parts.flatMap((p) => (p ? tokens(p) : [])).join(' ')
}
