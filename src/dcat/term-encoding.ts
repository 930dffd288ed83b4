/**
 * The one place where RDF terms become output. Every serializer of serialize.ts goes through it:
 *  - Turtle / N-Triples text is made by TextTermEncoder (IRIs, literals and blank nodes per the Turtle and
 *    N-Triples grammars, prefixed names only where the local part is a plain PN_LOCAL);
 *  - RDF/XML (graphy) and JSON-LD (jsonld.js) get their quads through writableQuad.
 * Both apply the checks of iri.ts: a named node whose IRI is not writable (isWritableIri), a literal with a
 * malformed language tag or datatype, and any other kind of term make the whole quad be left out, never written
 * raw; literal text is carried as plainText gives it; blank node labels as blankLabel gives them. The mapping
 * produces none of the quads left out (it checks the same way), so this is the last line, not the rule.
 */
import { DataFactory } from 'n3'
import type * as RDF from '@rdfjs/types'
import { blankLabel, isLanguageTag, isWritableIri, plainText } from './iri.js'
import { SharedNamedNode } from './terms.js'

const XSD = 'http://www.w3.org/2001/XMLSchema#'
const XSD_STRING = `${XSD}string`
const RDF_LANG_STRING = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString'
const RDF_TYPE_IRI = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type'

/** Whether an IRI is writable, remembered for the IRIs that recur (bounded). */
const WRITABLE = new Map<string, boolean>()
const WRITABLE_MAX = 20_000
export function writableIri(iri: string): boolean {
  let ok = WRITABLE.get(iri)
  if (ok === undefined) {
    ok = isWritableIri(iri)
    if (WRITABLE.size >= WRITABLE_MAX) WRITABLE.clear()
    WRITABLE.set(iri, ok)
  }
  return ok
}

// ---------------------------------------------------------------------------------------------------
// RDF/XML and JSON-LD: the quads as they may be written

function writableNode<T extends RDF.NamedNode | RDF.BlankNode>(term: T): T | undefined {
  if (term.termType === 'NamedNode') return writableIri(term.value) ? term : undefined
  const label = blankLabel(term.value)
  return label === term.value ? term : (DataFactory.blankNode(label) as unknown as T)
}

function writableObject(term: RDF.Term): RDF.Quad_Object | undefined {
  switch (term.termType) {
    case 'NamedNode':
    case 'BlankNode':
      return writableNode(term)
    case 'Literal': {
      const text = plainText(term.value)
      if (term.language) {
        if (!isLanguageTag(term.language)) return undefined
        return text === term.value ? term : DataFactory.literal(text, term.language)
      }
      const datatype = term.datatype.value
      if (datatype !== XSD_STRING && (datatype === RDF_LANG_STRING || !writableIri(datatype))) return undefined
      return text === term.value ? term : DataFactory.literal(text, datatype === XSD_STRING ? undefined : term.datatype)
    }
    default:
      return undefined
  }
}

/**
 * The quad as RDF/XML and JSON-LD may write it (a triple of the default graph, terms as described above), or
 * undefined when it cannot be written.
 */
export function writableQuad(q: RDF.Quad): RDF.Quad | undefined {
  const { subject, predicate, object, graph } = q
  if (subject.termType !== 'NamedNode' && subject.termType !== 'BlankNode') return undefined
  if (predicate.termType !== 'NamedNode' || !writableIri(predicate.value)) return undefined
  const s = writableNode(subject)
  const o = writableObject(object)
  if (s === undefined || o === undefined) return undefined
  return s === subject && o === object && graph.termType === 'DefaultGraph' ? q : DataFactory.quad(s, predicate, o)
}

// ---------------------------------------------------------------------------------------------------
// Turtle and N-Triples

/**
 * Literal text: what must be escaped in Turtle (as n3 escapes it: the controls, and characters outside the Basic
 * Multilingual Plane as \U escapes) and in canonical N-Triples (U+0000-U+001F, `"`, `\`, U+007F, U+FFFE, U+FFFF).
 */
const TURTLE_ESCAPE = /["\\\u0000-\u001F\uD800-\uDBFF]/
const TURTLE_ESCAPE_ALL = /["\\\u0000-\u001F]|[\uD800-\uDBFF][\uDC00-\uDFFF]/g
const N_TRIPLES_ESCAPE = /[^ !#-[\]-~\u0080-\uFFFD]/
const N_TRIPLES_ESCAPE_ALL = /[^ !#-[\]-~\u0080-\uFFFD]/g
const ASTRAL = /[\uD800-\uDBFF]/
const ASTRAL_ALL = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g
const ESCAPED: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\b': '\\b', '\f': '\\f' }

function turtleEscape(c: string): string {
  const known = ESCAPED[c]
  if (known !== undefined) return known
  if (c.length === 1) return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  return `\\U${c.codePointAt(0)!.toString(16).padStart(8, '0')}`
}

function nTriplesEscape(c: string): string {
  return ESCAPED[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`
}

/** A prefixed name's local part taken from an IRI as it is (a PN_LOCAL subset without escapes). */
const LOCAL_NAME = /^[_a-zA-Z0-9](?:\.?[-_a-zA-Z0-9])*$/
/** A prefix name (PN_PREFIX, ASCII). */
const PREFIX_NAME = /^(?:[A-Za-z](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)?$/
/** Datatypes Turtle writes bare when the lexical form is the keyword's or number's (as n3 does). */
const BARE = new Map<string, RegExp>([
  [`${XSD}boolean`, /^(?:true|false)$/],
  [`${XSD}integer`, /^[+-]?\d+$/],
  [`${XSD}decimal`, /^[+-]?\d*\.\d+$/],
  [`${XSD}double`, /^[+-]?(?:\d+\.\d*|\.?\d+)[eE][+-]?\d+$/],
])
const IRI_CACHE_MAX = 20_000

/**
 * Terms as Turtle or N-Triples text, for one format and set of prefixes (TextTermEncoder.for shares one per
 * setting, so that what it has encoded serves every writer). Each method gives undefined for a term that cannot
 * be written (see the module comment).
 */
export class TextTermEncoder {
  private static readonly shared = new Map<string, TextTermEncoder>()

  /** The encoder of a format and prefixes (N-Triples has none). */
  static for(format: 'ttl' | 'nt', prefixes: Record<string, string> = {}): TextTermEncoder {
    const id = format === 'nt' ? 'nt' : `ttl${JSON.stringify(Object.entries(prefixes))}`
    let encoder = TextTermEncoder.shared.get(id)
    if (!encoder) {
      if (TextTermEncoder.shared.size >= 100) TextTermEncoder.shared.clear()
      encoder = new TextTermEncoder(format, format === 'nt' ? {} : prefixes)
      TextTermEncoder.shared.set(id, encoder)
    }
    return encoder
  }

  readonly lineMode: boolean
  /** The `@prefix` lines (and the blank line after them), '' for N-Triples. */
  readonly header: string
  /** Prefix (`dct:`) by namespace IRI. */
  private readonly namespaces = new Map<string, string>()
  /** Whether every namespace ends in `/` or `#` (the namespace of an IRI is then the part up to its last one). */
  private readonly cutNamespaces: boolean
  /** Encoded IRIs (`dct:title`, `<http://...>`), null for IRIs that cannot be written. */
  private readonly iris = new Map<string, string | null>()
  private readonly escape: RegExp
  private readonly escapeAll: RegExp
  private readonly replacer: (c: string) => string

  constructor(format: 'ttl' | 'nt', prefixes: Record<string, string>) {
    this.lineMode = format === 'nt'
    this.escape = this.lineMode ? N_TRIPLES_ESCAPE : TURTLE_ESCAPE
    this.escapeAll = this.lineMode ? N_TRIPLES_ESCAPE_ALL : TURTLE_ESCAPE_ALL
    this.replacer = this.lineMode ? nTriplesEscape : turtleEscape
    let header = ''
    let cut = true
    for (const [name, iri] of Object.entries(prefixes)) {
      // A prefix that could not be read back is not used.
      if (!PREFIX_NAME.test(name) || !writableIri(iri)) continue
      header += `@prefix ${name}: <${this.escapeIri(iri)}>.\n`
      this.namespaces.set(iri, `${name}:`)
      if (!/[/#]$/.test(iri)) cut = false
    }
    this.header = header ? `${header}\n` : ''
    this.cutNamespaces = cut
  }

  private escapeIri(iri: string): string {
    // A writable IRI holds nothing Turtle must escape; n3 writes characters beyond the BMP as \U escapes.
    return !this.lineMode && ASTRAL.test(iri) ? iri.replace(ASTRAL_ALL, turtleEscape) : iri
  }

  /** `<iri>` or a prefixed name, or undefined. */
  iri(iri: string): string | undefined {
    let encoded = this.iris.get(iri)
    if (encoded === undefined) {
      encoded = writableIri(iri) ? this.prefixed(iri) ?? `<${this.escapeIri(iri)}>` : null
      if (this.iris.size >= IRI_CACHE_MAX) this.iris.clear()
      this.iris.set(iri, encoded)
    }
    return encoded ?? undefined
  }

  private prefixed(iri: string): string | undefined {
    if (this.namespaces.size === 0) return undefined
    if (this.cutNamespaces) {
      const cut = Math.max(iri.lastIndexOf('/'), iri.lastIndexOf('#')) + 1
      const prefix = cut > 0 ? this.namespaces.get(iri.substring(0, cut)) : undefined
      const local = iri.substring(cut)
      return prefix !== undefined && LOCAL_NAME.test(local) ? prefix + local : undefined
    }
    let best: string | undefined
    let bestLength = -1
    for (const [ns, prefix] of this.namespaces) {
      if (ns.length > bestLength && iri.startsWith(ns) && LOCAL_NAME.test(iri.substring(ns.length))) {
        best = prefix + iri.substring(ns.length)
        bestLength = ns.length
      }
    }
    return best
  }

  /** A named node, from its shared slot when it is a SharedNamedNode this encoder has written before. */
  named(node: RDF.NamedNode): string | undefined {
    if (node instanceof SharedNamedNode) {
      if (node.encodedFor === this) return node.encoded
      const encoded = this.iri(node.value)
      if (encoded !== undefined) {
        node.encodedFor = this
        node.encoded = encoded
      }
      return encoded
    }
    return this.iri(node.value)
  }

  subject(term: RDF.Term): string | undefined {
    if (term.termType === 'NamedNode') return this.named(term)
    if (term.termType === 'BlankNode') return `_:${blankLabel(term.value)}`
    return undefined
  }

  predicate(term: RDF.Term): string | undefined {
    if (term.termType !== 'NamedNode') return undefined
    return !this.lineMode && term.value === RDF_TYPE_IRI ? 'a' : this.named(term)
  }

  object(term: RDF.Term): string | undefined {
    switch (term.termType) {
      case 'NamedNode':
        return this.named(term)
      case 'Literal':
        return this.literal(term)
      case 'BlankNode':
        return `_:${blankLabel(term.value)}`
      default:
        return undefined
    }
  }

  literal(term: RDF.Literal): string | undefined {
    let value: string
    let language = ''
    let datatype: string
    // n3 literals hold `"value"`, `"value"@lang` or `"value"^^datatype` as id: read once, not through the getters
    // (each of which parses the id again, and `datatype` makes a new node).
    const id = (term as unknown as { id?: unknown }).id
    const end = typeof id === 'string' && id.charCodeAt(0) === 34 ? id.lastIndexOf('"') : 0
    if (end > 0) {
      const id_ = id as string
      value = id_.substring(1, end)
      if (end === id_.length - 1) datatype = XSD_STRING
      else if (id_.charCodeAt(end + 1) === 64 /* @ */) {
        language = id_.substring(end + 2)
        datatype = RDF_LANG_STRING
      } else if (id_.charCodeAt(end + 1) === 94 /* ^ */ && id_.charCodeAt(end + 2) === 94) datatype = id_.substring(end + 3)
      else return undefined
    } else {
      value = term.value
      language = term.language
      datatype = language ? RDF_LANG_STRING : term.datatype.value
    }
    value = plainText(value)
    if (this.escape.test(value)) value = value.replace(this.escapeAll, this.replacer)
    if (language) return isLanguageTag(language) ? `"${value}"@${language}` : undefined
    if (datatype === XSD_STRING) return `"${value}"`
    if (datatype === RDF_LANG_STRING) return undefined
    if (!this.lineMode && BARE.get(datatype)?.test(value)) return value
    const encoded = this.iri(datatype)
    return encoded === undefined ? undefined : `"${value}"^^${encoded}`
  }
}
