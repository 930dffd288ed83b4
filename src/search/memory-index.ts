import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/types.js'
import type { CatalogChange } from '../catalog/service.js'
import type { ReferenceCache } from '../catalog/reference.js'
import type { Vocabularies } from '../catalog/vocabularies.js'
import type { Query } from './ast.js'
import { parseSolrDate } from './datemath.js'
import { TEXT_FIELDS, wildcardIsPrefix, wildcardLiterals } from './compile.js'
import { termCondition } from './fulltext.js'
import { indexTerm, tokens } from './text.js'
import { isQualityField, qualityRangeMatch, qualityTermMatch, qualityValue, type QualityValues } from './quality-fields.js'

/**
 * The facet fields of the datasets everybody may see, held in memory, as Solr holds its facet fields
 * (docValues): counting facets is a pass over the hits, and MySQL spends 2-3 µs per hit on each join
 * from the hits to their rows (a frequent word, 14,000 hits: 200+ ms for four facets, ~2 ms here).
 *
 * It holds no documents: ids, owner, licence, themes, formats, tags and the two timestamps of the
 * visible datasets (~20 MB at 100,000). It is loaded on first use, then kept current by one rule: every
 * change this process applies marks its datasets, which are re-read (with the visibility flag, in SQL)
 * before the next search. Changes are this process's own writes (at once) and every other process's,
 * on any server, from the change feed (within one poll; catalog/change-feed.ts). No clock is compared.
 *
 * Full-text words come from `search_term` (one key range each), so a search of visible datasets with
 * words, facets and the common filters needs no join at all. Anything it cannot evaluate (phrases,
 * extras, private datasets, other sort keys) goes through SQL (search.ts), with the same results:
 * a test runs a corpus through both.
 */
export interface IndexedDataset {
  id: string
  name: string
  org: string | null
  license: string | null
  groups: string[]
  formats: string[]
  tags: string[]
  modified: string
  created: string
  /** The stored MQA scores and bands (quality-fields.ts), null when the dataset has none yet. */
  quality: QualityValues | null
  /**
   * The facet values as numbers (FacetCodes), all fields in one array for counting: FACET_FIELDS.length
   * end offsets, then the codes of each field in turn.
   */
  codes: Int32Array
}

export type FacetField = 'organization' | 'groups' | 'res_format' | 'license_id' | 'tags' | 'quality_band' | 'quality_band_proportional'

/** Numbers for the facet values of one field (never reused: a value keeps its number). */
class FacetCodes {
  readonly values: Array<string | null> = []
  private readonly numbers = new Map<string | null, number>()

  code(value: string | null): number {
    let n = this.numbers.get(value)
    if (n === undefined) {
      n = this.values.length
      this.values.push(value)
      this.numbers.set(value, n)
    }
    return n
  }
}

/** Facet fields counted here; others go through SQL. */
const FACET_FIELDS: FacetField[] = ['organization', 'groups', 'res_format', 'license_id', 'tags', 'quality_band', 'quality_band_proportional']
export const MEMORY_FACETS: ReadonlySet<string> = new Set(FACET_FIELDS)
const NO_CODES = new Int32Array(0)

export interface EvaluationContext {
  reference: ReferenceCache
  vocab: Vocabularies
  now: Date
}

/** A query compiled against the index: which datasets match, and the text scores of `q`. */
export interface Evaluation {
  /** The datasets to test (the ids of a required word's postings), or null for all visible datasets. */
  candidates: ReadonlyMap<string, number> | null
  matches(doc: IndexedDataset): boolean
  /** True when every visible dataset matches (no condition). */
  everything: boolean
  /** The postings read, by `t:<term>` (a word) or `p:<term>` (a prefix): dataset id -> field bits. */
  postings: ReadonlyMap<string, Map<string, number>>
}

type Leaf = { kind: 'text'; word: string; prefix: boolean }


export class VisibleDatasetIndex {
  private docs = new Map<string, IndexedDataset>()
  private loading: Promise<void> | null = null
  /** The first full load, started by warm(); until it is done, searches go through SQL (SearchService). */
  private warming: Promise<void> | null = null
  private loadedOnce = false
  private stale = true
  private dirty = new Set<string>()
  private readonly codes: Record<FacetField, FacetCodes> = {
    organization: new FacetCodes(),
    groups: new FacetCodes(),
    res_format: new FacetCodes(),
    license_id: new FacetCodes(),
    tags: new FacetCodes(),
    quality_band: new FacetCodes(),
    quality_band_proportional: new FacetCodes(),
  }

  constructor(private readonly db: Kysely<Database>) {}

  /** A write (here or relayed): its datasets are re-read before the next search. */
  changed(change: CatalogChange): void {
    if (change.kind === 'datasets') for (const key of change.keys) this.dirty.add(key)
    else if (change.kind === 'all') this.stale = true
    this.everyDoc = null
  }

  private everyDoc: IndexedDataset[] | null = null

  /** All visible datasets, as an array (kept until the next change). */
  all(): IndexedDataset[] {
    this.everyDoc ??= [...this.docs.values()]
    return this.everyDoc
  }

  /** Whether the first full load is done: from then on the index answers (kept current by current()). */
  get ready(): boolean {
    return this.loadedOnce
  }

  /**
   * Starts the first full load unless it runs or ran; resolves when it is done. A failed load is forgotten, so
   * that the next call tries again.
   */
  warm(): Promise<void> {
    this.warming ??= this.current().then(
      () => undefined,
      (err: unknown) => {
        this.warming = null
        throw err
      },
    )
    return this.warming
  }

  /** The index, current as of now (see the class comment). */
  async current(): Promise<Map<string, IndexedDataset>> {
    while (this.loading) await this.loading
    if (this.stale || this.dirty.size > 0) {
      this.loading = this.refresh().finally(() => (this.loading = null))
      await this.loading
    }
    return this.docs
  }

  private async refresh(): Promise<void> {
    this.everyDoc = null
    if (!this.stale && this.dirty.size > 0) {
      const keys = [...this.dirty]
      this.dirty.clear()
      if (keys.length > 2000) this.stale = true
      else await this.reload(keys)
    }
    if (this.stale) {
      this.dirty.clear()
      this.stale = false
      const docs = new Map<string, IndexedDataset>()
      await this.load(docs, null)
      this.docs = docs
      this.loadedOnce = true
    }
  }

  /** Re-reads some datasets (ids or names): visible ones are replaced, the others dropped. */
  private async reload(keys: string[]): Promise<void> {
    const fresh = new Map<string, IndexedDataset>()
    await this.load(fresh, keys)
    for (const key of keys) {
      const held = this.docs.get(key) ?? [...fresh.values()].find((d) => d.name === key)
      if (held && !fresh.has(held.id)) this.docs.delete(held.id)
      if (!held) {
        // A name: the dataset it named before the write may hold it still.
        for (const doc of this.docs.values()) if (doc.name === key && !fresh.has(doc.id)) this.docs.delete(doc.id)
      }
    }
    for (const doc of fresh.values()) this.docs.set(doc.id, doc)
  }

  private async load(into: Map<string, IndexedDataset>, keys: string[] | null): Promise<void> {
    const only = keys ? sql` and (p.id in (${sql.join(keys)}) or p.name in (${sql.join(keys)}))` : sql``
    const rows = await sql<{ id: string; name: string; owner_org: string | null; license_id: string | null; metadata_modified: string; metadata_created: string }>`select p.id, p.name, p.owner_org, p.license_id, p.metadata_modified, p.metadata_created from package p where p.visible = 1${only}`.execute(this.db)
    for (const r of rows.rows) {
      const codes = NO_CODES
      into.set(r.id, { id: r.id, name: r.name, org: r.owner_org, license: r.license_id, groups: [], formats: [], tags: [], modified: r.metadata_modified, created: r.metadata_created, quality: null, codes })
    }
    const themes = await sql<{ package_id: string; value: string }>`select g.package_id, g.theme_id as value from package_theme g join package p on p.id = g.package_id where p.visible = 1${only}`.execute(this.db)
    for (const r of themes.rows) into.get(r.package_id)?.groups.push(r.value)
    const formats = await sql<{ package_id: string; value: string }>`select distinct r.package_id, r.format as value from resource r join package p on p.id = r.package_id where p.visible = 1 and r.state = 'active'${only}`.execute(this.db)
    for (const r of formats.rows) into.get(r.package_id)?.formats.push(r.value)
    const tags = await sql<{ package_id: string; value: string }>`select pt.package_id, t.name as value from package_tag pt join tag t on t.id = pt.tag_id join package p on p.id = pt.package_id where p.visible = 1${only}`.execute(this.db)
    for (const r of tags.rows) into.get(r.package_id)?.tags.push(r.value)
    const quality = await sql<QualityValues & { package_id: string }>`select q.package_id, q.score_portal, q.band_portal, q.score_proportional, q.band_proportional from package_quality q join package p on p.id = q.package_id where p.visible = 1${only}`.execute(this.db)
    for (const r of quality.rows) {
      const doc = into.get(r.package_id)
      if (doc) doc.quality = { score_portal: Number(r.score_portal), band_portal: r.band_portal, score_proportional: Number(r.score_proportional), band_proportional: r.band_proportional }
    }
    for (const doc of into.values()) {
      const perField = FACET_FIELDS.map((field) => facetValues(doc, field).map((v) => this.codes[field].code(v)))
      const codes = new Int32Array(FACET_FIELDS.length + perField.reduce((n, c) => n + c.length, 0))
      let end = FACET_FIELDS.length
      perField.forEach((values, i) => {
        codes.set(values, end)
        end += values.length
        codes[i] = end
      })
      doc.codes = codes
    }
  }

  /** Facet counts over some datasets: [value, count] for each value counted at least once. */
  countFacet(docs: IndexedDataset[], field: FacetField): Array<[string | null, number]> {
    const dictionary = this.codes[field]
    const counts = new Int32Array(dictionary.values.length)
    const f = FACET_FIELDS.indexOf(field)
    for (let d = 0; d < docs.length; d++) {
      const codes = docs[d]!.codes
      const end = codes[f]!
      for (let i = f === 0 ? FACET_FIELDS.length : codes[f - 1]!; i < end; i++) counts[codes[i]!]!++
    }
    const out: Array<[string | null, number]> = []
    for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) out.push([dictionary.values[i]!, counts[i]!])
    return out
  }

  /**
   * The datasets (ids) with a word, or with a word beginning so, and each one's field bits. Summed by the
   * database: a short prefix (`a*`) spans many terms, but the answer has at most one row per dataset.
   */
  async postings(word: string, prefix: boolean): Promise<Map<string, number>> {
    const rows = prefix
      ? await sql<{ package_id: string; weight: number | string }>`select t.package_id, sum(t.weight) as weight from search_term t where ${termCondition(word, prefix)} group by t.package_id`.execute(this.db)
      : await sql<{ package_id: string; weight: number | string }>`select t.package_id, t.weight from search_term t where ${termCondition(word, prefix)}`.execute(this.db)
    return new Map(rows.rows.map((r) => [r.package_id, Number(r.weight)]))
  }
}

/**
 * Compiles a query for the index, as compile.ts compiles it for SQL; null when it uses anything the
 * index does not hold (then SQL answers). Text words are fetched first, so this is async.
 */
export async function evaluate(queries: Query[], index: VisibleDatasetIndex, ctx: EvaluationContext): Promise<Evaluation | null> {
  const leaves: Leaf[] = []
  for (const q of queries) if (!collectText(q, leaves)) return null
  const distinct = new Map(leaves.map((leaf) => [leafKey(leaf), leaf]))
  const postings = new Map<string, Map<string, number>>()
  await Promise.all([...distinct].map(async ([key, leaf]) => postings.set(key, await index.postings(leaf.word, leaf.prefix))))
  const predicates: Array<(doc: IndexedDataset) => boolean> = []
  for (const q of queries) {
    const predicate = compile(q, ctx, postings)
    if (!predicate) return null
    predicates.push(predicate)
  }
  // A required word narrows the datasets to test to its postings.
  let candidates: Map<string, number> | null = null
  for (const q of queries) {
    const required = requiredText(q)
    if (!required) continue
    const ids = postings.get(leafKey(required))!
    if (!candidates || ids.size < candidates.size) candidates = ids
  }
  const conditions = predicates.filter((p) => p !== ALL)
  const matches = conditions.length === 0 ? ALL : conditions.length === 1 ? conditions[0]! : (doc: IndexedDataset) => conditions.every((p) => p(doc))
  return { candidates, matches, everything: conditions.length === 0, postings }
}

/** Postings are keyed so: `t:<term>` for a word, `p:<term>` for a prefix. */
export function leafKey(leaf: { word: string; prefix: boolean }): string {
  return `${leaf.prefix ? 'p' : 't'}:${leaf.word}`
}

/**
 * The word of a text leaf (as compile.ts reads it); 'none' when it has no word (it matches everything),
 * null when the index cannot answer it: a phrase (several words) or one text field alone.
 */
function textWord(q: Query): Leaf | 'none' | null {
  if ((q.kind !== 'term' && q.kind !== 'wildcard') || (q.field !== null && !(q.field in TEXT_FIELDS))) return null
  const words = tokens(q.kind === 'term' ? q.value : wildcardLiterals(q))
  if (words.length === 0) return 'none'
  if (words.length > 1 || (q.field !== null && q.field !== 'text')) return null
  return { kind: 'text', word: indexTerm(words[0]!), prefix: q.kind === 'wildcard' && wildcardIsPrefix(q) }
}

/** Collects the text words of a tree; false when the tree has a text leaf the index cannot answer. */
function collectText(q: Query, out: Leaf[]): boolean {
  switch (q.kind) {
    case 'and':
    case 'or':
      return q.clauses.every((c) => collectText(c, out))
    case 'not':
      return collectText(q.clause, out)
    case 'term':
    case 'wildcard': {
      if (q.field !== null && !(q.field in TEXT_FIELDS)) return true
      const leaf = textWord(q)
      if (leaf === null) return false
      if (leaf !== 'none') out.push(leaf)
      return true
    }
    default:
      return true
  }
}

function requiredText(q: Query): Leaf | null {
  if (q.kind === 'term' || q.kind === 'wildcard') {
    const leaf = textWord(q)
    return leaf && leaf !== 'none' ? leaf : null
  }
  if (q.kind === 'and') {
    for (const c of q.clauses) {
      const leaf = requiredText(c)
      if (leaf) return leaf
    }
  }
  return null
}

type Predicate = (doc: IndexedDataset) => boolean
const ALL: Predicate = () => true
const NONE: Predicate = () => false

function compile(q: Query, ctx: EvaluationContext, postings: Map<string, Map<string, number>>): Predicate | null {
  switch (q.kind) {
    case 'all':
      return ALL
    case 'and': {
      const parts = q.clauses.map((c) => compile(c, ctx, postings))
      if (parts.some((p) => p === null)) return null
      return (doc) => parts.every((p) => p!(doc))
    }
    case 'or': {
      const parts = q.clauses.map((c) => compile(c, ctx, postings))
      if (parts.some((p) => p === null)) return null
      return (doc) => parts.some((p) => p!(doc))
    }
    case 'not': {
      const inner = compile(q.clause, ctx, postings)
      return inner ? (doc) => !inner(doc) : null
    }
    case 'term':
    case 'wildcard': {
      if (q.field === null || q.field in TEXT_FIELDS) {
        const leaf = textWord(q)
        if (leaf === null) return null
        if (leaf === 'none') return ALL
        const ids = postings.get(leafKey(leaf))!
        return (doc) => ids.has(doc.id)
      }
      return q.kind === 'term' ? compileField(q.field, q.value, q.phrase, ctx) : null
    }
    case 'range':
      return compileDateRange(q.field, q.from?.raw ?? null, q.to?.raw ?? null, q.includeFrom, q.includeTo, ctx)
    default:
      return null
  }
}

function compileField(field: string, value: string, phrase: boolean, ctx: EvaluationContext): Predicate | null {
  switch (field) {
    case 'site_id':
    case 'entity_type':
      return ALL
    case 'organization': {
      const id = ctx.reference.organization(value)?.id
      return id ? (doc) => doc.org === id : NONE
    }
    case 'groups': {
      const theme = ctx.reference.theme(value)
      return theme ? (doc) => doc.groups.includes(theme.id) : NONE
    }
    case 'tags':
      return (doc) => doc.tags.includes(value)
    case 'license_id':
    case 'license': {
      const id = ctx.vocab.licenseToId(value)
      return (doc) => doc.license === id
    }
    case 'res_format': {
      const uri = ctx.vocab.formatToUri(value)
      return (doc) => doc.formats.includes(uri)
    }
    case 'capacity':
      return value === 'public' ? ALL : NONE
    case 'metadata_modified':
    case 'metadata_created': {
      const bound = { raw: value, quoted: phrase }
      return compileDateRange(field, bound.raw, bound.raw, true, true, ctx)
    }
    default: {
      if (!isQualityField(field)) return null
      const match = qualityTermMatch(field, value)
      return (doc) => match(doc.quality)
    }
  }
}

function compileDateRange(field: string, from: string | null, to: string | null, includeFrom: boolean, includeTo: boolean, ctx: EvaluationContext): Predicate | null {
  if (isQualityField(field)) {
    const match = qualityRangeMatch(field, from, to, includeFrom, includeTo)
    return (doc) => match(doc.quality)
  }
  if (field !== 'metadata_modified' && field !== 'metadata_created') return null
  const lower = from === null ? null : parseSolrDate(from, ctx.now).iso
  const upper = to === null ? null : parseSolrDate(to, ctx.now).iso
  const value = field === 'metadata_modified' ? (doc: IndexedDataset) => doc.modified : (doc: IndexedDataset) => doc.created
  return (doc) => {
    const v = value(doc)
    if (lower !== null && (includeFrom ? v < lower : v <= lower)) return false
    if (upper !== null && (includeTo ? v > upper : v >= upper)) return false
    return true
  }
}

/** Facet values of a dataset for a field counted here. */
export function facetValues(doc: IndexedDataset, field: string): Array<string | null> {
  switch (field) {
    case 'organization':
      return [doc.org]
    case 'license_id':
      return [doc.license]
    case 'groups':
      return doc.groups
    case 'res_format':
      return doc.formats
    case 'tags':
      return doc.tags
    case 'quality_band':
    case 'quality_band_proportional':
      return doc.quality ? [qualityValue(doc.quality, field) as string] : []
    default:
      return []
  }
}
