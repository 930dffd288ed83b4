import { DataFactory } from 'n3'
import type * as RDF from '@rdfjs/types'
import { NS } from './namespaces.js'

const { namedNode, literal, blankNode, quad } = DataFactory

export type Quad = RDF.Quad
export type Term = RDF.Term
export type Subject = RDF.NamedNode | RDF.BlankNode
export type ObjectTerm = RDF.NamedNode | RDF.BlankNode | RDF.Literal

export const nn = (value: string): RDF.NamedNode => namedNode(value)
export const bn = (): RDF.BlankNode => blankNode()
export const xsd = (local: string): RDF.NamedNode => namedNode(NS.xsd + local)
export const RDF_TYPE = namedNode(NS.rdf + 'type')

/** An absolute IRI that Turtle, N-Triples and RDF/XML can all carry unchanged. */
const ABSOLUTE_IRI = /^[a-z][a-z0-9+.-]*:[^\s<>"{}|\\^`\u0000-\u001f]*$/i
export function isIri(value: string): boolean {
  return ABSOLUTE_IRI.test(value) && value.length > value.indexOf(':') + 1
}

/** Characters that may not stand in an IRI are percent-encoded (a URL such as `http://x/a b.csv`). */
export function cleanIri(value: string): string | undefined {
  const trimmed = value.trim()
  if (!trimmed) return undefined
  if (isIri(trimmed)) return trimmed
  let candidate = trimmed
  // CKAN shows a URL without a scheme as http://...; do the same for host-like values.
  if (!/^[a-z][a-z0-9+.-]*:/i.test(candidate)) {
    if (!/^[\w-]+(\.[\w-]+)+([/?#:].*)?$/.test(candidate)) return undefined
    candidate = `http://${candidate}`
  }
  candidate = candidate.replace(/[\s<>"{}|\\^`\u0000-\u001f]/g, (c) => encodeURIComponent(c))
  return isIri(candidate) ? candidate : undefined
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

/** Collects quads, dropping exact duplicates (a vocabulary term typed by several properties). */
export class QuadBuilder {
  private readonly bySubject = new Map<string, Quad[]>()
  private readonly seen = new Set<string>()

  /** The quads grouped by subject (in order of each subject's first appearance), for readable Turtle. */
  get quads(): Quad[] {
    return [...this.bySubject.values()].flat()
  }

  add(s: Subject, p: string | RDF.NamedNode, o: ObjectTerm): void {
    const pred = typeof p === 'string' ? namedNode(p) : p
    const key = `${s.termType}\u0001${s.value}\u0001${pred.value}\u0001${termKey(o)}`
    if (this.seen.has(key)) return
    this.seen.add(key)
    const sk = `${s.termType[0]}${s.value}`
    let list = this.bySubject.get(sk)
    if (!list) this.bySubject.set(sk, (list = []))
    list.push(quad(s, pred, o))
  }

  type(s: Subject, ...classes: string[]): void {
    for (const c of classes) this.add(s, RDF_TYPE, namedNode(c))
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

export { namedNode, literal, blankNode, quad }
