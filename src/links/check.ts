import http from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { LinkErrorCode, LinkStatus } from './tables.js'
import { guardedLookup, isBlockedAddress } from '../net/guarded-fetch.js'

export { isBlockedAddress }

/** How one URL is checked (LINKCHECK_* in src/config.ts). */
export interface CheckOptions {
  /**
   * The check's requests together, every redirect included, must be done within this (ms); waits for a host's
   * turn (`turn`) do not count, so that a check is not cut short by other checks at its host.
   */
  timeoutMs: number
  /** At most this many redirects are followed; one more is too_many_redirects. */
  maxRedirects: number
  userAgent: string
  /**
   * Whether URLs may lead to loopback, private, link-local or other non-public addresses. Off in production,
   * so that an editor cannot make the service probe its own network; the tests turn it on for loopback.
   */
  allowPrivateAddresses: boolean
  /** The media type the catalog declares for the URL (a resource's mimetype or format), if any. */
  declaredMediaType?: string | null
  /** Aborts the check (a checker stopping); its result is then a timeout, to be thrown away. */
  signal?: AbortSignal
  /**
   * Runs each HTTP request of the check (HEAD, the GET after a refused HEAD, every redirect) in its host's turn:
   * the checker's politeness limits (Politeness.run). Without it, requests are made at once.
   */
  turn?: <T>(url: URL, request: () => Promise<T>) => Promise<T>
}

export interface CheckResult {
  status: LinkStatus
  httpStatus: number | null
  errorCode: LinkErrorCode | null
  finalUrl: string | null
  redirects: number
  /** The Content-Type of the last answer (its media type only, lower-case), if it sent one. */
  contentType: string | null
  /** 1 when the answer's media type differs from the declared one (both known); else 0. */
  mediaTypeMismatch: 0 | 1
  /** The method of the last request: HEAD, or GET when HEAD was refused or for an OGC service. */
  method: 'HEAD' | 'GET'
  /** The time its requests took together (waits for a host's turn not counted). */
  durationMs: number
}

/** URLs longer than this are not requested (invalid_url). */
export const MAX_URL_LENGTH = 8192

const OGC_SERVICES = new Set(['wms', 'wfs', 'wcs', 'wmts', 'csw', 'wps', 'sos'])

interface Answer {
  status: number
  location: string | undefined
  contentType: string | undefined
}

class CheckFailure extends Error {
  constructor(
    readonly code: LinkErrorCode,
    readonly httpStatus: number | null = null,
  ) {
    super(code)
  }
}

/**
 * Checks one URL: HEAD first; a GET (streamed, aborted after its first bytes) when HEAD is refused
 * (405, 501) and for OGC services (as GetCapabilities). Redirects are followed by hand, at most
 * maxRedirects of them; reachable means a 2xx or 3xx answer at the end. Every failure has its own code.
 */
export async function checkUrl(raw: string, options: CheckOptions): Promise<CheckResult> {
  /** Time spent in requests so far: the budget of timeoutMs. */
  let spent = 0
  /** The signal of the request in progress or last made (a timeout of the rest of the budget, or the stop). */
  let signal: AbortSignal = options.signal ?? new AbortController().signal
  const turn = options.turn ?? (<T>(_url: URL, request: () => Promise<T>) => request())
  /** One request of the check, in its host's turn, with the rest of the budget as its timeout. */
  const timed = async (target: URL, method: 'HEAD' | 'GET'): Promise<Answer> => {
    assertAllowed(target, options)
    if (spent >= options.timeoutMs) throw new CheckFailure('timeout')
    return turn(target, async () => {
      const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(options.timeoutMs - spent)))
      signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout
      const started = performance.now()
      try {
        return await request(target, method, options, signal)
      } finally {
        spent += performance.now() - started
      }
    })
  }
  let url: URL | undefined
  let redirects = 0
  let method: 'HEAD' | 'GET' = 'HEAD'
  const done = (partial: Partial<CheckResult> & Pick<CheckResult, 'status'>): CheckResult => ({
    httpStatus: null,
    errorCode: null,
    finalUrl: url?.href ?? null,
    redirects,
    contentType: null,
    mediaTypeMismatch: 0,
    method,
    durationMs: Math.round(spent),
    ...partial,
  })
  try {
    url = parseCheckedUrl(raw)
    if (isOgcService(url)) {
      method = 'GET'
      if (![...url.searchParams.keys()].some((k) => k.toLowerCase() === 'request'))
        url.searchParams.set('request', 'GetCapabilities')
    }
    const seen = new Set([url.href])
    for (;;) {
      const answer = await timed(url, method)
      if (method === 'HEAD' && (answer.status === 405 || answer.status === 501)) {
        method = 'GET'
        continue
      }
      if (answer.status >= 300 && answer.status < 400 && answer.location !== undefined) {
        let next: URL
        try {
          next = parseCheckedUrl(new URL(answer.location, url).href)
        } catch {
          throw new CheckFailure('invalid_url', answer.status)
        }
        if (seen.has(next.href)) throw new CheckFailure('redirect_loop', answer.status)
        if (redirects >= options.maxRedirects) throw new CheckFailure('too_many_redirects', answer.status)
        redirects++
        seen.add(next.href)
        url = next
        continue
      }
      const contentType = mediaTypeOf(answer.contentType)
      if (answer.status >= 200 && answer.status < 400) {
        return done({
          status: 'reachable',
          httpStatus: answer.status,
          contentType,
          mediaTypeMismatch: mediaTypesDiffer(options.declaredMediaType, contentType) ? 1 : 0,
        })
      }
      return done({ status: 'unreachable', httpStatus: answer.status, errorCode: 'http_error', contentType })
    }
  } catch (err) {
    if (err instanceof CheckFailure)
      return done({ status: 'unreachable', errorCode: err.code, httpStatus: err.httpStatus })
    return done({ status: 'unreachable', errorCode: classifyError(err, signal) })
  }
}

/** An http(s) URL to request; a URL without scheme is taken as http (as the catalog accepts it). */
function parseCheckedUrl(raw: string): URL {
  if (
    typeof raw !== 'string' ||
    raw.length === 0 ||
    raw.length > MAX_URL_LENGTH ||
    /[\uD800-\uDFFF]/.test(raw.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '')) ||
    /[\s\0<>"]/.test(raw)
  ) {
    throw new CheckFailure('invalid_url')
  }
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(raw) ? raw : `http://${raw}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new CheckFailure('invalid_url')
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) throw new CheckFailure('invalid_url')
  url.hash = ''
  return url
}

/** A URL of an OGC web service (`service=WMS` and the like, or `request=GetCapabilities`). */
export function isOgcService(url: URL): boolean {
  for (const [key, value] of url.searchParams) {
    const k = key.toLowerCase()
    if (k === 'service' && OGC_SERVICES.has(value.toLowerCase())) return true
    if (k === 'request' && value.toLowerCase() === 'getcapabilities') return true
  }
  return false
}

/** A URL whose host is a non-public IP address is not requested (unless allowed): blocked, before it takes a turn. */
function assertAllowed(url: URL, options: CheckOptions): void {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (!options.allowPrivateAddresses && isIP(host) && isBlockedAddress(host)) throw new CheckFailure('blocked')
}

/** One request: settled once its answer is in (or it failed), which ends its host's turn. */
function request(url: URL, method: 'HEAD' | 'GET', options: CheckOptions, signal: AbortSignal): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http
    const req = transport.request(
      url,
      {
        method,
        signal,
        agent: false,
        headers: { 'user-agent': options.userAgent, accept: '*/*' },
        ...(options.allowPrivateAddresses ? {} : { lookup: guardedLookup }),
      },
      (res) => {
        const answer: Answer = {
          status: res.statusCode ?? 0,
          location: res.headers.location,
          contentType: res.headers['content-type'],
        }
        res.once('error', reject)
        if (method === 'HEAD' || answer.status < 200 || answer.status >= 300) {
          resolve(answer)
          req.destroy()
          return
        }
        // A streamed GET: the first bytes (or the end of an empty body) are enough; the rest is not read.
        res.once('data', () => {
          resolve(answer)
          req.destroy()
        })
        res.once('end', () => resolve(answer))
      },
    )
    req.once('error', reject)
    req.end()
  })
}

/** The distinct code of a failed request. */
export function classifyError(err: unknown, signal: AbortSignal): LinkErrorCode {
  if (signal.aborted) return 'timeout'
  const raw = (err as { code?: unknown } | null)?.code
  const code = typeof raw === 'string' ? raw : ''
  if (code === 'EBLOCKED') return 'blocked'
  if (code === 'ENOTFOUND' || code.startsWith('EAI_')) return 'dns'
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'refused'
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || code === 'ABORT_ERR') return 'timeout'
  if (
    code === 'EPROTO' ||
    /^(ERR_TLS|ERR_SSL|ERR_OSSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(code)
  )
    return 'tls'
  if (code === 'ERR_INVALID_URL') return 'invalid_url'
  // ECONNRESET, EPIPE, a connection closed before or while answering, or an answer that is no HTTP.
  return 'reset'
}

/** The media type of a Content-Type header or a declared type: lower-case, without parameters or IANA prefix. */
export function mediaTypeOf(value: string | null | undefined): string | null {
  if (!value) return null
  const essence = value
    .trim()
    .replace(/^https?:\/\/www\.iana\.org\/assignments\/media-types\//i, '')
    .split(';')[0]
    .trim()
    .toLowerCase()
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(essence) ? essence.slice(0, 255) : null
}

/** Names of one media type (the first is the one compared). */
const ALIASES: string[][] = [
  ['application/xml', 'text/xml'],
  ['application/json', 'text/json'],
  ['text/csv', 'application/csv', 'text/comma-separated-values'],
  ['application/zip', 'application/x-zip-compressed', 'application/x-zip'],
  ['application/javascript', 'text/javascript'],
]
const CANONICAL = new Map(ALIASES.flatMap((names) => names.map((n) => [n, names[0]] as const)))

/**
 * Whether an answer's media type contradicts the declared one. Aliases (text/xml, application/xml) are one
 * type; a declared `+json`/`+xml` type may come as plain JSON/XML; application/octet-stream says nothing
 * (servers send it for any file) and so never contradicts.
 */
export function mediaTypesDiffer(declaredRaw: string | null | undefined, actual: string | null): boolean {
  const declared = mediaTypeOf(declaredRaw)
  if (!declared || !actual || actual === 'application/octet-stream') return false
  const a = CANONICAL.get(actual) ?? actual
  const d = CANONICAL.get(declared) ?? declared
  if (a === d) return false
  if (d.endsWith('+json') && a === 'application/json') return false
  if (d.endsWith('+xml') && a === 'application/xml') return false
  return true
}

/** The media type declared for a resource: its mimetype, else the usual one of its format, else none. */
export function declaredMediaType(
  mimetype: string | null | undefined,
  format: string | null | undefined,
): string | null {
  const fromMime = mediaTypeOf(mimetype)
  if (fromMime) return fromMime
  const key = (format ?? '')
    .trim()
    .replace(/^.*\/file-type\//i, '')
    .toUpperCase()
  return FORMAT_MEDIA_TYPES[key] ?? null
}

const FORMAT_MEDIA_TYPES: Record<string, string> = {
  CSV: 'text/csv',
  JSON: 'application/json',
  GEOJSON: 'application/geo+json',
  XML: 'application/xml',
  PDF: 'application/pdf',
  ZIP: 'application/zip',
  HTML: 'text/html',
  TXT: 'text/plain',
  XLSX: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  XLS: 'application/vnd.ms-excel',
  ODS: 'application/vnd.oasis.opendocument.spreadsheet',
  RDF: 'application/rdf+xml',
  RDF_XML: 'application/rdf+xml',
  TTL: 'text/turtle',
  RDF_TURTLE: 'text/turtle',
  JSON_LD: 'application/ld+json',
  KML: 'application/vnd.google-earth.kml+xml',
  GPX: 'application/gpx+xml',
}
