/**
 * What every answer of the service has in common: security headers (@fastify/helmet), CORS (@fastify/cors),
 * compression (@fastify/compress) and one access line per request. Registered before any route: the
 * compression plugin attaches itself to the routes registered after it.
 */
import { constants as zlib } from 'node:zlib'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import helmet from '@fastify/helmet'
import cors, { type FastifyCorsOptions } from '@fastify/cors'
import compress from '@fastify/compress'
import type { AppConfig } from '../config.js'

export interface ConventionOptions {
  /** The CKAN actions that change something (not side-effect-free): no browser on an unlisted origin may call them. */
  writeActions: ReadonlySet<string>
}

export async function registerHttpConventions(
  fastify: FastifyInstance,
  config: AppConfig,
  options: ConventionOptions,
): Promise<void> {
  const security = await securityHeaders(config)
  fastify.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of security) reply.raw.setHeader(name, value)
    done()
  })
  await fastify.register(cors, { delegator: corsDelegator(config.corsOrigins, options.writeActions) })
  // The CORS headers depend on Origin; a handler that sets its own Vary must not hide that from caches.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    appendVary(reply, 'Origin')
    done(null, payload)
  })
  await fastify.register(compress, compressOptions())
  registerAccessLog(fastify)
}

// ---------------------------------------------------------------------------------------------
// Security headers

/**
 * Helmet's headers, with a content security policy that fits both the API (JSON and RDF, never rendered
 * with scripts) and the pages it serves: the Swagger UI at /docs loads its own scripts and styles from
 * /docs/static (no inline scripts; it sets inline styles) and calls the API, and `/` is plain HTML.
 */
export function helmetOptions(config: AppConfig) {
  return {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        // "Try it out" calls the servers of the OpenAPI document: BASE_URL (the page's own origin unless a proxy rewrites it).
        connectSrc: ["'self'", new URL(config.baseUrl).origin],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
      },
    },
    // Open data: other sites may embed and fetch what this service answers.
    crossOriginResourcePolicy: { policy: 'cross-origin' as const },
    // The service may share a domain with others served over plain HTTP: only this host.
    strictTransportSecurity: { maxAge: 15_552_000, includeSubDomains: false },
    xFrameOptions: { action: 'deny' as const },
  }
}

/**
 * The headers @fastify/helmet sets with helmetOptions, found once: by a request to a probe server with the
 * plugin and one route, against the same server without it. The plugin builds helmet's middleware anew for
 * every request (its options parsed and checked, the policy text put together, in two async hooks: ~8 µs of
 * CPU a request), while with these options (no nonces) the headers depend on the configuration alone; the
 * service sets the found headers on every answer, as the plugin would (on the raw response, before any
 * route's own headers). Helmet's other effect, removing X-Powered-By, has nothing to do here: Fastify sets none.
 */
export async function securityHeaders(config: AppConfig): Promise<Array<[string, string]>> {
  const answer = async (withHelmet: boolean) => {
    const probe = Fastify({ logger: false })
    try {
      if (withHelmet) await probe.register(helmet, helmetOptions(config))
      probe.get('/', () => ({}))
      return (await probe.inject({ method: 'GET', url: '/' })).headers
    } finally {
      await probe.close()
    }
  }
  const [plain, secured] = [await answer(false), await answer(true)]
  const headers: Array<[string, string]> = []
  for (const [name, value] of Object.entries(secured)) {
    if (value === undefined || name === 'date' || plain[name] === value) continue
    if (plain[name] !== undefined) throw new Error(`@fastify/helmet changed the header ${name}: not a header of its own`)
    headers.push([name, Array.isArray(value) ? value.join(', ') : String(value)])
  }
  if (!headers.some(([name]) => name === 'content-security-policy')) throw new Error('@fastify/helmet set no Content-Security-Policy')
  return headers
}

// ---------------------------------------------------------------------------------------------
// CORS

const ACTION_PATH = /^\/api\/(?:3\/)?action\/([^/?#]+)/

/** The CKAN action a request calls (/api/3/action/<name> or /api/action/<name>), if any. */
export function actionOf(url: string): string | undefined {
  return ACTION_PATH.exec(url)?.[1]
}

/** Response headers a browser script may read beyond the safelisted ones. */
const EXPOSED_HEADERS = 'ETag, Retry-After, Location'
const PREFLIGHT_MAX_AGE_S = 3600

/**
 * CORS per request. The data are open: anonymous requests (no `Authorization`) are allowed from every
 * origin (`*`), POSTs of the read actions with a JSON body included. Requests with `Authorization` (writes;
 * private reads) only from the origins in CORS_ORIGINS: for other origins the preflight does not allow the
 * header, and the write actions get no Access-Control-Allow-Origin at all, so a browser refuses them.
 * Tokens travel in a header a script sets, never as cookies: no credentials mode is involved.
 */
function corsDelegator(
  allowedOrigins: readonly string[],
  writeActions: ReadonlySet<string>,
): NonNullable<FastifyCorsOptions['delegator']> {
  const listed = new Set(allowedOrigins)
  const common = { methods: 'GET, HEAD, POST', exposedHeaders: EXPOSED_HEADERS, maxAge: PREFLIGHT_MAX_AGE_S }
  const trusted = {
    ...common,
    allowedHeaders: 'Authorization, Content-Type, If-Match, If-None-Match, If-Modified-Since',
  }
  const anyone = { ...common, origin: '*', allowedHeaders: 'Content-Type, If-None-Match, If-Modified-Since' }
  // No origin matches an empty list: no Access-Control-Allow-Origin, the preflight is answered (204) and fails in the browser.
  const refused = { ...common, origin: [] as string[], allowedHeaders: anyone.allowedHeaders }
  return (request: FastifyRequest, callback: (error: Error | null, options?: FastifyCorsOptions) => void) => {
    const origin = request.headers.origin
    if (origin !== undefined && listed.has(origin)) return callback(null, { ...trusted, origin })
    const action = actionOf(request.url)
    if (action !== undefined && writeActions.has(action)) return callback(null, refused)
    callback(null, anyone)
  }
}

/** Adds a request header to the answer's Vary, keeping what is there. */
export function appendVary(reply: FastifyReply, field: string): void {
  const current = reply.getHeader('Vary')
  const text = Array.isArray(current) ? current.join(', ') : current === undefined ? '' : String(current)
  if (text.trim() === '*') return
  const fields = text
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
  if (fields.some((f) => f.toLowerCase() === field.toLowerCase())) return
  reply.header('Vary', [...fields, field].join(', '))
}

// ---------------------------------------------------------------------------------------------
// Compression

/** JSON, the RDF formats, HTML, CSS and JavaScript (the Swagger UI); not images or other binaries. */
const COMPRESSIBLE =
  /^(?:text\/(?!event-stream)|application\/(?:json|ld\+json|rdf\+xml|n-triples|xml|javascript)(?:;|$)|[^;]*\+(?:json|xml)(?:;|$))/

/**
 * gzip and brotli, brotli preferred. Both at low levels: the whole-catalog dumps stream at tens of MB/s and
 * must not wait for the compressor. Measured on a 21 MB Turtle dump: brotli quality 1 compresses at ~270
 * MB/s to 10 % (quality 4, the plugin's default: ~60 MB/s to 6 %), gzip level 4 at ~65 MB/s to 11 % (level 6:
 * ~40 MB/s to 10 %). Streams are piped through the compressor, never buffered. Request bodies are taken
 * as sent (no decompression: CKAN clients send none, and it would be one more way to inflate a body).
 */
function compressOptions() {
  return {
    global: true,
    globalDecompression: false,
    encodings: ['br' as const, 'gzip' as const],
    customTypes: COMPRESSIBLE,
    brotliOptions: { params: { [zlib.BROTLI_PARAM_QUALITY]: 1, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT } },
    zlibOptions: { level: 4 },
  }
}

// ---------------------------------------------------------------------------------------------
// Access log

/** Longest path written in an access line. */
const PATH_MAX = 1000
/** An API token (auth/tokens.ts: `<uuid>.<32 random bytes, base64url>`), should a client put one into a URL. */
const TOKEN_PATTERN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{43}/gi

/**
 * Exactly one line per request at `info` (Fastify's own two lines are off: disableRequestLogging): method,
 * path, status, duration in ms and the CKAN action. The path is written without its query string, which
 * carries search text and other user input of unbounded size; no header is written, and a token a client
 * put into the path is replaced by `[token]`.
 * A request whose client went away before the answer was complete gets its line with `aborted: true`.
 */
function registerAccessLog(fastify: FastifyInstance): void {
  const logged = new WeakSet<FastifyRequest>()
  fastify.addHook('onResponse', (request, reply, done) => {
    writeAccessLine(logged, request, reply, false)
    done()
  })
  fastify.addHook('onRequest', (request, reply, done) => {
    // onResponse runs when the answer was sent completely; an answer cut short by the client ends in 'close' alone.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) writeAccessLine(logged, request, reply, true)
    })
    done()
  })
}

function writeAccessLine(
  logged: WeakSet<FastifyRequest>,
  request: FastifyRequest,
  reply: FastifyReply,
  aborted: boolean,
): void {
  if (logged.has(request)) return
  logged.add(request)
  const url = request.url
  const queryAt = url.indexOf('?')
  const fullPath = queryAt < 0 ? url : url.slice(0, queryAt)
  const action = actionOf(fullPath)
  const path = (fullPath.length > PATH_MAX ? `${fullPath.slice(0, PATH_MAX)}…` : fullPath).replace(
    TOKEN_PATTERN,
    '[token]',
  )
  request.log.info(
    {
      method: request.method,
      path,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ...(action !== undefined ? { action } : {}),
      ...(aborted ? { aborted: true } : {}),
    },
    'request',
  )
}
