import { DataFactory, NamedNode as N3NamedNode } from 'n3'
import type * as RDF from '@rdfjs/types'
import { NS } from './namespaces.js'
import { isResourceIri, plainText, repairIri } from './iri.js'

const { namedNode, literal: n3Literal, blankNode, quad } = DataFactory

export type Quad = RDF.Quad
export type Term = RDF.Term
export type Subject = RDF.NamedNode | RDF.BlankNode
export type ObjectTerm = RDF.NamedNode | RDF.BlankNode | RDF.Literal

/**
 * A named node made once per IRI and shared (predicates, classes, datatypes): terms are immutable, so one object
 * serves every quad. A serializer may keep the node's encoded form on it, in one slot tagged with the
 * serializer's settings (see serialize.ts).
 */
export class SharedNamedNode extends N3NamedNode {
  declare encodedFor: object | undefined
  declare encoded: string
  constructor(iri: string) {
    super(iri)
    // Not enumerable: to anything that compares or copies terms it is a named node like any other.
    Object.defineProperties(this, { encodedFor: { value: undefined, writable: true }, encoded: { value: '', writable: true } })
  }
}

export const nn = (value: string): RDF.NamedNode => namedNode(value)
let blankPrefix: string | undefined
let blankCount = 0
/**
 * Labels the blank nodes bn() makes `${prefix}${n}` instead of n3's `n3-${n}`: a worker thread serializing part of
 * a document the main thread also writes to needs labels of its own (blank node labels must not meet by chance).
 */
export function labelBlankNodes(prefix: string): void {
  blankPrefix = prefix
}
/**
 * Runs `make` with the blank nodes bn() makes labelled `${prefix}${n}`, n counted from 0, and restores the labelling
 * around it: a stored dataset fragment (fragment-store.ts) gets labels of its own, derived from the dataset, so that
 * fragments rendered at different times and places can be joined into one document.
 */
export function withBlankLabels<T>(prefix: string, make: () => T): T {
  const [savedPrefix, savedCount] = [blankPrefix, blankCount]
  blankPrefix = prefix
  blankCount = 0
  try {
    return make()
  } finally {
    blankPrefix = savedPrefix
    blankCount = savedCount
  }
}
export const bn = (): RDF.BlankNode => (blankPrefix === undefined ? blankNode() : blankNode(`${blankPrefix}${blankCount++}`))
const XSD_TYPES = new Map<string, RDF.NamedNode>()
/** An XSD datatype (one shared node per datatype). */
export const xsd = (local: string): RDF.NamedNode => {
  let node = XSD_TYPES.get(local)
  if (node === undefined) XSD_TYPES.set(local, (node = new SharedNamedNode(NS.xsd + local)))
  return node
}
export const RDF_TYPE: RDF.NamedNode = new SharedNamedNode(NS.rdf + 'type')

/**
 * An IRI every format carries unchanged and that names a resource (iri.ts isResourceIri: RFC 3987, no dot
 * segments, no scheme that reads as one of our prefixes, no script scheme): what the mapping writes as an IRI.
 */
export function isIri(value: string): boolean {
  return isResourceIri(value)
}

/**
 * A value meant as an IRI, made writable where that is plain (`http://x/a b.csv` percent-encoded, `www.x.de/y`
 * read as http); undefined when it cannot be one, and the mapping then leaves it out (iri.ts repairIri).
 */
export function cleanIri(value: string): string | undefined {
  return repairIri(value)
}

/**
 * A literal, its text as every format carries it (iri.ts plainText: lone surrogates U+FFFD, NUL and other
 * characters XML cannot hold dropped, line breaks LF), so that what the mapping makes is what is written.
 */
export function literal(value: string | number, languageOrDatatype?: string | RDF.NamedNode): RDF.Literal {
  return n3Literal(typeof value === 'string' ? plainText(value) : value, languageOrDatatype)
}

/** rdflib's URIRefOrLiteral: an IRI when the value is one, else a plain literal. */
export function iriOrLiteral(value: string): RDF.NamedNode | RDF.Literal {
  const v = value.trim()
  return isIri(v) ? namedNode(v) : literal(v)
}

/** A date literal typed by its lexical form (xsd:date, xsd:dateTime, xsd:gYear, xsd:gYearMonth), else plain. */
export function dateLiteral(value: string): RDF.Literal {
  const v = value.trim()
  if (/^-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?$/.test(v)) return literal(v, xsd('date'))
  if (/^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.test(v)) {
    // xsd:dateTime needs seconds; "2024-01-01T10:00" is completed rather than typed wrongly.
    const full = /T\d{2}:\d{2}(Z|[+-]|$)/.test(v) ? v.replace(/(T\d{2}:\d{2})/, '$1:00') : v
    return literal(full, xsd('dateTime'))
  }
  if (/^-?\d{4,}$/.test(v)) return literal(v, xsd('gYear'))
  if (/^-?\d{4,}-\d{2}$/.test(v)) return literal(v, xsd('gYearMonth'))
  return literal(v)
}

/** The shared node of an IRI that recurs in every dataset (a predicate, a class); the cache is bounded. */
const INTERNED = new Map<string, SharedNamedNode>()
const INTERN_MAX = 10_000
export function internIri(value: string): SharedNamedNode {
  let node = INTERNED.get(value)
  if (node === undefined) {
    if (INTERNED.size >= INTERN_MAX) INTERNED.clear()
    node = new SharedNamedNode(value)
    INTERNED.set(value, node)
  }
  return node
}

/**
 * Whether two terms are the same: n3 terms carry their identity as `id` (an IRI, `_:label` or the literal with its
 * language or datatype, normalised alike for equal terms), compared as such; other RDF/JS terms by termKey.
 */
function sameTerm(a: Term, b: Term): boolean {
  if (a === b) return true
  if (a.termType !== b.termType) return false
  const idA = (a as { id?: unknown }).id
  const idB = (b as { id?: unknown }).id
  return typeof idA === 'string' && typeof idB === 'string' ? idA === idB : termKey(a) === termKey(b)
}

/** The key of a subject among those of its kind (named or blank). */
function subjectKey(s: Subject): string {
  const id = (s as { id?: unknown }).id
  return typeof id === 'string' && s.termType === 'BlankNode' ? id : s.termType === 'BlankNode' ? `_:${s.value}` : s.value
}

interface SubjectEntry {
  quads: Quad[]
  /** The objects added so far per predicate IRI (duplicates are only possible among these). */
  objects: Map<string, ObjectTerm[]>
  /** A named subject the builder's policy refuses: nothing is said about it. */
  refused: boolean
}

/**
 * Whether quads may be made about a named subject; asked once per subject and builder. The export gives one
 * (mapping.ts DatasetExport): a dataset's quads may describe only its own subjects and IRIs that are none of
 * another dataset's or of the service's own.
 */
export type SubjectPolicy = (subject: RDF.NamedNode) => boolean

/**
 * Collects quads, dropping exact duplicates (a vocabulary term typed by several properties) and every quad about
 * a named subject the policy refuses.
 */
export class QuadBuilder {
  /** The subject describing() vouches for, while its callback runs. */
  private vouched: string | undefined

  constructor(private readonly policy?: SubjectPolicy) {}

  /**
   * Runs `describe` with quads about `subject` made whatever the policy says: a node whose description the caller
   * makes from data it vouches for (the Kommune's publisher node from its organization record). Outside the
   * callback the subject counts as refused, so no other value can add to it.
   */
  describing(subject: RDF.NamedNode, describe: () => void): void {
    const outer = this.vouched
    this.vouched = subject.value
    try {
      describe()
    } finally {
      this.vouched = outer
    }
  }

  /** Subjects in order of first appearance; named and blank subjects apart (an IRI may look like `_:x`). */
  private readonly named = new Map<string, SubjectEntry>()
  private readonly blank = new Map<string, SubjectEntry>()
  private readonly order: SubjectEntry[] = []
  private lastSubject: Subject | undefined
  private lastEntry: SubjectEntry | undefined

  /** The quads grouped by subject (in order of each subject's first appearance), for readable Turtle. */
  get quads(): Quad[] {
    if (this.order.length === 1) return this.order[0]!.quads.slice()
    const out: Quad[] = []
    for (const entry of this.order) for (const q of entry.quads) out.push(q)
    return out
  }

  private entryOf(s: Subject): SubjectEntry {
    if (s === this.lastSubject) return this.lastEntry!
    const map = s.termType === 'BlankNode' ? this.blank : this.named
    const key = subjectKey(s)
    let entry = map.get(key)
    if (!entry) {
      const refused = s.termType === 'NamedNode' && this.policy !== undefined && (s.value === this.vouched || !this.policy(s))
      entry = { quads: [], objects: new Map(), refused }
      map.set(key, entry)
      this.order.push(entry)
    }
    this.lastSubject = s
    this.lastEntry = entry
    return entry
  }

  add(s: Subject, p: string | RDF.NamedNode, o: ObjectTerm): void {
    const pred = typeof p === 'string' ? internIri(p) : p
    const entry = this.entryOf(s)
    if (entry.refused && (s.termType !== 'NamedNode' || s.value !== this.vouched)) return
    const objects = entry.objects.get(pred.value)
    if (objects === undefined) {
      entry.objects.set(pred.value, [o])
    } else {
      for (let i = 0; i < objects.length; i++) if (sameTerm(objects[i]!, o)) return
      objects.push(o)
    }
    entry.quads.push(quad(s, pred, o))
  }

  type(s: Subject, ...classes: string[]): void {
    for (const c of classes) this.add(s, RDF_TYPE, internIri(c))
  }

  /** A plain literal, skipped when empty. */
  text(s: Subject, p: string, value: unknown, language?: string): void {
    const v = stringValue(value)
    if (v !== undefined) this.add(s, p, language ? literal(v, language) : literal(v))
  }
}

export function termKey(t: Term): string {
  if (t.termType === 'Literal') return `L\u0001${t.value}\u0001${t.language}\u0001${t.datatype.value}`
  return `${t.termType[0]}\u0001${t.value}`
}

/** A non-empty trimmed string, or undefined (numbers are stringified; null/empty give undefined). */
export function stringValue(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined
  if (typeof value !== 'string') return undefined
  const v = value.trim()
  return v === '' ? undefined : v
}

export { namedNode, blankNode, quad }
