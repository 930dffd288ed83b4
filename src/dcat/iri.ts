/**
 * What may stand in RDF output as an IRI, a literal's text, a language tag or a blank node label. The writers
 * (term-encoding.ts, used by every serializer) refuse anything else, and the mapping uses the same checks to decide
 * what to write, so that the two always agree.
 */
import { NS } from './namespaces.js'

/**
 * RFC 3987 IRI characters after the scheme: unreserved and reserved ASCII, `%HH`, ucschar and iprivate. Lone
 * surrogates, spaces, controls and `<>"{}|\^`` never match (with the `u` flag a lone surrogate is a code point of
 * its own, outside every range).
 */
const IRI_REST =
  /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2}|[\u00A0-\uD7FF\uF900-\uFDCF\uFDF0-\uFFEF\uE000-\uF8FF]|[\u{10000}-\u{1FFFD}\u{20000}-\u{2FFFD}\u{30000}-\u{3FFFD}\u{40000}-\u{4FFFD}\u{50000}-\u{5FFFD}\u{60000}-\u{6FFFD}\u{70000}-\u{7FFFD}\u{80000}-\u{8FFFD}\u{90000}-\u{9FFFD}\u{A0000}-\u{AFFFD}\u{B0000}-\u{BFFFD}\u{C0000}-\u{CFFFD}\u{D0000}-\u{DFFFD}\u{E1000}-\u{EFFFD}\u{F0000}-\u{FFFFD}\u{100000}-\u{10FFFD}])+$/u
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/
/** A `.` or `..` path segment: RDF/XML readers resolve them away even in absolute IRIs, the others keep them. */
const DOT_SEGMENT = /^[^?#]*?(?:^|\/)\.\.?(?:\/|[?#]|$)/

/**
 * Schemes that read as a prefixed name: `dct:title` as an IRI would be compacted to (or expanded from) a CURIE
 * by JSON-LD and written bare by Turtle writers, so it would change meaning on the way.
 */
const PREFIX_SCHEMES = new Set(Object.keys(NS).map((p) => p.toLowerCase()))

/** An absolute IRI by RFC 3987's syntax: a scheme and at least one character after it. */
export function isAbsoluteIri(value: string): boolean {
  const scheme = SCHEME.exec(value)
  return scheme !== null && value.length > scheme[0].length && IRI_REST.test(value.substring(scheme[0].length))
}

/**
 * An IRI every format carries unchanged: absolute (RFC 3987), without `.`/`..` path segments, and without a
 * scheme that is one of our prefix names.
 */
export function isWritableIri(value: string): boolean {
  if (!isAbsoluteIri(value)) return false
  const colon = value.indexOf(':')
  if (PREFIX_SCHEMES.has(value.substring(0, colon).toLowerCase())) return false
  return !DOT_SEGMENT.test(value.substring(colon + 1))
}

/** Schemes that are never a DCAT resource and run code where a portal shows them as a link. */
const SCRIPT_SCHEMES = /^(?:javascript|vbscript|data):/i

/** A writable IRI naming something on the web or elsewhere, not a script (see isWritableIri). */
export function isResourceIri(value: string): boolean {
  return isWritableIri(value) && !SCRIPT_SCHEMES.test(value)
}

/** An http(s) IRI: what a dataset or distribution URI must be (anything else falls back to the service's URI). */
export function isHttpIri(value: string): boolean {
  return /^https?:\/\/[^/?#]/i.test(value) && isWritableIri(value)
}

/** Characters an IRI may not hold, percent-encoded as UTF-8 (a stray `%` included); text made well-formed first. */
const NOT_IRI = /[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%\u00A0-\uD7FF\uF900-\uFDCF\uFDF0-\uFFEF\uE000-\uF8FF\uD800-\uDFFF]|%(?![0-9A-Fa-f]{2})/g

/**
 * A value meant as an IRI (a URL someone typed), made writable where that is plain: surrounding space dropped,
 * `www.example.org/x` read as http (CKAN shows it so), characters an IRI may not hold percent-encoded, dot segments
 * resolved. Undefined when no resource IRI comes of it (a relative reference, a script, free text).
 */
export function repairIri(value: string): string | undefined {
  let candidate = wellFormed(value).trim()
  if (!candidate) return undefined
  if (isResourceIri(candidate)) return candidate
  if (!SCHEME.test(candidate)) {
    if (!/^[\w-]+(\.[\w-]+)+([/?#:].*)?$/s.test(candidate)) return undefined
    candidate = `http://${candidate}`
  }
  candidate = candidate.replace(NOT_IRI, (c) => encodeURIComponent(c))
  candidate = withoutDotSegments(candidate)
  return isResourceIri(candidate) ? candidate : undefined
}

/** RFC 3986 §5.2.4 on the path of an absolute IRI (query and fragment untouched). */
function withoutDotSegments(iri: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*:(?:\/\/[^/?#]*)?)([^?#]*)(.*)$/s.exec(iri)
  if (!match || !DOT_SEGMENT.test(match[2]!)) return iri
  const out: string[] = []
  const segments = match[2]!.split('/')
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1
    if (segment === '..') {
      if (out.length > 1 || (out.length === 1 && out[0] !== '')) out.pop()
      if (last) out.push('')
    } else if (segment === '.') {
      if (last) out.push('')
    } else out.push(segment)
  })
  return match[1]! + out.join('/') + match[3]!
}

/**
 * A path segment of one of our own URIs (`{base}/dataset/{id}`), percent-encoded: ids of older data may hold
 * anything, and `.`/`..` would be resolved away.
 */
export function pathSegment(value: string): string {
  const encoded = encodeURIComponent(toWellFormed(value))
  return encoded === '.' || encoded === '..' ? encoded.replace(/\./g, '%2E') : encoded
}

/** Lone surrogates, which no UTF-8 output can carry. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/
function wellFormed(value: string): string {
  return LONE_SURROGATE.test(value) ? toWellFormed(value) : value
}
/** String.prototype.toWellFormed (Node 20; not in the ES2022 typings): lone surrogates become U+FFFD. */
const toWellFormed = (value: string): string => (value as unknown as { toWellFormed(): string }).toWellFormed()

/** What a literal's text may not hold as it is: what XML 1.0 cannot carry, CR (XML reads it as LF), surrogates. */
const TEXT_TO_CLEAN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\r\uD800-\uDFFF\uFFFE\uFFFF]/
const TEXT_DROPPED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g

/**
 * A literal's text as every format carries it: lone surrogates become U+FFFD, line breaks LF, and the characters
 * XML 1.0 cannot hold at all (NUL and the other C0 controls but TAB and LF, U+FFFE, U+FFFF) are dropped, so that
 * Turtle, N-Triples, RDF/XML and JSON-LD all read back the same value.
 */
export function plainText(value: string): string {
  if (!TEXT_TO_CLEAN.test(value)) return value
  return toWellFormed(value).replace(/\r\n?/g, '\n').replace(TEXT_DROPPED, '')
}

/** BCP 47 in the shape Turtle (LANGTAG) and XML (xml:lang) accept. */
export function isLanguageTag(value: string): boolean {
  return /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/.test(value)
}

/**
 * A blank node label Turtle, N-Triples and RDF/XML (an NCName) all accept: ours (`n3-12`, `n3w1-5`) as they are,
 * others hex-encoded behind `hx` (labels that start so are encoded too, so that two labels never meet).
 */
export function blankLabel(value: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(value) && !value.startsWith('hx')) return value
  return `hx${Buffer.from(toWellFormed(value), 'utf8').toString('hex')}`
}
