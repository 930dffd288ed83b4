import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely'
import type { Database } from '../db/types.js'
import type { CatalogService } from '../catalog/service.js'
import { PUBLIC_DATASETS, seesPublicOnly, visibilityCondition, type Viewer } from '../auth/viewer.js'
import type { Query } from './ast.js'
import { SearchQueryError } from './ast.js'
import { compileQuery, fieldTable, scoringMatches, usesFullText, type CompileContext } from './compile.js'
import { fullTextAdapter, type TextMatch } from './fulltext.js'
import { parseSearchQueries } from './budget.js'
import { balancedJoin } from './sql-tree.js'
import { indexTerm } from './text.js'
import { MEMORY_FACETS, VisibleDatasetIndex, evaluate, type FacetField } from './memory-index.js'

type IndexColumns = VisibleDatasetIndex['data']
import { DEFAULT_SORT, parseSort, type SortKey } from './sort.js'
import { compareQuality, isQualityField, qualityFacetSql, qualityOrderSql } from './quality-fields.js'

export interface SearchParams {
  q?: string
  fq?: string
  fq_list?: string[]
  rows: number
  start: number
  sort?: string
  facetFields: string[]
  facetLimit: number
  facetMinCount: number
  includePrivate: boolean
  includeDrafts: boolean
  includeDeleted: boolean
  /** Restrict result dicts to these fields (CKAN `fl`). */
  fields?: string[]
}

export interface SearchResult {
  count: number
  sort: string
  /**
   * The page's datasets: an array when they are few, else loaded DOCUMENT_BATCH at a time while the answer is
   * written (documents are up to DATASET_MAX_BYTES each: a page of 1000 is never held whole).
   */
  results: unknown[] | AsyncIterable<unknown>
  facets: Record<string, Record<string, number>>
  search_facets: Record<string, { title: string; items: Array<{ name: string; display_name: string; count: number }> }>
}

/** Orders the database can sort by; ties are broken by id so that pages never overlap. */
const SORT_COLUMNS = fieldTable<string>({
  id: 'p.id',
  name: 'p.name',
  title_string: 'p.title',
  title: 'p.title',
  metadata_modified: 'p.metadata_modified',
  metadata_created: 'p.metadata_created',
  num_resources: 'p.num_resources',
  num_tags: 'p.num_tags',
})

/** facet.limit at most (-1 asks for this many); CKAN's `search.facets.limit` default is 50. */
export const FACET_LIMIT_MAX = 1000
/** Facet fields of one request at most. */
export const MAX_FACET_FIELDS = 20
/**
 * Facet values longer than this are not counted (both ways of counting): a value of 95 KB, shown three
 * times per answer, would make a facet answer of hundreds of MB; nobody filters by such a value.
 */
export const FACET_VALUE_MAX_LENGTH = 500
/** The facet cache holds at most about this many characters of values (it is emptied beyond). */
const FACET_CACHE_MAX_CHARS = 4_000_000

/** Facet fields: how to count them and how to show their values. */
/** The datasets a search covers: the package rows (maybe joined to a temporary table of hits) and a condition. */
interface SearchScope {
  from: RawBuilder<unknown>
  /** How facet tables join the package rows: `straight_join` keeps MySQL's order from the hits outwards. */
  join: RawBuilder<unknown>
  where: RawBuilder<SqlBool>
  /** Identifies the set of datasets (the search's condition with its parameters), for the facet cache. */
  key: string
}

let hitTables = 0

interface FacetSource {
  count(scope: SearchScope, limit: number, minCount: number): RawBuilder<{ value: string | null; n: number | string }>
  display(value: string): string
  key(value: string): string
}

export class SearchService {
  private readonly fullText

  /**
   * Facet counts by statement: computing them walks every matching dataset, and the same searches (the
   * catalog front page, a Kommune's page) repeat. Coherence rule: cleared by every change this process
   * applies (its own writes at once, every other process's from the change feed within one poll); a count
   * computed while a change was applied is not kept (the generation moved on).
   */
  private readonly facetCache = new Map<string, { rows: Array<{ value: string | null; n: number | string }>; size: number }>()
  private facetCacheSize = 0
  private facetGeneration = 0

  /** Searches answered from the in-memory index (the rest went through SQL): for tests and diagnosis. */
  answeredFromMemory = 0

  /** Loads the in-memory index of the visible datasets when there is one and it is not loaded (readiness, tests). */
  async warmIndex(): Promise<void> {
    await this.memory?.warm()
  }

  /** Whether searches still wait for the in-memory index's first load (answered through SQL meanwhile). */
  get indexLoading(): boolean {
    return this.memory !== null && !this.memory.ready
  }

  /** The in-memory index of the visible datasets (off with SEARCH_MEMORY_INDEX=0: every search through SQL). */
  private readonly memory: VisibleDatasetIndex | null

  constructor(private readonly catalog: CatalogService) {
    this.fullText = fullTextAdapter(catalog.store.dialect)
    this.memory = catalog.config.searchMemoryIndex ? new VisibleDatasetIndex(catalog.db) : null
    catalog.onChange((change) => {
      this.facetGeneration++
      this.clearFacetCache()
      this.memory?.changed(change)
    })
  }

  private async facetRows(db: Kysely<Database>, statement: RawBuilder<{ value: string | null; n: number | string }>, key: string) {
    if (this.catalog.config.readCacheTtlMs <= 0) return (await statement.execute(db)).rows
    const hit = this.facetCache.get(key)
    if (hit) return hit.rows
    const generation = this.facetGeneration
    const rows = (await statement.execute(db)).rows
    if (generation !== this.facetGeneration) return rows
    // Bounded by entries and by size (keys and values counted in characters, plus a little per row).
    const size = key.length + rows.reduce((n, r) => n + (r.value?.length ?? 0) + 16, 0)
    if (size > FACET_CACHE_MAX_CHARS / 4) return rows
    if (this.facetCache.size >= 1000 || this.facetCacheSize + size > FACET_CACHE_MAX_CHARS) this.clearFacetCache()
    this.facetCache.set(key, { rows, size })
    this.facetCacheSize += size
    return rows
  }

  private clearFacetCache(): void {
    this.facetCache.clear()
    this.facetCacheSize = 0
  }

  /** Characters held by the facet cache (see FACET_CACHE_MAX_CHARS): for tests. */
  get facetCacheChars(): number {
    return this.facetCacheSize
  }

  /** Whether the viewer searches exactly the visible datasets (active, public, type dataset): what anonymous callers and harvesters see. */
  private seesVisibleOnly(viewer: Viewer, params: SearchParams, filters: Query[]): boolean {
    return seesPublicOnly(viewer, visibilityOptions(params)) && !mentionsType(filters)
  }

  /** Which datasets the viewer may find: the visibility rule of auth/viewer.ts, plus CKAN's type=dataset default. */
  private visibility(viewer: Viewer, params: SearchParams, filters: Query[], fromMatches = false): RawBuilder<SqlBool> {
    // The common case is one indexed flag.
    if (this.seesVisibleOnly(viewer, params, filters)) return fromMatches ? sql<SqlBool>`+p.visible = 1` : PUBLIC_DATASETS
    const seen = visibilityCondition(viewer, visibilityOptions(params))
    return mentionsType(filters) ? seen : sql<SqlBool>`${seen} and p.type = 'dataset'`
  }

  /** The SQL condition of a q/fq search as the viewer may see it. */
  private whereFor(params: Pick<SearchParams, 'q' | 'fq' | 'fq_list' | 'includePrivate' | 'includeDrafts' | 'includeDeleted'>, viewer: Viewer) {
    const { query, filters } = parseSearchQueries(params)
    const ctx: CompileContext = { fullText: this.fullText, reference: this.catalog.reference, vocab: this.catalog.vocab, now: new Date() }
    // SQLite would walk the visible-flag index and probe the full-text matches row by row; with the flag's
    // index disabled (unary +) it starts from the matches instead, which are far fewer.
    const fromMatches = this.catalog.store.dialect === 'sqlite' && scoringMatches(query).length > 0
    const conditions = [this.visibility(viewer, params as SearchParams, filters, fromMatches), compileQuery(query, ctx), ...filters.map((f) => compileQuery(f, ctx))]
    const hasText = [query, ...filters].some(usesFullText)
    return { query, where: balancedJoin(conditions, 'and'), hasText, visibility: this.visibility(viewer, params as SearchParams, filters) }
  }

  /**
   * One page of the DCAT catalog: newest first by creation, keyset-paged by (metadata_created, id), which
   * edits never change, so a crawl sees every dataset that existed when it started, however the catalog is
   * edited meanwhile. Without a cursor, `offset` gives ckanext-dcat's page=N.
   */
  async catalogPage(
    params: { q?: string; fq_list: string[]; after?: { created: string; id: string }; offset?: number; limit: number; withStats?: boolean },
    viewer: Viewer,
  ): Promise<{ ids: Array<{ id: string; created: string }>; count: number; lastModified: string | null }> {
    return withQueryLimits(() => this.catalogPageUnchecked(params, viewer))
  }

  private async catalogPageUnchecked(
    params: { q?: string; fq_list: string[]; after?: { created: string; id: string }; offset?: number; limit: number; withStats?: boolean },
    viewer: Viewer,
  ): Promise<{ ids: Array<{ id: string; created: string }>; count: number; lastModified: string | null }> {
    const { where } = this.whereFor({ q: params.q, fq_list: params.fq_list, includePrivate: false, includeDrafts: false, includeDeleted: false }, viewer)
    const db = this.catalog.db
    // The count and newest change cost a pass over the matching rows: streamed dumps ask once, not per page.
    const stats = params.withStats === false ? { rows: [] } : await sql<{ n: number | string; modified: string | null }>`select count(*) as n, max(p.metadata_modified) as modified from package p where ${where}`.execute(db)
    const after = params.after
      ? sql<SqlBool>` and (p.metadata_created < ${params.after.created} or (p.metadata_created = ${params.after.created} and p.id < ${params.after.id}))`
      : sql``
    const offset = params.after ? 0 : params.offset ?? 0
    const page = await sql<{ id: string; metadata_created: string }>`select p.id, p.metadata_created from package p where ${where}${after} order by p.metadata_created desc, p.id desc limit ${params.limit} offset ${offset}`.execute(db)
    return {
      ids: page.rows.map((r) => ({ id: r.id, created: r.metadata_created })),
      count: Number(stats.rows[0]?.n ?? 0),
      lastModified: stats.rows[0]?.modified ?? null,
    }
  }

  async search(params: SearchParams, viewer: Viewer): Promise<SearchResult> {
    const facetFields = [...new Set(params.facetFields)]
    if (facetFields.length > MAX_FACET_FIELDS) throw new SearchQueryError(`facet.field names more than ${MAX_FACET_FIELDS} fields`)
    return withQueryLimits(() => this.searchUnchecked({ ...params, facetFields }, viewer))
  }

  private async searchUnchecked(params: SearchParams, viewer: Viewer): Promise<SearchResult> {
    const sortKeys = parseSort(params.sort)
    const fromMemory = this.memory ? await this.searchVisibleIndex(this.memory, params, viewer, sortKeys) : null
    if (fromMemory) {
      this.answeredFromMemory++
      return fromMemory
    }
    const { query, where, hasText, visibility } = this.whereFor(params, viewer)
    const scoring = scoringMatches(query)
    // With full text and further statements to come (facets, a page), the matching ids are computed once into
    // a temporary table that the other statements join, instead of running the text match in each of them.
    const compiledWhere = where.compile(this.catalog.db)
    const scopeKey = `${compiledWhere.sql}\u0000${JSON.stringify(compiledWhere.parameters)}`
    if (hasText && (params.facetFields.length > 0 || params.rows > 0)) {
      return this.catalog.db.connection().execute(async (conn) => {
        const table = sql.raw(`godonu_hits_${process.pid}_${++hitTables}`)
        await sql`create temporary table ${table} (id varchar(36) not null primary key)`.execute(conn)
        try {
          const inserted = await sql`insert into ${table} (id) select p.id from package p where ${where}`.execute(conn)
          const count = Number(inserted.numAffectedRows ?? 0)
          // Drive every statement from the (few) hits: CROSS JOIN (SQLite) and STRAIGHT_JOIN (MySQL) keep the order.
          const drive = this.catalog.store.dialect === 'mysql' ? sql`straight_join` : sql`cross join`
          const scope = { from: sql`${table} h ${drive} package p on p.id = h.id`, join: this.catalog.store.dialect === 'mysql' ? sql`straight_join` : sql`join`, where: sql<SqlBool>`1 = 1`, key: scopeKey }
          return await this.runSearch(conn, params, sortKeys, scoring, scope, count, visibility)
        } finally {
          await sql`drop temporary table ${table}`.execute(conn).catch(() => {})
        }
      })
    }
    const db = this.catalog.db
    const countRow = await sql<{ n: number | string }>`select count(*) as n from package p where ${where}`.execute(db)
    return this.runSearch(db, params, sortKeys, scoring, { from: sql`package p`, join: sql`join`, where, key: scopeKey }, Number(countRow.rows[0]?.n ?? 0), visibility)
  }

  /**
   * A search of the visible datasets answered from the in-memory facet index and the term index
   * (memory-index.ts); null when it needs SQL (another viewer, sort key, facet or query form).
   */
  private async searchVisibleIndex(index: VisibleDatasetIndex, params: SearchParams, viewer: Viewer, sortKeys: SortKey[]): Promise<SearchResult | null> {
    if (!params.facetFields.every((f) => MEMORY_FACETS.has(f))) return null
    if (!sortKeys.every((k) => MEMORY_SORTS.has(k.field))) return null
    const { query, filters } = parseSearchQueries(params)
    if (!this.seesVisibleOnly(viewer, params, filters)) return null
    // Until its first load is done (some seconds at 100,000 datasets) the index is no faster than SQL, which
    // answers the same: the first searches after a start do not wait for it.
    if (!index.ready) {
      index.warm().catch(() => undefined)
      return null
    }
    await index.current()
    const columns = index.data
    const ctx = { reference: this.catalog.reference, vocab: this.catalog.vocab, now: new Date() }
    const evaluation = evaluate([query, ...filters], index, ctx)
    if (!evaluation) return null

    let hits: Uint32Array | Int32Array
    if (evaluation.everything && !evaluation.candidates) hits = index.all()
    else {
      // Postings hold live docs only; a scan of all docs tests `alive`.
      const source = evaluation.candidates ? evaluation.candidates.docs : index.all()
      const out = new Int32Array(source.length)
      let n = 0
      const matches = evaluation.matches
      for (let i = 0; i < source.length; i++) {
        const doc = source[i]
        if (matches(doc)) out[n++] = doc
      }
      hits = out.subarray(0, n)
    }

    const scoring = scoringMatches(query)
    const useScore = scoring.length > 0 && sortKeys.some((k) => k.field === 'score')
    const score = useScore ? await this.scoresOf(scoring, index) : null
    let ids: string[] = []
    if (params.rows > 0 && params.start < hits.length) {
      // Many hits in a column's order: the database's indexes give the page; hits of words are fewer, and scored.
      if (!useScore && hits.length > SQL_PAGE_ABOVE) ids = await this.pageBySql(params, viewer, sortKeys)
      else ids = topHits(hits, memoryOrder(sortKeys, score, columns), params.start, params.rows).map((d) => columns.ids[d])
    }

    const facetRows: Record<string, Array<{ value: string | null; n: number }>> = {}
    for (const field of params.facetFields) {
      const counts = index.countFacet(hits, field as FacetField)
      const { limit, minCount } = facetBounds(params)
      facetRows[field] = counts
        .filter(([value, n]) => n >= minCount && (value === null || withinFacetLength(value)))
        .map(([value, n]) => ({ value, n }))
        // As SQL orders them: count descending, then the value (NULL first).
        .sort((a, b) => b.n - a.n || (a.value === b.value ? 0 : a.value === null ? -1 : b.value === null ? 1 : a.value < b.value ? -1 : 1))
        .slice(0, limit)
    }
    return this.present(this.catalog.db, params, hits.length, ids, facetRows, PUBLIC_DATASETS)
  }

  private async pageBySql(params: SearchParams, viewer: Viewer, sortKeys: SortKey[]): Promise<string[]> {
    const { where } = this.whereFor(params, viewer)
    const order = sql.join(orderBy(sortKeys, false), sql`, `)
    const page = await sql<{ id: string }>`select p.id from package p where ${where} order by ${order} limit ${params.rows} offset ${params.start}`.execute(this.catalog.db)
    return page.rows.map((r) => r.id)
  }

  /**
   * Relevance as the SQL path computes it (fulltext.ts scores). On MySQL that is the sum of the field bits
   * of the matching term rows: exact words, each once, add up from the postings already read; prefixes
   * (whose ranges may overlap) are summed by the database. On SQLite it is FTS5's bm25.
   */
  private async scoresOf(scoring: TextMatch[], index: VisibleDatasetIndex): Promise<Float64Array> {
    const columns = index.data
    const out = new Float64Array(columns.size)
    if (this.catalog.store.dialect === 'mysql' && scoring.every((m) => m.words.length === 1 && m.column === 'all')) {
      // SQL sums the weights of the distinct term rows any word (or prefix range) matches: so here, each term once.
      const terms = new Set<number>()
      for (const m of scoring) for (const term of index.matchingTerms(indexTerm(m.words[0]), m.prefix)) terms.add(term)
      for (const term of terms) {
        const { docs, weights } = columns.termPostings(term)
        for (let i = 0; i < docs.length; i++) out[docs[i]] += weights[i]
      }
      return out
    }
    const rows = await sql<{ package_id: string; score: number | string }>`select s.package_id, s.score from ${this.fullText.scores(scoring)} s`.execute(this.catalog.db)
    for (const r of rows.rows) {
      const doc = columns.byId.get(r.package_id)
      if (doc !== undefined) out[doc] = Number(r.score)
    }
    return out
  }

  private async runSearch(
    db: Kysely<Database>,
    params: SearchParams,
    sortKeys: SortKey[],
    scoring: TextMatch[],
    scope: SearchScope,
    count: number,
    visibility: RawBuilder<SqlBool>,
  ): Promise<SearchResult> {
    let ids: string[] = []
    if (params.rows > 0 && params.start < count) {
      const useScore = scoring.length > 0 && sortKeys.some((k) => k.field === 'score')
      const scoreJoin = useScore ? sql`left join ${this.fullText.scores(scoring)} s on s.package_id = p.id` : sql``
      const order = sql.join(orderBy(sortKeys, useScore), sql`, `)
      const page = await sql<{ id: string }>`select p.id from ${scope.from} ${scoreJoin} where ${scope.where} order by ${order} limit ${params.rows} offset ${params.start}`.execute(db)
      ids = page.rows.map((r) => r.id)
    }
    const facetRows: Record<string, Array<{ value: string | null; n: number | string }>> = {}
    for (const field of params.facetFields) {
      const source = this.facetSource(field)
      const { limit, minCount } = facetBounds(params)
      facetRows[field] = await this.facetRows(db, source.count(scope, limit, minCount), `${scope.key}\u0000${field}\u0000${limit}\u0000${minCount}`)
    }
    return this.present(db, params, count, ids, facetRows, visibility)
  }

  /** The answer from a page of ids and the facet rows (value, count; in order), however they were found. */
  private async present(
    db: Kysely<Database>,
    params: SearchParams,
    count: number,
    ids: string[],
    facetRows: Record<string, Array<{ value: string | null; n: number | string }>>,
    visibility: RawBuilder<SqlBool>,
  ): Promise<SearchResult> {
    // The documents are loaded with the viewer's visibility applied in SQL: whatever the index or a cache
    // held, a dataset that became private, draft or deleted meanwhile is not shown.
    const fields = params.fields?.length ? params.fields : undefined
    const load = async (batch: string[], from: Kysely<Database>): Promise<unknown[]> =>
      fields
        ? (await this.catalog.packageDicts(batch, visibility, from)).map((r) => Object.fromEntries(fields.map((f) => [f, r[f]])))
        : this.catalog.packageJsons(batch, visibility, from)
    // A small page is loaded at once, on the same connection (SQLite has only one, held by this search). A
    // larger one is loaded batch by batch as the answer is written, each batch its own statement on the pool:
    // no connection is held while the client reads.
    const catalogDb = this.catalog.db
    const results: SearchResult['results'] =
      ids.length <= DOCUMENT_BATCH
        ? await load(ids, db)
        : (async function* () {
            for (let i = 0; i < ids.length; i += DOCUMENT_BATCH) yield* await load(ids.slice(i, i + DOCUMENT_BATCH), catalogDb)
          })()
    const facets: SearchResult['facets'] = {}
    const searchFacets: SearchResult['search_facets'] = {}
    for (const field of params.facetFields) {
      const source = this.facetSource(field)
      const items = facetRows[field]
        .filter((r) => r.value !== null && r.value !== '')
        .map((r) => ({ key: source.key(String(r.value)), display: source.display(String(r.value)), count: Number(r.n) }))
      facets[field] = Object.fromEntries(items.map((i) => [i.key, i.count]))
      searchFacets[field] = {
        title: field,
        items: items
          .map((i) => ({ count: i.count, display_name: i.display, name: i.key }))
          .sort((a, b) => (a.display_name < b.display_name ? 1 : a.display_name > b.display_name ? -1 : 0)),
      }
    }
    return { count, sort: params.sort?.trim() || DEFAULT_SORT, results, facets, search_facets: searchFacets }
  }

  private facetSource(field: string): FacetSource {
    const ref = this.catalog.reference
    const vocab = this.catalog.vocab
    // One row per (dataset, value) in every source but resources, where a format may repeat: count(*) there.
    const charLength = this.catalog.store.dialect === 'mysql' ? sql`char_length` : sql`length`
    const grouped = (join: RawBuilder<unknown>, valueColumn: RawBuilder<unknown>, scope: SearchScope, limit: number, minCount: number, distinct = false) => {
      const count = distinct ? sql`count(distinct p.id)` : sql`count(*)`
      // Long values are left out before grouping: the database never sorts or sends them (FACET_VALUE_MAX_LENGTH).
      const shortValue = sql`(${valueColumn} is null or ${charLength}(${valueColumn}) <= ${FACET_VALUE_MAX_LENGTH})`
      return sql<{ value: string | null; n: number | string }>`select ${valueColumn} as value, ${count} as n from ${scope.from} ${join} where ${scope.where} and ${shortValue} group by ${valueColumn} having ${count} >= ${minCount} order by n desc, value asc limit ${limit}`
    }
    const identity = (v: string) => v
    switch (field) {
      case 'organization':
        return {
          count: (w, l, m) => grouped(sql``, sql`p.owner_org`, w, l, m),
          key: (id) => ref.organizations.get(id)?.name ?? id,
          display: (id) => ref.organizations.get(id)?.title ?? id,
        }
      case 'groups':
        return {
          count: (w, l, m) => grouped(sql`${w.join} package_theme g on g.package_id = p.id`, sql`g.theme_id`, w, l, m),
          key: (id) => ref.themes.get(id)?.name ?? id,
          display: (id) => ref.themes.get(id)?.title ?? id,
        }
      case 'tags':
        return {
          count: (w, l, m) => grouped(sql`${w.join} package_tag pt on pt.package_id = p.id ${w.join} tag t on t.id = pt.tag_id`, sql`t.name`, w, l, m),
          key: identity,
          display: identity,
        }
      case 'res_format':
        return {
          count: (w, l, m) => grouped(sql`${w.join} resource r on r.package_id = p.id and r.state = 'active'`, sql`r.format`, w, l, m, true),
          key: (v) => vocab.formatLabel(v),
          display: (v) => vocab.formatLabel(v),
        }
      case 'license_id':
        return {
          count: (w, l, m) => grouped(sql``, sql`p.license_id`, w, l, m),
          key: identity,
          display: (id) => ref.licenses.find((l) => l.id === id)?.title ?? id,
        }
      case 'quality_band':
      case 'quality_band_proportional':
        return {
          count: (w, l, m) => {
            const facet = qualityFacetSql(field, w.join)
            return grouped(facet.join, facet.value, w, l, m)
          },
          key: identity,
          display: identity,
        }
      default: {
        const column = SIMPLE_FACET_COLUMNS[field]
        if (column) return { count: (w, l, m) => grouped(sql``, sql.ref(column), w, l, m), key: identity, display: identity }
        if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(field)) throw new SearchQueryError(`cannot facet on "${field.slice(0, 60)}"`)
        const key = field.startsWith('extras_') ? field.slice('extras_'.length) : field
        return {
          count: (w, l, m) => grouped(sql`${w.join} package_extra e on e.package_id = p.id and e.${sql.ref('key')} = ${key}`, sql`e.value`, w, l, m),
          key: identity,
          display: identity,
        }
      }
    }
  }
}

const SIMPLE_FACET_COLUMNS = fieldTable<string>({
  name: 'p.name',
  author: 'p.author',
  maintainer: 'p.maintainer',
  version: 'p.version',
  state: 'p.state',
  type: 'p.type',
  dataset_type: 'p.type',
  owner_org: 'p.owner_org',
  num_resources: 'p.num_resources',
  num_tags: 'p.num_tags',
})

function orderBy(keys: SortKey[], useScore: boolean): RawBuilder<unknown>[] {
  const parts: RawBuilder<unknown>[] = []
  for (const key of keys) {
    const direction = key.direction === 'desc' ? sql`desc` : sql`asc`
    if (key.field === 'score') {
      if (useScore) parts.push(sql`coalesce(s.score, 0) ${direction}`)
      continue
    }
    if (isQualityField(key.field)) {
      parts.push(sql`${qualityOrderSql(key.field)} ${direction}`)
      continue
    }
    parts.push(sql`${sql.ref(SORT_COLUMNS[key.field])} ${direction}`)
  }
  // Ties are broken by id in the direction of the last key, so that one index can serve the whole order.
  const last = keys.filter((k) => k.field !== 'score' || useScore).at(-1)
  if (!keys.some((k) => k.field === 'id')) parts.push(last?.direction === 'desc' ? sql`p.id desc` : sql`p.id asc`)
  return parts
}

/** Documents loaded per statement for a page of results (see SearchResult.results). */
const DOCUMENT_BATCH = 50

/** Above this many hits without relevance, the page comes from SQL (an index walk) rather than a selection here. */
const SQL_PAGE_ABOVE = 20_000

/** The sort keys the in-memory index can order by besides score (title needs the titles, which it does not hold). */
const MEMORY_SORT_VALUES = fieldTable<(c: IndexColumns) => string[]>({ id: (c) => c.ids, name: (c) => c.names, metadata_modified: (c) => c.modified, metadata_created: (c) => c.created })
const MEMORY_SORTS = new Set(['score', 'quality_score', 'quality_score_proportional', ...Object.keys(MEMORY_SORT_VALUES)])

type Compare = (a: number, b: number) => number

/** The order of orderBy() below, over docs of the index. */
function memoryOrder(keys: SortKey[], score: Float64Array | null, columns: IndexColumns): Compare {
  const parts: Compare[] = []
  const text = (values: string[], desc: boolean): Compare => (a, b) => {
    const x = values[a]
    const y = values[b]
    return x === y ? 0 : (x < y ? -1 : 1) * (desc ? -1 : 1)
  }
  for (const key of keys) {
    const desc = key.direction === 'desc'
    if (key.field === 'score') {
      if (score) parts.push((a, b) => (score[a] - score[b]) * (desc ? -1 : 1))
      continue
    }
    if (isQualityField(key.field)) {
      const field = key.field
      parts.push((a, b) => compareQuality(columns.quality(a), columns.quality(b), field) * (desc ? -1 : 1))
      continue
    }
    parts.push(text(MEMORY_SORT_VALUES[key.field](columns), desc))
  }
  const last = keys.filter((k) => k.field !== 'score' || score).at(-1)
  if (!keys.some((k) => k.field === 'id')) parts.push(text(columns.ids, last?.direction === 'desc'))
  return (a, b) => {
    for (const part of parts) {
      const c = part(a, b)
      if (c !== 0) return c
    }
    return 0
  }
}

/**
 * Rows start..start+rows of the hits in that order: for the first pages a bounded selection (a binary heap
 * of start+rows docs whose root is the worst kept: O(hits · log k), no sort of all hits), a sort for deep ones.
 */
export function topHits(hits: ArrayLike<number>, compare: Compare, start: number, rows: number): number[] {
  const k = Math.min(start + rows, hits.length)
  if (k <= 0) return []
  if (k > 2000 || k * 4 > hits.length) return Array.from(hits).sort(compare).slice(start, start + rows)
  // Max-heap by `compare`: heap[0] is the last of the best k seen.
  const heap: number[] = []
  const worse = (i: number, j: number) => compare(heap[i], heap[j]) > 0
  const swap = (i: number, j: number) => {
    const x = heap[i]
    heap[i] = heap[j]!
    heap[j] = x
  }
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let top = i
      if (l < heap.length && worse(l, top)) top = l
      if (r < heap.length && worse(r, top)) top = r
      if (top === i) return
      swap(i, top)
      i = top
    }
  }
  for (let h = 0; h < hits.length; h++) {
    const doc = hits[h]
    if (heap.length < k) {
      heap.push(doc)
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1
        if (!worse(i, parent)) break
        swap(i, parent)
        i = parent
      }
    } else if (compare(doc, heap[0]) < 0) {
      heap[0] = doc
      down(0)
    }
  }
  return heap.sort(compare).slice(start, start + rows)
}

function visibilityOptions(params: Pick<SearchParams, 'includePrivate' | 'includeDrafts' | 'includeDeleted'>) {
  return { includePrivate: params.includePrivate, includeDrafts: params.includeDrafts, includeDeleted: params.includeDeleted }
}

function mentionsType(filters: Query[]): boolean {
  return filters.some((f) => /"field":"(dataset_type|type)"/.test(JSON.stringify(f)))
}

/** As SQL's char_length: code points, not UTF-16 units (counted only when it can matter). */
function withinFacetLength(value: string): boolean {
  return value.length <= FACET_VALUE_MAX_LENGTH || (value.length <= 2 * FACET_VALUE_MAX_LENGTH && [...value].length <= FACET_VALUE_MAX_LENGTH)
}

/** facet.limit (-1: all, at most FACET_LIMIT_MAX) and facet.mincount (at least 1) as both ways of counting apply them. */
function facetBounds(params: SearchParams): { limit: number; minCount: number } {
  return { limit: params.facetLimit < 0 ? FACET_LIMIT_MAX : Math.min(params.facetLimit, FACET_LIMIT_MAX), minCount: Math.max(params.facetMinCount, 1) }
}

/**
 * The last line of defence against a query too large for the database (the request budget of budget.ts
 * and the balanced conditions of sql-tree.ts should keep every query within them): the database's own
 * limits are the client's 400 Search Query Error, not a 500.
 */
async function withQueryLimits<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (isQueryLimitError(err)) throw new SearchQueryError('the query is too large for the database')
    throw err
  }
}

/** SQLite's and MySQL/MariaDB's errors for a statement beyond their limits (depth, terms, parameters, tables). */
const SQLITE_LIMIT_MESSAGES = /Expression tree is too large|too many terms in compound SELECT|too many SQL variables|too many FROM clause terms|at most \d+ tables in a join|parser stack overflow|LIKE or GLOB pattern too complex|expression tree is too large|string or blob too big/i
const MYSQL_LIMIT_CODES = new Set(['ER_STACK_OVERRUN_NEED_MORE', 'ER_TOO_MANY_TABLES', 'ER_PS_MANY_PARAM', 'ER_TOO_HIGH_LEVEL_OF_NESTING_FOR_SELECT', 'ER_TOO_BIG_SELECT', 'ER_NET_PACKET_TOO_LARGE'])

export function isQueryLimitError(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && MYSQL_LIMIT_CODES.has(code)) return true
  // MySQL's parser out of stack: a syntax error "memory exhausted near …".
  if (code === 'ER_PARSE_ERROR' && /memory exhausted/i.test(err.message)) return true
  return (code === 'SQLITE_ERROR' || code === 'SQLITE_TOOBIG') && SQLITE_LIMIT_MESSAGES.test(err.message)
}
