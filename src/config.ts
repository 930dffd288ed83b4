import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import type { LinkCheckSettings } from './links/settings.js'

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string }
  | { kind: 'mysql'; url: string; host: string; port: number; user: string; password: string; database: string; socketPath?: string }

export interface AppConfig {
  database: DatabaseConfig
  host: string
  port: number
  /** Public base URL: forms help links, dataset/publisher/catalog URIs. */
  baseUrl: string
  siteTitle: string
  siteDescription: string
  /** `LOG_LEVEL` (default info): pino's level. */
  logLevel: LogLevel
  /** `LOG_FORMAT` (default json): one JSON object per line, or `pretty` (pino-pretty) for a terminal. */
  logFormat: LogFormat
  /**
   * `CORS_ORIGINS` (default none): the browser origins (`https://portal.example.de`) whose pages may send
   * requests with `Authorization` (writes, private reads). Anonymous reads are open to every origin.
   */
  corsOrigins: string[]
  /** CKAN's ckan.search.rows_max: larger `rows` values are clamped to it. */
  searchRowsMax: number
  bodyLimitBytes: number
  /** dcatde:contributorID under which this catalog delivers to GovData. */
  contributorId: string
  localeDefault: string
  /** Write actions and token creation allowed per minute, per API token and per client address. */
  writeRateLimitPerMinute: number
  /** How long package_show may keep a document it read (ms; 0 = off): a bound on memory; the change feed keeps it current. */
  readCacheTtlMs: number
  /** Datasets per page of the DCAT catalog endpoints (ckanext.dcat.datasets_per_page). */
  dcatPageSize: number
  /**
   * Server processes sharing the port (`serve`). Default: one per CPU on MySQL; one on SQLite, whose
   * single writer gains nothing from more.
   */
  workers: number
  /** package_search of the visible datasets from an in-memory facet index (SEARCH_MEMORY_INDEX=0: through SQL only). */
  searchMemoryIndex: boolean
  /**
   * How often each process reads the change feed (ms): the most that a write of another process or server
   * may take to reach this process's caches and search index (plus the read itself).
   */
  changePollMs: number
  /**
   * `DATASET_MAX_BYTES` (default 1048576 = 1 MiB, 1024 to 64 MiB): the largest stored document of one
   * dataset (its package dict as JSON, in bytes); larger writes are refused. Bounds every answer that
   * carries datasets.
   */
  datasetMaxBytes: number
  /**
   * `FORM_MAX_KEYS` (default 1000, 1 to 1,000,000): the most fields a form-encoded body may have (each
   * `key=value` pair counts, repeated keys included); more are refused with 413 before they are parsed,
   * as Werkzeug's max_form_parts does for CKAN.
   */
  formMaxKeys: number
  /**
   * `JSON_MAX_DEPTH` (default 64, 2 to 1000): how deeply arrays and objects may nest in a JSON body (also
   * a JSON document sent as a form); deeper is a 400 `JSON Error`, found in one pass before parsing.
   */
  jsonMaxDepth: number
  /** `JSON_MAX_KEYS` (default 1000, 1 to 1,000,000): the most keys of one object in a JSON body; more is a 413. */
  jsonMaxKeys: number
  /**
   * `REQUEST_TIMEOUT_MS` (default 30000, 100 to 3,600,000): a request's headers and body must have
   * arrived within this time, however slowly they trickle; then the server answers 408 and closes the
   * connection (Node's requestTimeout and headersTimeout, checked every quarter of it, at most every 30 s).
   */
  requestTimeoutMs: number
  /**
   * `IDLE_TIMEOUT_MS` (default 60000, 1000 to 3,600,000): a connection on which nothing moves either way
   * for this long is closed, e.g. a client that stops reading a streamed answer (Fastify's connectionTimeout).
   */
  idleTimeoutMs: number
  /** LINKCHECK_*: the link checker (src/links/settings.ts). */
  linkCheck: LinkCheckSettings
  /**
   * `QUALITY_RESCORE_MS` (default 10000, 0 = off, else 100 to 3,600,000): how often one process of the service
   * (a lease) rescores the datasets whose score changed without a write of their own (a Kommune's e-mail or
   * geocoding URI, a link check's result: quality/rescorer.ts). Tests turn it off and run the step themselves.
   */
  qualityRescoreMs: number
  /** USAGE_COUNTING=on|off (default on): count dataset views, downloads and empty searches (src/usage). */
  usageCounting: boolean
  /** USAGE_FLUSH_MS (default 60000, 100 to 3,600,000): how often each process writes its usage counts. */
  usageFlushMs: number
  /**
   * USAGE_QUERY_MIN_COUNT (default 3, at least 1): a search without results appears in /api/stats/usage only once
   * it was made at least this many times in the report's window (a privacy floor: one person's rare query stays out).
   */
  usageQueryMinCount: number
  /** USAGE_RETENTION_DAYS (default 400, 1 to 36500): usage rows older than this are deleted (src/usage/counter.ts). */
  usageRetentionDays: number
  /** Harvesting (src/harvest/): see HarvestConfig. */
  harvest: HarvestConfig
}

export interface HarvestConfig {
  /** `HARVEST_SCHEDULER` (on|off, default off): `serve` runs due harvest jobs in the background. */
  scheduler: boolean
  /** `HARVEST_CONCURRENCY` (default 2, 1 to 64): jobs of different sources run at once per process. */
  concurrency: number
  /** `HARVEST_REQUEST_TIMEOUT_MS` (default 30000): one request to a source, headers and body. */
  requestTimeoutMs: number
  /** `HARVEST_MAX_BYTES` (default 50 MiB): the largest body of one fetch; more fails the job. */
  maxBytes: number
  /** `HARVEST_JOB_TIMEOUT_MS` (default 2 h): a job running longer fails (and deletes nothing). */
  jobTimeoutMs: number
  /** `HARVEST_LEASE_MS` (default 60000): how long a job's claim holds without renewal. */
  leaseMs: number
  /** `HARVEST_RETRIES` (default 4, 0 to 10): retries of one request on 5xx, 429 and network errors. */
  retries: number
  /** `HARVEST_MAX_WITHDRAWAL_PERCENT` (default 20): a run withdrawing more of a source's datasets asks for confirmation. */
  maxWithdrawalPercent: number
  /** `HARVEST_MAX_PAGES` (default 10000): pages of one job; a source paging beyond fails its job. */
  maxPages: number
  /**
   * `HARVEST_PRIVATE_ADDRESSES` (allow|deny, default deny): whether harvest requests may reach loopback,
   * private, link-local and other non-public addresses (src/net/guarded-fetch.ts). Deny in production.
   */
  allowPrivateAddresses: boolean
  /** `HARVEST_WORKER_MEMORY_MB` (default 512, 64 to 65536): the heap limit of the harvest process of `serve`. */
  workerMemoryMb: number
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export const LOG_FORMATS = ['json', 'pretty'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

/** A configuration problem, reported as one line at start-up. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

export function parseDatabaseUrl(raw: string): DatabaseConfig {
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length).replace(/^\/\//, '')
    if (!path) throw new ConfigError(`DATABASE_URL "${raw}" names no SQLite file (use sqlite:path/to/file.sqlite or sqlite::memory:)`)
    if (path === ':memory:') return { kind: 'sqlite', file: ':memory:' }
    const file = resolve(path)
    // Kernel pseudo file systems hold no databases; some of their files block a reader forever.
    const pseudo = /^\/(proc|sys|dev)(\/|$)/.exec(file)
    if (pseudo) throw new ConfigError(`DATABASE_URL "${raw}" is under /${pseudo[1]}, which holds no ordinary files: name a file in a writable data directory, e.g. sqlite:./data/godonu.sqlite`)
    return { kind: 'sqlite', file }
  }
  if (raw.startsWith('mysql:') || raw.startsWith('mariadb:')) {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      throw new ConfigError(`DATABASE_URL "${redact(raw)}" is not a valid URL (expected mysql://user:pass@host:3306/database)`)
    }
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''))
    if (!url.hostname || !database) {
      throw new ConfigError(`DATABASE_URL "${redact(raw)}" needs a host and a database name (mysql://user:pass@host:3306/database)`)
    }
    return {
      kind: 'mysql',
      url: raw,
      host: url.hostname,
      port: url.port ? Number(url.port) : 3306,
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database,
      // ?socket=/run/mysqld/mysqld.sock: a server on this machine through its Unix socket, cheaper than TCP.
      ...(url.searchParams.get('socket') ? { socketPath: url.searchParams.get('socket')! } : {}),
    }
  }
  throw new ConfigError(`DATABASE_URL "${redact(raw)}" has an unknown scheme: use sqlite:path or mysql://user:pass@host:port/db`)
}

/** Hide the password of a database URL in messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):([^@]*)@/, '//$1:***@')
}

function intFromEnv(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key}="${raw}" must be a whole number from ${min} to ${max}`)
  }
  return value
}

export const DEFAULT_CONTRIBUTOR_ID = 'http://dcat-ap.de/def/contributors/hessen'

/** One of the allowed words, or the fallback when unset. */
function choiceFromEnv<T extends string>(env: NodeJS.ProcessEnv, key: string, choices: readonly T[], fallback: T): T {
  const raw = env[key]
  if (raw === undefined || raw === '') return fallback
  if (!(choices as readonly string[]).includes(raw)) throw new ConfigError(`${key}="${raw}" is not allowed: use one of ${choices.join(', ')}`)
  return raw as T
}

/**
 * HOST as an address or a host name. The syntax is checked here, so that a bad HOST is blamed on HOST and
 * not on the BASE_URL made from it; whether a name resolves is checked at `serve` (checkHostResolves).
 */
function hostFromEnv(env: NodeJS.ProcessEnv): string {
  const host = env.HOST || '127.0.0.1'
  const fix = HOST_FIX
  if (isIP(host)) return host
  if (/^[\d.]+$/.test(host)) throw new ConfigError(`HOST="${host}" is not a valid IPv4 address: ${fix}`)
  if (host.includes(':')) throw new ConfigError(`HOST="${host}" is not a valid IPv6 address: ${fix}`)
  // A DNS name: labels of letters, digits and hyphens.
  if (!/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(host)) {
    throw new ConfigError(`HOST="${host}" is not a host name or address: ${fix}`)
  }
  return host
}

const HOST_FIX = 'set HOST to an address of this machine, e.g. 127.0.0.1 (local only) or 0.0.0.0 (all interfaces)'

/** How long `serve` waits for HOST's name to resolve before it gives up. */
const HOST_LOOKUP_TIMEOUT_MS = 15_000

/** `serve`: HOST, when it is a name, must resolve (else the listen would fail with a stack trace). */
export async function checkHostResolves(config: Pick<AppConfig, 'host'>): Promise<void> {
  if (isIP(config.host)) return
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      lookup(config.host),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })), HOST_LOOKUP_TIMEOUT_MS)
      }),
    ])
  } catch (err) {
    throw new ConfigError(`HOST="${config.host}" cannot be resolved (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ${HOST_FIX}`)
  } finally {
    clearTimeout(timer)
  }
}

/** CORS_ORIGINS: comma-separated origins, each exactly scheme://host[:port] as a browser sends it. */
export function parseCorsOrigins(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return []
  const origins: string[] = []
  for (const entry of raw.split(',').map((e) => e.trim()).filter(Boolean)) {
    let origin: string | undefined
    try {
      const url = new URL(entry)
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === entry.replace(/\/$/, '')) origin = url.origin
    } catch {
      origin = undefined
    }
    if (!origin) {
      throw new ConfigError(`CORS_ORIGINS entry "${entry}" is not an origin: list origins as scheme://host[:port] without path, separated by commas, e.g. https://portal.example.de,http://localhost:8080`)
    }
    origins.push(origin)
  }
  return origins
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AppConfig> = {}): AppConfig {
  const logLevel = choiceFromEnv(env, 'LOG_LEVEL', LOG_LEVELS, 'info')
  const logFormat = choiceFromEnv(env, 'LOG_FORMAT', LOG_FORMATS, 'json')
  const host = hostFromEnv(env)
  const port = intFromEnv(env, 'PORT', 3000, 0, 65535)
  const database = parseDatabaseUrl(env.DATABASE_URL || 'sqlite:./data/godonu.sqlite')
  const baseUrl = (env.BASE_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '')
  try {
    new URL(baseUrl)
  } catch {
    throw new ConfigError(`BASE_URL "${baseUrl}" is not an absolute URL (e.g. https://opendata.example.de)`)
  }
  const workers = intFromEnv(env, 'WORKERS', database.kind === 'mysql' ? availableParallelism() : 1, 1, 64)
  if (database.kind === 'sqlite' && database.file === ':memory:' && workers > 1) {
    throw new ConfigError(`WORKERS=${workers} cannot share DATABASE_URL=sqlite::memory: (each process would have a database of its own): set WORKERS=1 or use a database file`)
  }
  return {
    database,
    host,
    port,
    baseUrl,
    siteTitle: env.SITE_TITLE || 'GoDonu Open-Data-Katalog',
    siteDescription:
      env.SITE_DESCRIPTION || 'Gemeinsamer Open-Data-Katalog hessischer Kommunen (DCAT-AP.de, CKAN-kompatible API)',
    logLevel,
    logFormat,
    corsOrigins: parseCorsOrigins(env.CORS_ORIGINS),
    searchRowsMax: intFromEnv(env, 'SEARCH_ROWS_MAX', 1000, 1, 100000),
    bodyLimitBytes: intFromEnv(env, 'BODY_LIMIT', 5 * 1024 * 1024, 1024, 512 * 1024 * 1024),
    contributorId: env.CONTRIBUTOR_ID || DEFAULT_CONTRIBUTOR_ID,
    localeDefault: env.LOCALE_DEFAULT || 'de',
    writeRateLimitPerMinute: intFromEnv(env, 'WRITE_RATE_LIMIT', 300, 1, 10_000_000),
    readCacheTtlMs: intFromEnv(env, 'READ_CACHE_TTL_MS', 60_000, 0, 3_600_000),
    dcatPageSize: intFromEnv(env, 'DCAT_PAGE_SIZE', 100, 1, 1000),
    searchMemoryIndex: env.SEARCH_MEMORY_INDEX !== '0',
    changePollMs: intFromEnv(env, 'CHANGE_POLL_MS', 200, 10, 3_600_000),
    datasetMaxBytes: intFromEnv(env, 'DATASET_MAX_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    formMaxKeys: intFromEnv(env, 'FORM_MAX_KEYS', 1000, 1, 1_000_000),
    jsonMaxDepth: intFromEnv(env, 'JSON_MAX_DEPTH', 64, 2, 1000),
    jsonMaxKeys: intFromEnv(env, 'JSON_MAX_KEYS', 1000, 1, 1_000_000),
    requestTimeoutMs: intFromEnv(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    idleTimeoutMs: intFromEnv(env, 'IDLE_TIMEOUT_MS', 60_000, 1000, 3_600_000),
    workers,
    linkCheck: {
      scheduler: choiceFromEnv(env, 'LINKCHECK_SCHEDULER', ['on', 'off'], 'off') === 'on',
      concurrency: intFromEnv(env, 'LINKCHECK_CONCURRENCY', 8, 1, 256),
      perHost: intFromEnv(env, 'LINKCHECK_PER_HOST', 2, 1, 64),
      hostDelayMs: intFromEnv(env, 'LINKCHECK_HOST_DELAY_MS', 1000, 0, 600_000),
      timeoutMs: intFromEnv(env, 'LINKCHECK_TIMEOUT_MS', 10_000, 100, 600_000),
      maxRedirects: intFromEnv(env, 'LINKCHECK_MAX_REDIRECTS', 5, 0, 50),
      intervalMs: intFromEnv(env, 'LINKCHECK_INTERVAL_HOURS', 168, 1, 24 * 365) * 3_600_000,
      retryMs: intFromEnv(env, 'LINKCHECK_RETRY_MINUTES', 60, 1, 60 * 24 * 365) * 60_000,
      tickMs: intFromEnv(env, 'LINKCHECK_TICK_MS', 60_000, 100, 86_400_000),
      allowPrivateAddresses: choiceFromEnv(env, 'LINKCHECK_PRIVATE_ADDRESSES', ['allow', 'deny'], 'deny') === 'allow',
      userAgent: `GoDonuLinkChecker/1.0 (+${baseUrl})`,
    },
    qualityRescoreMs: env.QUALITY_RESCORE_MS === '0' ? 0 : intFromEnv(env, 'QUALITY_RESCORE_MS', 10_000, 100, 3_600_000),
    usageCounting: choiceFromEnv(env, 'USAGE_COUNTING', ['on', 'off'], 'on') === 'on',
    usageFlushMs: intFromEnv(env, 'USAGE_FLUSH_MS', 60_000, 100, 3_600_000),
    usageQueryMinCount: intFromEnv(env, 'USAGE_QUERY_MIN_COUNT', 3, 1, 1_000_000),
    usageRetentionDays: intFromEnv(env, 'USAGE_RETENTION_DAYS', 400, 1, 36_500),
    harvest: {
      scheduler: choiceFromEnv(env, 'HARVEST_SCHEDULER', ['on', 'off'] as const, 'off') === 'on',
      concurrency: intFromEnv(env, 'HARVEST_CONCURRENCY', 2, 1, 64),
      requestTimeoutMs: intFromEnv(env, 'HARVEST_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
      maxBytes: intFromEnv(env, 'HARVEST_MAX_BYTES', 50 * 1024 * 1024, 1024, 2 * 1024 * 1024 * 1024),
      jobTimeoutMs: intFromEnv(env, 'HARVEST_JOB_TIMEOUT_MS', 2 * 3600_000, 1000, 7 * 24 * 3600_000),
      leaseMs: intFromEnv(env, 'HARVEST_LEASE_MS', 60_000, 500, 3_600_000),
      retries: intFromEnv(env, 'HARVEST_RETRIES', 4, 0, 10),
      maxWithdrawalPercent: intFromEnv(env, 'HARVEST_MAX_WITHDRAWAL_PERCENT', 20, 0, 100),
      maxPages: intFromEnv(env, 'HARVEST_MAX_PAGES', 10_000, 1, 10_000_000),
      allowPrivateAddresses: choiceFromEnv(env, 'HARVEST_PRIVATE_ADDRESSES', ['allow', 'deny'], 'deny') === 'allow',
      workerMemoryMb: intFromEnv(env, 'HARVEST_WORKER_MEMORY_MB', 512, 64, 65_536),
    },
    ...overrides,
  }
}
