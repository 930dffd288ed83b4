/**
 * Runs the HTTP service: a small primary process and WORKERS worker processes sharing the port. One
 * Node process validates and serves on one core; more workers use more cores.
 *
 * The primary migrates the database and synchronises the reference data once, forks the workers and
 * restarts any that dies. It relays what each worker writes to the others, so that their caches drop
 * a changed dataset at once rather than after READ_CACHE_TTL_MS, and it keeps the write rate-limit
 * counters, so that a token's limit holds for the whole service, not per worker.
 *
 * A throw-away database (DATABASE_URL=sqlite::memory:) lives in one process only: then the service runs
 * in this process itself, without workers (WORKERS must be 1, config.ts).
 *
 * Start-up writes one log line per phase (configuration read, database opened, migrations applied,
 * reference data synced, workers started, listening), each with the milliseconds since the process began,
 * so that a slow start shows where it is.
 */
import cluster, { type Worker } from 'node:cluster'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { pino, type Logger } from 'pino'
import type { App } from './app.js'
import { redact, type AppConfig } from './config.js'
import type { CatalogChange } from './catalog/service.js'
import { openStore, type Store } from './db/connect.js'
import { createLogger, flushLog } from './logging.js'
import { migrateToLatest } from './db/migrate.js'
import { CatalogService } from './catalog/service.js'
import { vocabularies } from './catalog/vocabularies.js'
import { startStatsRefresher } from './stats/routes.js'

export interface ServerOptions {
  /** Fastify's logger option for the app (default: pino at config.logLevel). */
  logger?: false
}

export interface RunningServer {
  address: AddressInfo
  close(): Promise<void>
}

type WorkerMessage =
  | { godonu: 'listening'; address: AddressInfo }
  | { godonu: 'change'; id: number; change: CatalogChange }
  | { godonu: 'change-applied'; id: number }
  | { godonu: 'rate'; id: number; key: string; timeWindow: number; max: number }

type PrimaryMessage =
  | { godonu: 'change'; id: number; change: CatalogChange }
  | { godonu: 'change-done'; id: number }
  | { godonu: 'rate'; id: number; current: number; ttl: number }

/** How long a write waits for the other workers to drop their cached copies (a hung worker must not block writes). */
const RELAY_TIMEOUT_MS = 2000

const isWorkerMessage = (m: unknown): m is WorkerMessage => typeof m === 'object' && m !== null && 'godonu' in m

/**
 * V8 flags of the server processes (a flag given to the primary wins). 16 MB semi-spaces, V8's own default,
 * stated so that the choice is visible: 64 MB ones gave +20-25 % package_create throughput, but every worker
 * then kept up to ~190 MB more resident after loading the search index (measured at 100,000 datasets on
 * MariaDB: peak RSS during the Turtle dump ~520 MB against ~300-400 MB), with the same package_show throughput.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=16']

/** Starts the service as configured; in a cluster worker, starts that worker. */
export async function runServer(config: AppConfig, options: ServerOptions = {}): Promise<RunningServer | undefined> {
  if (cluster.isWorker) {
    await runWorker(config, options)
    return undefined
  }
  const log: Logger = options.logger === false ? pino({ level: 'silent' }) : createLogger(config)
  phase(log, 'configuration read', {
    database: databaseLabel(config),
    host: config.host,
    port: config.port,
    baseUrl: config.baseUrl,
    workers: inOneProcess(config) ? 'none (one process)' : config.workers,
    logLevel: config.logLevel,
  })
  return inOneProcess(config) ? runInThisProcess(config, log) : runPrimary(config, log)
}

/** An in-memory SQLite database exists in the process that opened it: the service must run there. */
function inOneProcess(config: AppConfig): boolean {
  return config.database.kind === 'sqlite' && config.database.file === ':memory:'
}

function databaseLabel(config: AppConfig): string {
  return config.database.kind === 'mysql' ? redact(config.database.url) : `sqlite:${config.database.file}`
}

/** One start-up phase done: a line with the time since the process began. */
function phase(log: Logger, message: string, details: Record<string, unknown> = {}): void {
  log.info({ ...details, sinceStartMs: Math.round(performance.now()) }, message)
}

/** Loads the in-memory search index after the start, in the background: searches go through SQL until it is loaded. */
function warmSearchIndex(app: App): void {
  const started = performance.now()
  app.search.warmIndex().then(
    () => app.fastify.log.info({ ms: Math.round(performance.now() - started) }, 'search index loaded'),
    (err: unknown) => app.fastify.log.warn({ err }, 'search index not loaded; searches go through SQL until it is'),
  )
}

async function listen(app: App, config: AppConfig): Promise<AddressInfo> {
  try {
    await app.fastify.listen({ host: config.host, port: config.port })
    // The listening line at once, not with the next batch of lines (logging.ts, batched).
    flushLog(app.fastify.log)
  } catch (err) {
    await app.fastify.close().catch(() => {})
    throw err
  }
  return app.fastify.server.address() as AddressInfo
}

// ---------------------------------------------------------------------------------------------
// Worker

async function runWorker(config: AppConfig, options: ServerOptions): Promise<void> {
  const { buildApp } = await import('./app.js')
  const app = await buildApp(config, {
    prepared: true,
    rateLimitStore: PrimaryRateLimitStore as never,
    ...(options.logger === false ? { logger: false } : {}),
  })
  const relayed = new Map<number, () => void>()
  let nextChange = 0
  app.service.onChange((change, origin) => {
    if (origin !== 'local' || !process.connected) return
    const id = ++nextChange
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), RELAY_TIMEOUT_MS)
      const done = () => {
        clearTimeout(timer)
        relayed.delete(id)
        resolve()
      }
      relayed.set(id, done)
      process.send?.({ godonu: 'change', id, change } satisfies WorkerMessage)
    })
  })
  process.on('message', (message: unknown) => {
    if (!isWorkerMessage(message)) return
    const m = message as PrimaryMessage
    if (m.godonu === 'change') {
      app.service
        .applyRemoteChange(m.change)
        .catch((err: unknown) => app.fastify.log.error({ err }, 'could not apply a change of another worker'))
        .finally(() => process.send?.({ godonu: 'change-applied', id: m.id } satisfies WorkerMessage))
    } else if (m.godonu === 'change-done') relayed.get(m.id)?.()
    else if (m.godonu === 'rate') PrimaryRateLimitStore.answer(m)
  })
  const address = await listen(app, config)
  process.send?.({ godonu: 'listening', address } satisfies WorkerMessage)
  warmSearchIndex(app)
  startStatsRefresher(app.fastify)
  // The primary disconnects the workers to stop them: finish the requests in flight, then leave.
  process.once('disconnect', () => {
    app.fastify.close().finally(() => process.exit(0))
  })
}

/** @fastify/rate-limit store of a worker: the counting happens at the primary, over IPC. */
class PrimaryRateLimitStore {
  private static nextRequest = 0
  private static readonly pending = new Map<number, (error: Error | null, result?: { current: number; ttl: number }) => void>()

  static answer(m: { id: number; current: number; ttl: number }): void {
    const callback = this.pending.get(m.id)
    this.pending.delete(m.id)
    callback?.(null, { current: m.current, ttl: m.ttl })
  }

  constructor(private readonly namespace = '') {}

  incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number, max: number): void {
    const id = ++PrimaryRateLimitStore.nextRequest
    PrimaryRateLimitStore.pending.set(id, callback)
    const sent = process.send?.({ godonu: 'rate', id, key: `${this.namespace}\u0000${key}`, timeWindow, max } satisfies WorkerMessage)
    if (!sent) {
      PrimaryRateLimitStore.pending.delete(id)
      callback(new Error('the cluster primary cannot be reached'))
    }
  }

  /** Counters of their own per route, or per group of routes that share one limit (groupId: all write actions). */
  child(params: { groupId?: string; routeInfo?: { method?: string | string[]; url?: string } }): PrimaryRateLimitStore {
    if (params.groupId) return new PrimaryRateLimitStore(`group ${params.groupId}`)
    return new PrimaryRateLimitStore(`${String(params.routeInfo?.method ?? '')} ${params.routeInfo?.url ?? ''}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Primary

/** Fixed-window counters, as @fastify/rate-limit's own in-memory store keeps them. */
export class RateWindows {
  private readonly windows = new Map<string, { count: number; start: number }>()

  constructor(private readonly maxKeys = 100_000) {}

  hit(key: string, timeWindow: number, now = Date.now()): { current: number; ttl: number } {
    let window = this.windows.get(key)
    if (!window || window.start + timeWindow <= now) {
      if (!window && this.windows.size >= this.maxKeys) this.evictExpired(timeWindow, now)
      window = { count: 0, start: now }
      this.windows.set(key, window)
    }
    window.count++
    return { current: window.count, ttl: window.start + timeWindow - now }
  }

  private evictExpired(timeWindow: number, now: number): void {
    for (const [key, w] of this.windows) if (w.start + timeWindow <= now) this.windows.delete(key)
    // All still running: drop the oldest tenth rather than grow without bound.
    let drop = this.windows.size >= this.maxKeys ? Math.ceil(this.maxKeys / 10) : 0
    for (const key of this.windows.keys()) {
      if (drop-- <= 0) break
      this.windows.delete(key)
    }
  }
}

/** Opens the configured database (logged). */
async function openDatabase(config: AppConfig, log: Logger): Promise<Store> {
  const store = await openStore(config.database)
  phase(log, 'database opened', { database: databaseLabel(config) })
  return store
}

/** Migrates the database and synchronises the reference data (catalog/*.json), once for every process. */
async function prepareDatabase(store: Store, config: AppConfig, log: Logger): Promise<void> {
  const applied = await migrateToLatest(store.db)
  phase(log, 'migrations applied', { migrations: applied.length ? applied.join(', ') : 'none' })
  await new CatalogService(store, vocabularies(), config).init()
  phase(log, 'reference data synced')
}

/** The whole service in this process, without workers (sqlite::memory:). */
async function runInThisProcess(config: AppConfig, log: Logger): Promise<RunningServer> {
  const store = await openDatabase(config, log)
  let app: App | undefined
  try {
    await prepareDatabase(store, config, log)
    const { buildApp } = await import('./app.js')
    app = await buildApp(config, { store, prepared: true, loggerInstance: log })
    phase(log, 'service started in this process (no workers: the in-memory database lives here)')
    const address = await listen(app, config)
    phase(log, 'server listening', { address: `http://${address.address}:${address.port}` })
    warmSearchIndex(app)
    startStatsRefresher(app.fastify)
    const running = app
    return {
      address,
      close: async () => {
        await running.fastify.close()
        await store.close()
      },
    }
  } catch (err) {
    await app?.fastify.close().catch(() => {})
    await store.close().catch(() => {})
    throw err
  }
}

async function runPrimary(config: AppConfig, log: Logger): Promise<RunningServer> {
  const store = await openDatabase(config, log)
  try {
    await prepareDatabase(store, config, log)
  } finally {
    await store.close()
  }
  const rates = new RateWindows()
  let stopping = false
  let resolveListening!: (address: AddressInfo) => void
  let rejectListening!: (err: Error) => void
  const listening = new Promise<AddressInfo>((resolve, reject) => {
    resolveListening = resolve
    rejectListening = reject
  })
  let ready = 0
  let address: AddressInfo | undefined
  const workers = new Set<Worker>()
  const flags = SERVER_NODE_FLAGS.filter((flag) => !process.execArgv.some((arg) => arg.startsWith(flag.split('=')[0]!)))
  cluster.setupPrimary({ execArgv: [...process.execArgv, ...flags] })

  // A worker's write, relayed to the others; the writer is told once all have applied it (or left).
  const pendingRelays = new Map<number, { applied(by: Worker): void }>()
  let nextRelay = 0
  const relay = (from: Worker, writerId: number, change: CatalogChange): void => {
    const waiting = new Set([...workers].filter((w) => w !== from && w.isConnected()))
    const id = ++nextRelay
    const finish = () => {
      pendingRelays.delete(id)
      if (from.isConnected()) from.send({ godonu: 'change-done', id: writerId } satisfies PrimaryMessage)
    }
    if (waiting.size === 0) return finish()
    pendingRelays.set(id, {
      applied(by) {
        waiting.delete(by)
        if (waiting.size === 0) finish()
      },
    })
    for (const w of waiting) w.send({ godonu: 'change', id, change } satisfies PrimaryMessage)
  }

  const start = (): void => {
    const worker = cluster.fork()
    workers.add(worker)
    worker.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return
      if (message.godonu === 'listening') {
        address ??= message.address
        if (++ready === config.workers) resolveListening(address)
      } else if (message.godonu === 'change') {
        relay(worker, message.id, message.change)
      } else if (message.godonu === 'change-applied') {
        pendingRelays.get(message.id)?.applied(worker)
      } else if (message.godonu === 'rate') {
        const { current, ttl } = rates.hit(message.key, message.timeWindow)
        worker.send({ godonu: 'rate', id: message.id, current, ttl } satisfies PrimaryMessage)
      }
    })
    log.info({ worker: worker.process.pid }, 'worker started')
    worker.on('exit', (code, signal) => {
      workers.delete(worker)
      // Writes waiting for this worker to apply them need not wait any longer.
      for (const pending of pendingRelays.values()) pending.applied(worker)
      if (stopping) return
      if (address === undefined) {
        // Dying before the service ever listened is a configuration problem: restarting would loop.
        stopping = true
        for (const w of workers) w.kill()
        rejectListening(Object.assign(new Error(`a server worker exited during start-up (code ${code ?? signal}); its error is above`), { code: 'WORKER_START_FAILED' }))
        return
      }
      log.error({ worker: worker.process.pid, code, signal }, 'worker process died; starting another')
      start()
    })
  }
  for (let i = 0; i < config.workers; i++) start()
  phase(log, 'workers started', { workers: config.workers })

  const bound = await listening
  log.info({ workers: config.workers, sinceStartMs: Math.round(performance.now()), address: `http://${bound.address}:${bound.port}` }, 'server listening (cluster)')
  return {
    address: bound,
    close: async () => {
      stopping = true
      await Promise.all(
        [...workers].map(
          (w) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => w.kill('SIGKILL'), 10_000)
              w.once('exit', () => {
                clearTimeout(timer)
                resolve()
              })
              w.disconnect()
            }),
        ),
      )
    },
  }
}
