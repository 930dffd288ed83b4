import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { Database } from '../db/types.js'
import type { CatalogChange } from '../catalog/service.js'
import type { ReferenceCache } from '../catalog/reference.js'
import type { Vocabularies } from '../catalog/vocabularies.js'
import type { Query } from './ast.js'
import { parseSolrDate } from './datemath.js'
import { TEXT_FIELDS, wildcardIsPrefix, wildcardLiterals } from './compile.js'
import { indexTerm, postings as textPostings, tokens } from './text.js'
import { isQualityField, qualityRangeMatch, qualityTermMatch, type QualityValues } from './quality-fields.js'

/**
 * The visible datasets (what anonymous callers and harvesters search), held in memory as Solr holds its
 * index: the inverted index of their full text and their facet and sort fields. A search of them with words,
 * facets and the common filters reads no row: MySQL spends ~1 µs per posting row it sends (a word in 94,000
 * datasets: 250+ ms) and 2-3 µs per hit on each join from the hits to their facet rows.
 *
 * Compact by layout: every dataset is a number (its "doc"), every field a column indexed by it (typed arrays;
 * strings only for id, name and the two timestamps); facet values are interned (FacetCodes) and held once;
 * multi-valued fields are ranges of one Int32Array each; postings are one Uint32Array of docs (ascending per
 * term) and one Uint8Array of field bits, by term ranges. Measured on 95,938 visible datasets (5.7 million
 * postings, 100,846 terms), in one process after a full GC: 37 MB of V8 heap and 73 MB of typed arrays, RSS
 * +179 MB (the per-object index before it, without postings: 153 MB of heap, RSS +302 MB). The postings are
 * computed from `package_text` with the function that writes `search_term` (text.ts postings()), so they are
 * the rows SQL reads. The load reads PAGE datasets per statement and keeps nothing of the rows.
 *
 * Coherence: loaded on first use, then kept current by one rule: every change this process applies marks
 * its datasets, which are re-read (with the visibility flag, in SQL) before the next search. Changes are
 * this process's own writes (at once) and every other process's, on any server, from the change feed
 * (within one poll; catalog/change-feed.ts). No clock is compared. A re-read dataset gets a new doc (the
 * old one is marked dead) and its postings are appended to its terms (docs ascend, so lists stay sorted);
 * once dead docs outnumber the live ones, or a change names all datasets, the index is loaded anew.
 *
 * Anything it cannot evaluate (phrases, one text field, extras, private datasets, other sort keys and facets)
 * goes through SQL (search.ts), with the same results: a test runs a corpus through both.
 */

export type FacetField = 'organization' | 'groups' | 'res_format' | 'license_id' | 'tags' | 'quality_band' | 'quality_band_proportional'

/** Numbers for the facet values of one field (never reused while the index lives: a value keeps its number). */
export class FacetCodes {
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

  /** The number of a value, -1 when no dataset had it. */
  lookup(value: string | null): number {
    return this.numbers.get(value) ?? -1
  }
}

/** Facet fields counted here; others go through SQL. */
const FACET_FIELDS: FacetField[] = ['organization', 'groups', 'res_format', 'license_id', 'tags', 'quality_band', 'quality_band_proportional']
export const MEMORY_FACETS: ReadonlySet<string> = new Set(FACET_FIELDS)
type MultiField = 'groups' | 'res_format' | 'tags'
const MULTI_FIELDS: MultiField[] = ['groups', 'res_format', 'tags']

/**
 * Datasets read per statement while loading. The rows of one page are garbage before the next is read; small
 * pages die in the young generation instead of being promoted and kept as committed old space (measured at
 * 100,000 datasets: a worker's RSS after the load ~270 MB with 250, ~300-440 MB with 2,000).
 */
const PAGE = 250
/**
 * Keys (ids and names) re-read per statement when changed datasets are re-read. A change naming more keys than
 * the index has live datasets (each dataset is named by id and name: more than half of them changed) loads the
 * whole index instead; fewer are re-read a chunk at a time, so that a large change of one Kommune (a rescore after
 * its edit, a harvest) costs what it names, not a full load of the catalog in every process.
 */
export const RELOAD_CHUNK = 2000

export interface EvaluationContext {
  reference: ReferenceCache
  vocab: Vocabularies
  now: Date
}

/** A growable typed array (capacity doubles, through grown()). */
class GrowableList<T extends Int32Array | Uint8Array> {
  length = 0
  constructor(public data: T) {}
  push(value: number): void {
    if (this.length === this.data.length) this.data = grown(this.data, this.length + 1)
    this.data[this.length++] = value
  }
  /** Exactly the used part, as a fresh array (the capacity is released). */
  trimmed(): T {
    return this.data.slice(0, this.length) as T
  }
}

/** Int32 values (the multi-valued columns, the load's term numbers). */
class IntList extends GrowableList<Int32Array> {
  constructor(capacity = 1024) {
    super(new Int32Array(capacity))
  }
}

/** The field bits of the load, 1 byte each. */
class ByteList extends GrowableList<Uint8Array> {
  constructor(capacity = 1024) {
    super(new Uint8Array(capacity))
  }
}

/** Grows a typed array to hold at least `min` entries, keeping its contents. */
function grown<T extends Int32Array | Uint8Array | Float64Array>(array: T, min: number, fill?: number): T {
  if (array.length >= min) return array
  const next = new (array.constructor as new (n: number) => T)(Math.max(min, array.length * 2, 1024))
  next.set(array)
  if (fill !== undefined) next.fill(fill, array.length)
  return next
}

/** The postings of one term added after the full load (docs ascending). */
interface PostingTail {
  docs: number[]
  weights: number[]
}

/** The datasets with a word (or with words beginning so): docs ascending, each with its summed field bits. */
export interface PostingList {
  docs: Uint32Array | Int32Array
  weights: Uint8Array | Int32Array
}

const EMPTY_POSTINGS: PostingList = { docs: new Uint32Array(0), weights: new Uint8Array(0) }

/** Everything the index holds, replaced whole by a full load. */
class Columns {
  /** Docs allocated (live and dead). */
  size = 0
  live = 0
  alive = new Uint8Array(0)
  ids: string[] = []
  names: string[] = []
  modified: string[] = []
  created: string[] = []
  readonly byId = new Map<string, number>()
  readonly byName = new Map<string, number>()
  org = new Int32Array(0)
  license = new Int32Array(0)
  scorePortal = new Float64Array(0)
  scoreProportional = new Float64Array(0)
  /** quality_band / quality_band_proportional codes, -1 when the dataset has no scores. */
  bandPortal = new Int32Array(0)
  bandProportional = new Int32Array(0)
  /** Per multi-valued field: the range [start, end) of each doc's codes in `values`. */
  readonly multi: Record<MultiField, { start: Int32Array; end: Int32Array; values: IntList }> = {
    groups: { start: new Int32Array(0), end: new Int32Array(0), values: new IntList() },
    res_format: { start: new Int32Array(0), end: new Int32Array(0), values: new IntList() },
    tags: { start: new Int32Array(0), end: new Int32Array(0), values: new IntList() },
  }
  readonly codes: Record<FacetField, FacetCodes> = {
    organization: new FacetCodes(),
    groups: new FacetCodes(),
    res_format: new FacetCodes(),
    license_id: new FacetCodes(),
    tags: new FacetCodes(),
    quality_band: new FacetCodes(),
    quality_band_proportional: new FacetCodes(),
  }
  /** Term -> term number; `termStart/termEnd` give a term's range of the full load's postings. */
  readonly terms = new Map<string, number>()
  termStrings: string[] = []
  termStart = new Int32Array(0)
  termEnd = new Int32Array(0)
  postingDocs = new Uint32Array(0)
  postingWeights = new Uint8Array(0)
  /** Postings of docs added after the full load, by term number. */
  readonly tails = new Map<number, PostingTail>()

  private ensure(n: number): void {
    if (this.alive.length >= n) return
    this.alive = grown(this.alive, n)
    this.org = grown(this.org, n)
    this.license = grown(this.license, n)
    this.scorePortal = grown(this.scorePortal, n, NaN)
    this.scoreProportional = grown(this.scoreProportional, n, NaN)
    this.bandPortal = grown(this.bandPortal, n, -1)
    this.bandProportional = grown(this.bandProportional, n, -1)
    for (const field of MULTI_FIELDS) {
      this.multi[field].start = grown(this.multi[field].start, n)
      this.multi[field].end = grown(this.multi[field].end, n)
    }
  }

  /** A new doc for a dataset row (its multi-valued fields empty, no scores). */
  add(row: PackageRow): number {
    const doc = this.size++
    this.ensure(this.size)
    this.alive[doc] = 1
    this.live++
    this.ids[doc] = row.id
    this.names[doc] = row.name
    this.modified[doc] = row.metadata_modified
    this.created[doc] = row.metadata_created
    this.byId.set(row.id, doc)
    this.byName.set(row.name, doc)
    this.org[doc] = this.codes.organization.code(row.owner_org)
    this.license[doc] = this.codes.license_id.code(row.license_id)
    this.scorePortal[doc] = NaN
    this.scoreProportional[doc] = NaN
    this.bandPortal[doc] = -1
    this.bandProportional[doc] = -1
    return doc
  }

  kill(doc: number): void {
    if (!this.alive[doc]) return
    this.alive[doc] = 0
    this.live--
    if (this.byId.get(this.ids[doc]) === doc) this.byId.delete(this.ids[doc])
    if (this.byName.get(this.names[doc]) === doc) this.byName.delete(this.names[doc])
  }

  /** Sets a doc's values of a multi-valued field (appended to the field's values; a doc is written once). */
  setMulti(field: MultiField, doc: number, values: Array<string | null>): void {
    const m = this.multi[field]
    const dictionary = this.codes[field]
    m.start[doc] = m.values.length
    for (const v of values) m.values.push(dictionary.code(v))
    m.end[doc] = m.values.length
  }

  setQuality(doc: number, q: QualityValues): void {
    this.scorePortal[doc] = q.score_portal
    this.scoreProportional[doc] = q.score_proportional
    this.bandPortal[doc] = this.codes.quality_band.code(q.band_portal)
    this.bandProportional[doc] = this.codes.quality_band_proportional.code(q.band_proportional)
  }

  termNumber(term: string): number {
    let n = this.terms.get(term)
    if (n === undefined) {
      n = this.termStrings.length
      // A copy: a token of split() may be a slice that keeps its whole document alive.
      term = term.length >= 13 ? Buffer.from(term, 'utf8').toString('utf8') : term
      this.termStrings.push(term)
      this.terms.set(term, n)
    }
    return n
  }

  /** The stored MQA values of a doc (as quality-fields.ts reads them), null without scores. */
  quality(doc: number): QualityValues | null {
    const band = this.bandPortal[doc]
    if (band < 0) return null
    return {
      score_portal: this.scorePortal[doc],
      band_portal: this.codes.quality_band.values[band]!,
      score_proportional: this.scoreProportional[doc],
      band_proportional: this.codes.quality_band_proportional.values[this.bandProportional[doc]]!,
    }
  }

  /** The postings of one term (dead docs included: callers test `alive`). */
  termPostings(term: number): PostingList {
    const tail = this.tails.get(term)
    const base =
      term < this.termStart.length
        ? { docs: this.postingDocs.subarray(this.termStart[term], this.termEnd[term]), weights: this.postingWeights.subarray(this.termStart[term], this.termEnd[term]) }
        : EMPTY_POSTINGS
    if (!tail) return base
    const docs = new Uint32Array(base.docs.length + tail.docs.length)
    const weights = new Uint8Array(docs.length)
    docs.set(base.docs)
    docs.set(tail.docs, base.docs.length)
    weights.set(base.weights)
    weights.set(tail.weights, base.docs.length)
    return { docs, weights }
  }

  /** Appends a doc's postings after the full load (its doc is above every doc held, so lists stay sorted). */
  addPostings(doc: number, text: { title: string; tags: string; body: string }): void {
    for (const p of textPostings(text)) {
      const term = this.termNumber(p.term)
      let tail = this.tails.get(term)
      if (!tail) this.tails.set(term, (tail = { docs: [], weights: [] }))
      tail.docs.push(doc)
      tail.weights.push(p.weight)
    }
  }
}

interface PackageRow {
  id: string
  name: string
  owner_org: string | null
  license_id: string | null
  metadata_modified: string
  metadata_created: string
}

export class VisibleDatasetIndex {
  private columns = new Columns()
  private loading: Promise<void> | null = null
  /** The first full load, started by warm(); until it is done, searches go through SQL (SearchService). */
  private warming: Promise<void> | null = null
  private loadedOnce = false
  private stale = true
  private dirty = new Set<string>()
  private liveDocs: Uint32Array | null = null
  /** Full loads done (the first included): for tests and operators' diagnostics. */
  fullLoads = 0

  constructor(private readonly db: Kysely<Database>) {}

  /** A write (here or relayed): its datasets are re-read before the next search. */
  changed(change: CatalogChange): void {
    if (change.kind === 'datasets') for (const key of change.keys) this.dirty.add(key)
    else if (change.kind === 'all') this.stale = true
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

  /** Brings the index up to date (see the class comment); searches call it first. */
  async current(): Promise<void> {
    while (this.loading) await this.loading
    if (this.stale || this.dirty.size > 0) {
      this.loading = this.refresh().finally(() => (this.loading = null))
      await this.loading
    }
  }

  /** Live docs (ascending), kept until the next change. */
  all(): Uint32Array {
    if (!this.liveDocs) {
      const c = this.columns
      const out = new Uint32Array(c.live)
      let n = 0
      for (let d = 0; d < c.size; d++) if (c.alive[d]) out[n++] = d
      this.liveDocs = out
    }
    return this.liveDocs
  }

  /** The columns (read-only for callers; replaced by a full load). */
  get data(): Columns {
    return this.columns
  }

  private async refresh(): Promise<void> {
    this.liveDocs = null
    if (!this.stale && this.dirty.size > 0) {
      const keys = [...this.dirty]
      this.dirty.clear()
      if (keys.length > Math.max(RELOAD_CHUNK, this.columns.live)) this.stale = true
      else {
        for (let i = 0; i < keys.length; i += RELOAD_CHUNK) {
          try {
            await this.reload(keys.slice(i, i + RELOAD_CHUNK))
          } catch (err) {
            // Still to be re-read: dropped keys would leave a changed (say, now private) dataset as it was.
            for (const key of keys.slice(i)) this.dirty.add(key)
            throw err
          }
        }
        // Dead docs cost memory and a test per posting: beyond the live ones, load anew.
        if (this.columns.size - this.columns.live > Math.max(1000, this.columns.live)) this.stale = true
      }
    }
    if (this.stale) {
      // Changes arriving during the load mark the index again for the next refresh; a failed load leaves it stale.
      this.dirty.clear()
      this.stale = false
      try {
        this.columns = await this.loadAll()
        this.fullLoads++
      } catch (err) {
        this.stale = true
        throw err
      }
      this.liveDocs = null
      this.loadedOnce = true
    }
  }

  /** Re-reads some datasets (ids or names): each one held under such a key is dropped, the visible ones added anew. */
  private async reload(keys: string[]): Promise<void> {
    const c = this.columns
    const only = sql` and (p.id in (${sql.join(keys)}) or p.name in (${sql.join(keys)}))`
    const rows = await this.rows(only)
    const docs = await this.children(only, rows)
    for (const key of keys) {
      const byId = c.byId.get(key)
      if (byId !== undefined) c.kill(byId)
      const byName = c.byName.get(key)
      if (byName !== undefined) c.kill(byName)
    }
    for (const row of rows) {
      const held = c.byId.get(row.id)
      if (held !== undefined) c.kill(held)
      const doc = c.add(row)
      this.fill(c, doc, docs.get(row.id)!)
      c.addPostings(doc, docs.get(row.id)!.text)
    }
  }

  private async rows(only: RawBuilder<unknown>): Promise<PackageRow[]> {
    return (await sql<PackageRow>`select p.id, p.name, p.owner_org, p.license_id, p.metadata_modified, p.metadata_created from package p where p.visible = 1${only} order by p.id`.execute(this.db)).rows
  }

  /** The child rows of some datasets (the condition `only` on `p`), by dataset id. */
  private async children(only: RawBuilder<unknown>, rows: PackageRow[]): Promise<Map<string, Children>> {
    const out = new Map<string, Children>(rows.map((r) => [r.id, { groups: [], res_format: [], tags: [], quality: null, text: { title: '', tags: '', body: '' } }]))
    if (rows.length === 0) return out
    const themes = await sql<{ package_id: string; value: string }>`select g.package_id, g.theme_id as value from package_theme g join package p on p.id = g.package_id where p.visible = 1${only}`.execute(this.db)
    for (const r of themes.rows) out.get(r.package_id)?.groups.push(r.value)
    const formats = await sql<{ package_id: string; value: string }>`select distinct r.package_id, r.format as value from resource r join package p on p.id = r.package_id where p.visible = 1 and r.state = 'active'${only}`.execute(this.db)
    for (const r of formats.rows) out.get(r.package_id)?.res_format.push(r.value)
    const tags = await sql<{ package_id: string; value: string }>`select pt.package_id, t.name as value from package_tag pt join tag t on t.id = pt.tag_id join package p on p.id = pt.package_id where p.visible = 1${only}`.execute(this.db)
    for (const r of tags.rows) out.get(r.package_id)?.tags.push(r.value)
    const quality = await sql<QualityValues & { package_id: string }>`select q.package_id, q.score_portal, q.band_portal, q.score_proportional, q.band_proportional from package_quality q join package p on p.id = q.package_id where p.visible = 1${only}`.execute(this.db)
    for (const r of quality.rows) {
      const c = out.get(r.package_id)
      if (c) c.quality = { score_portal: Number(r.score_portal), band_portal: r.band_portal, score_proportional: Number(r.score_proportional), band_proportional: r.band_proportional }
    }
    const texts = await sql<{ package_id: string; title: string; tags: string; body: string }>`select x.package_id, x.title, x.tags, x.body from package_text x join package p on p.id = x.package_id where p.visible = 1${only}`.execute(this.db)
    for (const r of texts.rows) {
      const c = out.get(r.package_id)
      if (c) c.text = { title: r.title, tags: r.tags, body: r.body }
    }
    return out
  }

  private fill(c: Columns, doc: number, children: Children): void {
    c.setMulti('groups', doc, children.groups)
    c.setMulti('res_format', doc, children.res_format)
    c.setMulti('tags', doc, children.tags)
    if (children.quality) c.setQuality(doc, children.quality)
  }

  /**
   * A full load, PAGE datasets at a time (keyset on id): each page's rows are dropped before the next is
   * read. The postings are gathered by doc, then laid out by term (a counting sort: docs ascend per term).
   */
  private async loadAll(): Promise<Columns> {
    const c = new Columns()
    const docTerms = new IntList(1 << 16)
    const docWeights = new ByteList(1 << 16)
    let after: string | null = null
    for (;;) {
      const keyset: RawBuilder<unknown> = after === null ? sql`` : sql` and p.id > ${after}`
      const rows: PackageRow[] = (await sql<PackageRow>`select p.id, p.name, p.owner_org, p.license_id, p.metadata_modified, p.metadata_created from package p where p.visible = 1${keyset} order by p.id limit ${PAGE}`.execute(this.db)).rows
      if (rows.length === 0) break
      after = rows[rows.length - 1].id
      const only = sql` and p.id >= ${rows[0].id} and p.id <= ${after}`
      const children = await this.children(only, rows)
      for (const row of rows) {
        const doc = c.add(row)
        const mine = children.get(row.id)!
        this.fill(c, doc, mine)
        for (const p of textPostings(mine.text)) {
          docTerms.push(c.termNumber(p.term))
          docWeights.push(p.weight)
        }
        // The end of a doc's terms (docs are numbered in this order).
        docTerms.push(-1)
        docWeights.push(0)
      }
      if (rows.length < PAGE) break
    }
    const terms = c.termStrings.length
    const counts = new Int32Array(terms + 1)
    for (let i = 0; i < docTerms.length; i++) {
      const term = docTerms.data[i]
      if (term >= 0) counts[term + 1]++
    }
    for (let t = 0; t < terms; t++) counts[t + 1] += counts[t]
    const start = counts.slice(0, terms)
    const next = counts.slice(0, terms)
    const total = counts[terms]
    const postingDocs = new Uint32Array(total)
    const postingWeights = new Uint8Array(total)
    let doc = 0
    for (let i = 0; i < docTerms.length; i++) {
      const term = docTerms.data[i]
      if (term < 0) {
        doc++
        continue
      }
      const at = next[term]++
      postingDocs[at] = doc
      postingWeights[at] = docWeights.data[i]!
    }
    c.termStart = start
    c.termEnd = next
    c.postingDocs = postingDocs
    c.postingWeights = postingWeights
    for (const field of MULTI_FIELDS) c.multi[field].values.data = c.multi[field].values.trimmed()
    return c
  }

  /** Facet counts over some docs: [value, count] for each value counted at least once. */
  countFacet(docs: ArrayLike<number>, field: FacetField): Array<[string | null, number]> {
    const c = this.columns
    const dictionary = c.codes[field]
    const counts = new Int32Array(dictionary.values.length)
    const n = docs.length
    if (field === 'organization' || field === 'license_id') {
      const column = field === 'organization' ? c.org : c.license
      for (let i = 0; i < n; i++) counts[column[docs[i]]]++
    } else if (field === 'quality_band' || field === 'quality_band_proportional') {
      const column = field === 'quality_band' ? c.bandPortal : c.bandProportional
      for (let i = 0; i < n; i++) {
        const code = column[docs[i]]
        if (code >= 0) counts[code]++
      }
    } else {
      const { start, end, values } = c.multi[field]
      const data = values.data
      for (let i = 0; i < n; i++) {
        const d = docs[i]
        for (let j = start[d], e = end[d]; j < e; j++) counts[data[j]]++
      }
    }
    const out: Array<[string | null, number]> = []
    for (let i = 0; i < counts.length; i++) if (counts[i] > 0) out.push([dictionary.values[i]!, counts[i]])
    return out
  }

  /**
   * The docs with a word, or with a word beginning so, with their field bits (summed over the terms of a
   * prefix, as SQL sums the rows of its range). Dead docs are left out.
   */
  postings(word: string, prefix: boolean): PostingList {
    const c = this.columns
    const matching = this.matchingTerms(indexTerm(word), prefix)
    let list: PostingList
    if (matching.length === 0) list = EMPTY_POSTINGS
    else if (matching.length === 1) list = c.termPostings(matching[0])
    else {
      {
        const sum = new Int32Array(c.size)
        const seen = new Uint8Array(c.size)
        let hits = 0
        for (const n of matching) {
          const { docs, weights } = c.termPostings(n)
          for (let i = 0; i < docs.length; i++) {
            const d = docs[i]
            if (!seen[d]) {
              seen[d] = 1
              hits++
            }
            sum[d] += weights[i]
          }
        }
        const docs = new Int32Array(hits)
        const weights = new Int32Array(hits)
        let k = 0
        for (let d = 0; d < c.size && k < hits; d++) if (seen[d]) {
          docs[k] = d
          weights[k++] = sum[d]!
        }
        list = { docs, weights }
      }
    }
    // Only live docs.
    let dead = 0
    for (let i = 0; i < list.docs.length; i++) if (!c.alive[list.docs[i]]) dead++
    if (dead === 0) return list
    const docs = new Int32Array(list.docs.length - dead)
    const weights = new Int32Array(docs.length)
    let k = 0
    for (let i = 0; i < list.docs.length; i++) if (c.alive[list.docs[i]]) {
        docs[k] = list.docs[i]!
        weights[k++] = list.weights[i]!
      }
    return { docs, weights }
  }

  /**
   * The term numbers of a word, or of the terms in SQL's range of a prefix, [term, term + U+10FFFF): those
   * that begin with it (a folded term holds no U+10FFFF).
   */
  matchingTerms(term: string, prefix: boolean): number[] {
    const c = this.columns
    if (!prefix) {
      const n = c.terms.get(term)
      return n === undefined ? [] : [n]
    }
    const out: number[] = []
    const strings = c.termStrings
    for (let n = 0; n < strings.length; n++) if (strings[n].startsWith(term)) out.push(n)
    return out
  }

}

interface Children {
  groups: string[]
  res_format: string[]
  tags: string[]
  quality: QualityValues | null
  text: { title: string; tags: string; body: string }
}

type Leaf = { kind: 'text'; word: string; prefix: boolean }

/** A query compiled against the index: which docs match, and the postings of its words. */
export interface Evaluation {
  /** The docs to test (a required word's postings), or null for all live docs. */
  candidates: PostingList | null
  matches: Predicate
  /** True when every visible dataset matches (no condition). */
  everything: boolean
  /** The postings read, by `t:<term>` (a word) or `p:<term>` (a prefix). */
  postings: ReadonlyMap<string, PostingList>
}

/** Membership of a posting list, as a bitset over the docs (built on first use). */
class DocSet {
  private bits: Uint8Array | null = null
  constructor(
    private readonly list: PostingList,
    private readonly size: number,
  ) {}
  has(doc: number): boolean {
    if (!this.bits) {
      this.bits = new Uint8Array(this.size)
      const docs = this.list.docs
      for (let i = 0; i < docs.length; i++) this.bits[docs[i]] = 1
    }
    return this.bits[doc] === 1
  }
}

/**
 * Compiles a query for the index, as compile.ts compiles it for SQL; null when it uses anything the
 * index does not hold (then SQL answers).
 */
export function evaluate(queries: Query[], index: VisibleDatasetIndex, ctx: EvaluationContext): Evaluation | null {
  const leaves: Leaf[] = []
  for (const q of queries) if (!collectText(q, leaves)) return null
  const postings = new Map<string, PostingList>()
  for (const leaf of leaves) {
    const key = leafKey(leaf)
    if (!postings.has(key)) postings.set(key, index.postings(leaf.word, leaf.prefix))
  }
  const sets = new Map([...postings].map(([key, list]) => [key, new DocSet(list, index.data.size)]))
  const predicates: Predicate[] = []
  for (const q of queries) {
    const predicate = compile(q, ctx, index.data, sets)
    if (!predicate) return null
    predicates.push(predicate)
  }
  // A required word narrows the docs to test to its postings: the shortest one.
  let candidates: PostingList | null = null
  for (const q of queries) {
    for (const required of requiredText(q)) {
      const list = postings.get(leafKey(required))!
      if (!candidates || list.docs.length < candidates.docs.length) candidates = list
    }
  }
  const conditions = predicates.filter((p) => p !== ALL)
  const matches = conditions.length === 0 ? ALL : conditions.length === 1 ? conditions[0] : (doc: number) => conditions.every((p) => p(doc))
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
  return { kind: 'text', word: indexTerm(words[0]), prefix: q.kind === 'wildcard' && wildcardIsPrefix(q) }
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

/** The words every match must have (the leaf itself, or the required words of an AND's clauses). */
function requiredText(q: Query): Leaf[] {
  if (q.kind === 'term' || q.kind === 'wildcard') {
    const leaf = textWord(q)
    return leaf && leaf !== 'none' ? [leaf] : []
  }
  if (q.kind === 'and') return q.clauses.flatMap(requiredText)
  return []
}

type Predicate = (doc: number) => boolean
const ALL: Predicate = () => true
const NONE: Predicate = () => false

function compile(q: Query, ctx: EvaluationContext, c: Columns, sets: Map<string, DocSet>): Predicate | null {
  switch (q.kind) {
    case 'all':
      return ALL
    case 'and': {
      const parts = q.clauses.map((x) => compile(x, ctx, c, sets))
      if (parts.some((p) => p === null)) return null
      return (doc) => parts.every((p) => p!(doc))
    }
    case 'or': {
      const parts = q.clauses.map((x) => compile(x, ctx, c, sets))
      if (parts.some((p) => p === null)) return null
      return (doc) => parts.some((p) => p!(doc))
    }
    case 'not': {
      const inner = compile(q.clause, ctx, c, sets)
      return inner ? (doc) => !inner(doc) : null
    }
    case 'term':
    case 'wildcard': {
      if (q.field === null || q.field in TEXT_FIELDS) {
        const leaf = textWord(q)
        if (leaf === null) return null
        if (leaf === 'none') return ALL
        const set = sets.get(leafKey(leaf))!
        return (doc) => set.has(doc)
      }
      return q.kind === 'term' ? compileField(q.field, q.value, q.phrase, ctx, c) : null
    }
    case 'range':
      return compileDateRange(q.field, q.from?.raw ?? null, q.to?.raw ?? null, q.includeFrom, q.includeTo, ctx, c)
    default:
      return null
  }
}

/** Docs whose field holds a value (by code; -1: no dataset has it). */
function hasCode(c: Columns, field: MultiField, code: number): Predicate {
  if (code < 0) return NONE
  const { start, end, values } = c.multi[field]
  return (doc) => {
    const data = values.data
    for (let j = start[doc], e = end[doc]; j < e; j++) if (data[j] === code) return true
    return false
  }
}

function compileField(field: string, value: string, phrase: boolean, ctx: EvaluationContext, c: Columns): Predicate | null {
  switch (field) {
    case 'site_id':
    case 'entity_type':
      return ALL
    case 'organization': {
      const id = ctx.reference.organization(value)?.id
      const code = id ? c.codes.organization.lookup(id) : -1
      return code < 0 ? NONE : (doc) => c.org[doc] === code
    }
    case 'groups': {
      const theme = ctx.reference.theme(value)
      return theme ? hasCode(c, 'groups', c.codes.groups.lookup(theme.id)) : NONE
    }
    case 'tags':
      return hasCode(c, 'tags', c.codes.tags.lookup(value))
    case 'license_id':
    case 'license': {
      const code = c.codes.license_id.lookup(ctx.vocab.licenseToId(value))
      return code < 0 ? NONE : (doc) => c.license[doc] === code
    }
    case 'res_format':
      return hasCode(c, 'res_format', c.codes.res_format.lookup(ctx.vocab.formatToUri(value)))
    case 'capacity':
      return value === 'public' ? ALL : NONE
    case 'metadata_modified':
    case 'metadata_created': {
      const bound = { raw: value, quoted: phrase }
      return compileDateRange(field, bound.raw, bound.raw, true, true, ctx, c)
    }
    default: {
      if (!isQualityField(field)) return null
      const match = qualityTermMatch(field, value)
      return (doc) => match(c.quality(doc))
    }
  }
}

function compileDateRange(field: string, from: string | null, to: string | null, includeFrom: boolean, includeTo: boolean, ctx: EvaluationContext, c: Columns): Predicate | null {
  if (isQualityField(field)) {
    const match = qualityRangeMatch(field, from, to, includeFrom, includeTo)
    return (doc) => match(c.quality(doc))
  }
  if (field !== 'metadata_modified' && field !== 'metadata_created') return null
  const lower = from === null ? null : parseSolrDate(from, ctx.now).iso
  const upper = to === null ? null : parseSolrDate(to, ctx.now).iso
  const column = field === 'metadata_modified' ? c.modified : c.created
  return (doc) => {
    const v = column[doc]
    if (lower !== null && (includeFrom ? v < lower : v <= lower)) return false
    if (upper !== null && (includeTo ? v > upper : v >= upper)) return false
    return true
  }
}
