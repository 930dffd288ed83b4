import { Type } from '@sinclair/typebox'
import type { SearchParams } from '../../search/search.js'
import { defineAction, type ActionContext } from '../action.js'
import { Natural } from '../schemas.js'

/** Suggestions an autocomplete answers at most, whatever `limit` asks. */
const AUTOCOMPLETE_MAX = 100

const AutocompleteInput = (defaultLimit: number) =>
  Type.Object({
    q: Type.Optional(Type.String({ maxLength: 200, description: 'The text typed so far' })),
    limit: Type.Optional(Natural(`Suggestions at most (default ${defaultLimit}, at most ${AUTOCOMPLETE_MAX})`, { maximum: AUTOCOMPLETE_MAX })),
  })

/** A package_search of the datasets the caller may see (private ones of their Kommunen; no drafts, as CKAN's index). */
function visibleSearch(overrides: Partial<SearchParams>): SearchParams {
  return { rows: 0, start: 0, facetFields: [], facetLimit: -1, facetMinCount: 1, includePrivate: true, includeDrafts: false, includeDeleted: false, ...overrides }
}

/** Every character that is not a letter or digit escaped, so that the query language reads the text literally. */
function literal(text: string): string {
  return text.replace(/[^\p{L}\p{N}]/gu, (c) => `\\${c}`)
}

/**
 * The values of one facet over the datasets the caller may see that contain `q` (case-insensitive),
 * the most used first (then by name): what the autocompletes of tags and formats suggest.
 */
async function facetSuggestions(ctx: ActionContext, field: 'tags' | 'res_format', q: string, limit: number): Promise<string[]> {
  const needle = q.trim().toLowerCase()
  if (!needle) return []
  const result = await ctx.search.search(visibleSearch({ facetFields: [field] }), ctx.viewer)
  return Object.entries(result.facets[field] ?? {})
    .filter(([name]) => name.toLowerCase().includes(needle))
    .sort(([a, ca], [b, cb]) => cb - ca || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, limit)
    .map(([name]) => name)
}

export const packageAutocomplete = defineAction({
  name: 'package_autocomplete',
  sideEffectFree: true,
  summary: 'Datasets whose name or title matches what was typed',
  description:
    'As CKAN package_autocomplete: up to `limit` (default 10) datasets the caller may see whose name contains `q` or whose title has words beginning ' +
    'with the words of `q`; each as {name, title, match_field, match_displayed}: match_field is "name" when the name contains q, else "title" ' +
    '(match_displayed is then "title (name)").',
  tags: ['datasets'],
  input: AutocompleteInput(10),
  result: Type.Array(
    Type.Object({ name: Type.String(), title: Type.String(), match_field: Type.String({ enum: ['name', 'title'] }), match_displayed: Type.String() }),
  ),
  handler: async (ctx, input) => {
    const q = (input.q ?? '').trim()
    const limit = input.limit ?? 10
    if (!q || limit === 0) return []
    const words = q.split(/[^\p{L}\p{N}]+/u).filter(Boolean)
    // CKAN asks Solr's name_ngram and title_ngram: a name containing q, or title words starting with q's words.
    const clauses = [`name:*${literal(q.toLowerCase())}*`]
    if (words.length) clauses.push(`(${words.map((w) => `title:${literal(w)}*`).join(' AND ')})`)
    const result = await ctx.search.search(visibleSearch({ q: clauses.join(' OR '), rows: limit, fields: ['name', 'title'] }), ctx.viewer)
    const needle = q.toLowerCase()
    const matches: unknown[] = []
    for await (const item of result.results as Iterable<unknown> | AsyncIterable<unknown>) {
      const { name, title } = item as { name: string; title: string }
      const byName = name.includes(needle)
      matches.push({ name, title, match_field: byName ? 'name' : 'title', match_displayed: byName ? name : `${title} (${name})` })
    }
    return matches
  },
})

export const formatAutocomplete = defineAction({
  name: 'format_autocomplete',
  sideEffectFree: true,
  summary: 'Resource formats in use that contain what was typed',
  description:
    'As CKAN format_autocomplete: up to `limit` (default 5) formats of the resources of datasets the caller may see that contain `q`, ' +
    'the most used first, in lower case as CKAN answers (`csv`; package_create takes them in any case).',
  tags: ['datasets'],
  input: AutocompleteInput(5),
  result: Type.Array(Type.String()),
  handler: async (ctx, input) => (await facetSuggestions(ctx, 'res_format', input.q ?? '', input.limit ?? 5)).map((f) => f.toLowerCase()),
})

export const tagAutocomplete = defineAction({
  name: 'tag_autocomplete',
  sideEffectFree: true,
  summary: 'Tags in use that contain what was typed',
  description:
    'As CKAN tag_autocomplete: up to `limit` (default 10) tag names of datasets the caller may see that contain `q` (case-insensitive), the most used first.',
  tags: ['datasets'],
  input: Type.Object({
    ...AutocompleteInput(10).properties,
    query: Type.Optional(Type.String({ maxLength: 200, description: 'Alias of q' })),
    vocabulary_id: Type.Optional(Type.String({ description: 'Tags of a vocabulary: there are none, the answer is []' })),
  }),
  result: Type.Array(Type.String()),
  handler: async (ctx, input) => {
    if (input.vocabulary_id) return []
    return facetSuggestions(ctx, 'tags', input.q ?? input.query ?? '', input.limit ?? 10)
  },
})
