import { Type } from '@sinclair/typebox'
import { validationError } from '../../errors.js'
import { FACET_LIMIT_MAX, MAX_FACET_FIELDS, type SearchParams } from '../../search/search.js'
import { MAX_FILTER_QUERIES, REQUEST_MAX_CLAUSES, REQUEST_MAX_QUERY_LENGTH } from '../../search/budget.js'
import { parseJsonBounded, JsonLimitError } from '../../json.js'
import { defineAction, type ActionContext } from '../action.js'
import { Bool, BoundedInteger, MAX_INTEGER_PARAM, Natural, PackageDict } from '../schemas.js'
import { countSearch } from '../../usage/hooks.js'

const FacetResult = Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer()))
const SearchFacets = Type.Record(
  Type.String(),
  Type.Object({
    title: Type.String(),
    items: Type.Array(Type.Object({ name: Type.String(), display_name: Type.String(), count: Type.Integer() })),
  }),
)

const StringOrList = (description: string) => Type.Union([Type.String(), Type.Array(Type.String())], { description })

/**
 * A list parameter may come as a JSON list in a string (GET or a form), a real list (POST) or a
 * comma-separated string. The JSON is a flat list of scalars, parsed within the body limits.
 */
function stringList(ctx: ActionContext, raw: unknown, field: string): string[] {
  if (raw === undefined || raw === null || raw === '') return []
  if (Array.isArray(raw)) return raw.map(String)
  const text = String(raw).trim()
  if (text.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = parseJsonBounded(text, { maxDepth: 1, maxKeys: ctx.config.jsonMaxKeys })
    } catch (err) {
      throw validationError({ [field]: [err instanceof JsonLimitError ? 'Must be a flat JSON list of strings' : 'Not a valid JSON list'] })
    }
    if (Array.isArray(parsed)) return parsed.map(String)
  }
  return text.split(',').map((s) => s.trim()).filter(Boolean)
}

/** Turns the validated CKAN parameters into the search service's input. */
export function searchParams(ctx: ActionContext, input: Record<string, unknown>): SearchParams {
  const rowsMax = ctx.config.searchRowsMax
  const facetEnabled = input.facet === undefined || input.facet === true
  const fl = stringList(ctx, input.fl, 'fl').flatMap((f) => f.split(/\s+/)).filter(Boolean)
  return {
    q: input.q as string | undefined,
    fq: input.fq as string | undefined,
    fq_list: stringList(ctx, input.fq_list, 'fq_list'),
    rows: Math.min((input.rows as number | undefined) ?? 10, rowsMax),
    start: (input.start as number | undefined) ?? 0,
    sort: input.sort as string | undefined,
    facetFields: facetEnabled ? stringList(ctx, input['facet.field'], 'facet.field') : [],
    facetLimit: (input['facet.limit'] as number | undefined) ?? 50,
    facetMinCount: (input['facet.mincount'] as number | undefined) ?? 1,
    includePrivate: (input.include_private as boolean | undefined) ?? false,
    includeDrafts: (input.include_drafts as boolean | undefined) ?? false,
    includeDeleted: (input.include_deleted as boolean | undefined) ?? false,
    fields: fl.length && !(fl.length === 1 && fl[0] === '*') ? fl : undefined,
  }
}

export const packageSearch = defineAction({
  name: 'package_search',
  sideEffectFree: true,
  summary: 'Search datasets: Solr query language, filters, facets, sorting, paging',
  description:
    'As CKAN package_search. `q` is free text (German-aware: ä=ae, ß=ss, case-insensitive) or a fielded query ' +
    '(`tags:verkehr`, `title:"Haltestellen"`, AND/OR/NOT, `-term`, wildcards `wasser*`); `fq` filters with the same ' +
    'language, including date ranges such as `metadata_modified:[2024-01-01T00:00:00Z TO *]` and `NOW-1DAY`. ' +
    '`rows` above the configured maximum (1000) is clamped. Unknown parameters are rejected with a Search Query Error. ' +
    `Bounds (a Search Query Error beyond them): q, fq and fq_list together at most ${REQUEST_MAX_CLAUSES} clauses and ` +
    `${REQUEST_MAX_QUERY_LENGTH} characters, at most ${MAX_FILTER_QUERIES} filter queries, at most ${MAX_FACET_FIELDS} facet fields, ` +
    `facet.limit at most ${FACET_LIMIT_MAX}. Quality (MQA): \`sort=quality_score desc\`, \`fq=quality_band:good\`, ` +
    '`quality_score:[221 TO *]`, and the facets `quality_band` / `quality_band_proportional`.',
  tags: ['datasets'],
  inputErrors: 'search',
  input: Type.Object(
    {
      q: Type.Optional(Type.String({ maxLength: 10000, description: 'Query, default *:*' })),
      fq: Type.Optional(Type.String({ maxLength: 10000, description: 'Filter query' })),
      fq_list: Type.Optional(StringOrList('Further filter queries')),
      rows: Type.Optional(Natural('Results per page (default 10, clamped to the maximum)')),
      start: Type.Optional(Natural('Offset of the first result')),
      sort: Type.Optional(Type.String({ maxLength: 1000, description: 'e.g. "score desc, metadata_modified desc" (default), "name asc", "id asc"' })),
      facet: Type.Optional(Bool('Whether to compute facets (default true)')),
      'facet.field': Type.Optional(StringOrList('JSON list of fields, e.g. ["organization","groups","res_format","license_id","tags"]')),
      'facet.limit': Type.Optional(BoundedInteger('Values per facet (default 50; -1 = all)')),
      'facet.mincount': Type.Optional(Natural('Minimum count of a facet value (default 1)')),
      'facet.sort': Type.Optional(Type.String()),
      include_private: Type.Optional(Bool('Include private datasets the caller may read', false)),
      include_drafts: Type.Optional(Bool("Include the caller's draft datasets", false)),
      include_deleted: Type.Optional(Bool('Include deleted datasets (sysadmins)', false)),
      use_default_schema: Type.Optional(Bool('Accepted for compatibility')),
      fl: Type.Optional(StringOrList('Fields of each result')),
      qf: Type.Optional(Type.String()),
      bf: Type.Optional(Type.String()),
      boost: Type.Optional(Type.String()),
      tie: Type.Optional(Type.String()),
      defType: Type.Optional(Type.String()),
      mm: Type.Optional(Type.String()),
      df: Type.Optional(Type.String()),
      'q.op': Type.Optional(Type.String()),
      wt: Type.Optional(Type.String()),
    },
    { additionalProperties: false, patternProperties: { '^ext_': {} } },
  ),
  result: Type.Object({
    count: Type.Integer(),
    sort: Type.String(),
    results: Type.Array(PackageDict),
    facets: FacetResult,
    search_facets: SearchFacets,
  }),
  handler: async (ctx, input) => countSearch(ctx.request, input.q, await ctx.search.search(searchParams(ctx, input as Record<string, unknown>), ctx.viewer)),
})

/** Datasets loaded at a time while current_package_list_with_resources streams its answer. */
export const PACKAGE_LIST_BATCH = 50

/**
 * The page of current_package_list_with_resources as an AsyncIterable (streamed by the envelope): one
 * search of PACKAGE_LIST_BATCH datasets at a time, so that at most one batch of documents is in memory,
 * however large the stored documents and `limit` are. Each batch is a page of the same order (ties broken
 * by id), so a dataset modified while the answer streams may move between batches: it can then appear
 * twice or be missed, as across the pages a harvester fetches one by one.
 */
async function* packagesInBatches(ctx: ActionContext, offset: number, limit: number): AsyncGenerator<unknown> {
  for (let done = 0; done < limit; ) {
    const rows = Math.min(PACKAGE_LIST_BATCH, limit - done)
    const page = await ctx.search.search(searchParams(ctx, { rows, start: offset + done }), ctx.viewer)
    let taken = 0
    // An array, or (search.ts may load its page in batches itself) an AsyncIterable.
    for await (const item of page.results as Iterable<unknown> | AsyncIterable<unknown>) {
      taken++
      yield item
    }
    if (taken < rows) return
    done += taken
  }
}

export const currentPackageListWithResources = defineAction({
  name: 'current_package_list_with_resources',
  sideEffectFree: true,
  summary: 'Recently modified datasets with their resources',
  description: 'As CKAN: package_search with q empty, rows=limit, start=offset (or (page-1)*limit), default sort.',
  tags: ['datasets'],
  input: Type.Object({
    limit: Type.Optional(Natural('Datasets per page (default 10)')),
    offset: Type.Optional(Natural('Datasets to skip')),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_INTEGER_PARAM, description: 'Deprecated: 1-based page of `limit` datasets' })),
  }),
  result: Type.Array(PackageDict),
  handler: async (ctx, input) => {
    const limit = Math.min(input.limit ?? 10, ctx.config.searchRowsMax)
    // Beyond MAX_INTEGER_PARAM every page is empty: no database needs to see such an offset.
    const offset = Math.min(input.page !== undefined ? (input.page - 1) * limit : input.offset ?? 0, MAX_INTEGER_PARAM)
    return packagesInBatches(ctx, offset, limit)
  },
})
