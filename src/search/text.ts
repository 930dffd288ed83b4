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

/** Where a term occurs, as bits of `search_term.weight`; their sum is also the term's relevance weight. */
export const FIELD_BITS = { title: 4, tags: 2, body: 1 } as const

/** Terms are stored up to this length (a longer query word is cut the same way). */
export const MAX_TERM_LENGTH = 64

export function indexTerm(token: string): string {
  return token.length > MAX_TERM_LENGTH ? token.slice(0, MAX_TERM_LENGTH) : token
}

/**
 * The inverted-index rows of a dataset's full-text document (the folded, space-joined tokens of
 * `package_text`): each distinct term once, with the bits of the fields it occurs in.
 */
export function postings(text: { title: string; tags: string; body: string }): Array<{ term: string; weight: number }> {
  const bits = new Map<string, number>()
  for (const field of ['title', 'tags', 'body'] as const) {
    for (const token of text[field].split(' ')) {
      if (!token) continue
      const term = indexTerm(token)
      bits.set(term, (bits.get(term) ?? 0) | FIELD_BITS[field])
    }
  }
  return [...bits].map(([term, weight]) => ({ term, weight }))
}
