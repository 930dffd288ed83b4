/**
 * Real `godonu serve` processes on one database, as an operator runs several servers for availability:
 * each is `node --import tsx src/cli/main.ts serve` (what `npm start` runs) in a process group of its
 * own, on a port picked here, with its own environment and optionally a clock shifted by Debian's
 * `faketime` (or, where libfaketime does not reach Node, GODONU_CLOCK_OFFSET_MS for the service to honour).
 *
 * No tap at run time: the benchmark (bench/sections/staleness.ts) starts its servers with this too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { loadConfig, parseDatabaseUrl, type AppConfig } from '../../src/config.js'
import { openStore, type Store } from '../../src/db/connect.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { CatalogService } from '../../src/catalog/service.js'
import { vocabularies } from '../../src/catalog/vocabularies.js'
import { UserService, type Role } from '../../src/auth/users.js'
import type { Database } from '../../src/db/types.js'
import { makeTempDir, removeTempDir } from './temp.js'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SERVE = ['--import', 'tsx', 'src/cli/main.ts', 'serve']
const FAKETIME = '/usr/bin/faketime'
/** What the service polls the change feed with when CHANGE_POLL_MS is not set (issue 9). */
export const DEFAULT_CHANGE_POLL_MS = 200

// ---------------------------------------------------------------------------------------------
// One database for all servers.

export interface SharedDatabase {
  kind: 'sqlite' | 'mysql'
  /** DATABASE_URL of the servers. */
  url: string
  /** A connection of this process, to read the authoritative state and to add users. */
  store: Store
  config: AppConfig
  cleanup(): Promise<void>
}

/**
 * A fresh database, migrated and with the reference data of catalog/ (as `godonu migrate` and the first
 * start would leave it), so that servers started at the same moment do not race to create it:
 * a scratch database `<db>_c<hex>` on the MySQL/MariaDB server of `mysqlUrl`, or an SQLite file in a
 * temporary directory. cleanup() drops it.
 */
export async function sharedDatabase(kind: 'sqlite' | 'mysql', mysqlUrl?: string): Promise<SharedDatabase> {
  let url: string
  let drop: () => Promise<void>
  if (kind === 'sqlite') {
    const dir = makeTempDir('godonu-servers-')
    url = `sqlite:${join(dir, 'catalog.sqlite')}`
    drop = async () => removeTempDir(dir)
  } else {
    if (!mysqlUrl) throw new Error('sharedDatabase(mysql) needs the URL of a MySQL/MariaDB server')
    const base = parseDatabaseUrl(mysqlUrl)
    if (base.kind !== 'mysql') throw new Error(`not a MySQL URL: ${mysqlUrl}`)
    const scratch = `${base.database}_c${randomBytes(4).toString('hex')}`
    const { createConnection } = await import('mysql2/promise')
    const connect = () => createConnection({ host: base.host, port: base.port, user: base.user, password: base.password })
    const admin = await connect()
    try {
      await admin.query(`CREATE DATABASE \`${scratch}\``) // the server's default collation, as a plain CREATE DATABASE gets: the tables state their own
    } finally {
      await admin.end()
    }
    const scratchUrl = new URL(mysqlUrl)
    scratchUrl.pathname = `/${scratch}`
    url = scratchUrl.toString()
    drop = async () => {
      const conn = await connect()
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${scratch}\``)
      } finally {
        await conn.end()
      }
    }
  }
  const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' })
  let store: Store
  try {
    store = await openStore(config.database)
    await migrateToLatest(store.db)
    await new CatalogService(store, vocabularies(), config).init()
  } catch (err) {
    await drop()
    throw err
  }
  return {
    kind,
    url,
    store,
    config,
    cleanup: async () => {
      await store.close().catch(() => {})
      await drop()
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Users and tokens, written directly to the database (as `godonu user add` / `token create` do).

export interface UserSpec {
  sysadmin?: boolean
  /** Kommune name (organization name) and role in it. */
  org?: string
  role?: Role
}

/** Creates a user (and a membership) and returns a fresh API token for it. */
export async function addUserWithToken(store: Store, name: string, spec: UserSpec = {}): Promise<string> {
  const db = store.db
  const users = new UserService(store)
  const user = await users.addUser({ name, sysadmin: spec.sysadmin })
  if (spec.org) {
    const org = await db.selectFrom('organization').select('id').where('name', '=', spec.org).executeTakeFirst()
    if (!org) throw new Error(`addUserWithToken: no organization named ${spec.org}`)
    await users.setMembership(user.id, org.id, spec.role ?? 'editor')
  }
  return (await users.createToken(user.id, 'servers-helper', null)).token
}

/** The usual cast of the cluster tests: a sysadmin and editors of two Kommunen. */
export interface Tokens {
  sysadmin: string
  marburgEditor: string
  kasselEditor: string
}

export async function standardTokens(store: Store): Promise<Tokens> {
  const suffix = randomBytes(3).toString('hex')
  return {
    sysadmin: await addUserWithToken(store, `sysadmin-${suffix}`, { sysadmin: true }),
    marburgEditor: await addUserWithToken(store, `anna-${suffix}`, { org: 'marburg', role: 'editor' }),
    kasselEditor: await addUserWithToken(store, `kurt-${suffix}`, { org: 'kassel', role: 'editor' }),
  }
}

// ---------------------------------------------------------------------------------------------
// Clock shifts.

export type ClockMechanism = 'real' | 'faketime' | 'env'

const probed = new Map<number, boolean>()

function faketimeSpec(offsetMs: number): string {
  return `${offsetMs < 0 ? '-' : '+'}${Math.abs(offsetMs) / 1000}s`
}

/**
 * Whether `faketime -f <offset>` really shifts Date.now() of a Node process here: runs one and compares
 * its clock with ours (within 5 s of the offset). Answered once per offset.
 */
export function faketimeShiftsNode(offsetMs: number): boolean {
  const known = probed.get(offsetMs)
  if (known !== undefined) return known
  let works = false
  if (existsSync(FAKETIME)) {
    const before = Date.now()
    const result = spawnSync(FAKETIME, ['-f', faketimeSpec(offsetMs), process.execPath, '-e', 'process.stdout.write(String(Date.now()))'], { encoding: 'utf8', timeout: 30_000 })
    const after = Date.now()
    const child = Number(result.stdout)
    works = result.status === 0 && Number.isFinite(child) && child - after >= offsetMs - 5000 && child - before <= offsetMs + 5000
  }
  probed.set(offsetMs, works)
  return works
}

// ---------------------------------------------------------------------------------------------
// Server processes.

export interface ServerSpec {
  /** Name in messages ("A", "B", ...). */
  label: string
  /** Environment of this server, over the defaults (e.g. WORKERS, CHANGE_POLL_MS, LOG_LEVEL). */
  env?: Record<string, string>
  /** Shift of the server's clock against the real one, in ms (e.g. -60_000: one minute behind). */
  clockOffsetMs?: number
  /** What to do with the server's output: keep its last 64 KB for messages (default), or discard it. */
  output?: 'capture' | 'ignore'
}

export interface GodonuServer {
  label: string
  /** http://127.0.0.1:PORT */
  base: string
  port: number
  /** Process group of the server (its primary, its workers and the faketime wrapper, if any). */
  pgid: number
  clockOffsetMs: number
  /** How the clock shift is applied. */
  clock: ClockMechanism
  /** CHANGE_POLL_MS the server was given (the service's default when not set). */
  changePollMs: number
  /** The last 64 KB of its stdout and stderr. */
  output(): string
  /** Stops the whole process group: SIGTERM, then SIGKILL for whatever is left after 10 s. */
  stop(): Promise<void>
}

const runningGroups = new Set<number>()
process.once('exit', () => {
  for (const pgid of runningGroups) signalGroup(pgid, 'SIGKILL')
})

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/** A port that was free a moment ago (the server's start is retried on another if it was taken since). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function answersStatus(base: string): Promise<boolean> {
  try {
    const response = await fetch(`${base}/api/3/action/status_show`, { signal: AbortSignal.timeout(2000) })
    await response.arrayBuffer()
    return response.status === 200
  } catch {
    return false
  }
}

async function startOnce(databaseUrl: string, spec: ServerSpec, port: number, timeoutMs: number): Promise<GodonuServer | 'port-taken'> {
  const offset = spec.clockOffsetMs ?? 0
  const clock: ClockMechanism = offset === 0 ? 'real' : faketimeShiftsNode(offset) ? 'faketime' : 'env'
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...spec.env,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
  }
  // BASE_URL of the test runner's environment would name another server.
  if (!spec.env?.BASE_URL) delete env.BASE_URL
  if (clock === 'env') env.GODONU_CLOCK_OFFSET_MS = String(offset)
  const [command, args] = clock === 'faketime' ? [FAKETIME, ['-f', faketimeSpec(offset), process.execPath, ...SERVE]] : [process.execPath, SERVE]
  const ignore = spec.output === 'ignore'
  const child: ChildProcess = spawn(command, args, {
    cwd: REPO_ROOT,
    env,
    // A process group of its own: the faketime wrapper does not pass signals on, the primary forks workers.
    detached: true,
    stdio: ['ignore', ignore ? 'ignore' : 'pipe', 'pipe'],
  })
  const pgid = child.pid!
  runningGroups.add(pgid)
  let output = ''
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8')
    if (output.length > 65_536) output = output.slice(-65_536)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let exitCode: number | null | undefined
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null)
      resolve()
    }),
  )
  const stop = async () => {
    if (!runningGroups.has(pgid)) return
    signalGroup(pgid, 'SIGTERM')
    const deadline = Date.now() + 10_000
    // The group is gone when no member is left (the leader exiting is not enough: faketime's child lives on).
    while (Date.now() < deadline && signalGroup(pgid, 0)) await sleep(50)
    signalGroup(pgid, 'SIGKILL')
    await Promise.race([exited, sleep(2000)])
    runningGroups.delete(pgid)
  }
  const base = `http://127.0.0.1:${port}`
  const server: GodonuServer = {
    label: spec.label,
    base,
    port,
    pgid,
    clockOffsetMs: offset,
    clock,
    changePollMs: Number(spec.env?.CHANGE_POLL_MS ?? process.env.CHANGE_POLL_MS ?? DEFAULT_CHANGE_POLL_MS),
    output: () => output,
    stop,
  }
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      await stop()
      if (/already in use/.test(output)) return 'port-taken'
      throw new Error(`server ${spec.label} exited (code ${exitCode}) before answering status_show:\n${output}`)
    }
    if (await answersStatus(base)) return server
    await sleep(100)
  }
  await stop()
  throw new Error(`server ${spec.label} did not answer status_show within ${timeoutMs} ms:\n${output}`)
}

/** Starts one server on a free port and waits until it answers /api/3/action/status_show. */
export async function startGodonu(databaseUrl: string, spec: ServerSpec, timeoutMs = 90_000): Promise<GodonuServer> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const started = await startOnce(databaseUrl, spec, await freePort(), timeoutMs)
    if (started !== 'port-taken') return started
  }
  throw new Error(`server ${spec.label}: every port tried was taken`)
}

/**
 * Starts the servers on one database, at the same moment (as an operator's init system would) unless
 * `oneAfterAnother`; stop them with stopAll.
 */
export async function startServers(databaseUrl: string, specs: ServerSpec[], options: { oneAfterAnother?: boolean; timeoutMs?: number } = {}): Promise<GodonuServer[]> {
  const timeoutMs = options.timeoutMs ?? 90_000
  let results: Array<PromiseSettledResult<GodonuServer>>
  if (options.oneAfterAnother) {
    results = []
    for (const spec of specs) {
      const [result] = await Promise.allSettled([startGodonu(databaseUrl, spec, timeoutMs)])
      results.push(result!)
      if (result!.status === 'rejected') break
    }
  } else results = await Promise.allSettled(specs.map((spec) => startGodonu(databaseUrl, spec, timeoutMs)))
  const servers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) {
    await stopAll(servers)
    throw failed.reason
  }
  return servers
}

export async function stopAll(servers: GodonuServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()))
}

// ---------------------------------------------------------------------------------------------
// Requests.

export interface Answer {
  status: number
  body: { success?: boolean; result?: any; error?: any }
  /** performance.now() when the request was sent and when its answer had been read. */
  sentAt: number
  answeredAt: number
}

/**
 * One Action API call: GET with `query` (values JSON-encoded unless strings), or POST with `body`.
 * Anonymous unless a token is given.
 */
export async function action(
  server: Pick<GodonuServer, 'base'>,
  name: string,
  options: { query?: Record<string, unknown>; body?: unknown; token?: string } = {},
): Promise<Answer> {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(options.query ?? {})) params.set(key, typeof value === 'string' ? value : JSON.stringify(value))
  const url = `${server.base}/api/3/action/${name}${params.size ? `?${params}` : ''}`
  const headers: Record<string, string> = {}
  if (options.token) headers.authorization = options.token
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const sentAt = performance.now()
  const response = await fetch(url, {
    method: options.body === undefined ? 'GET' : 'POST',
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await response.text()
  const answeredAt = performance.now()
  let body: Answer['body']
  try {
    body = JSON.parse(text) as Answer['body']
  } catch {
    body = { success: false, error: { message: `not JSON: ${text.slice(0, 200)}` } }
  }
  return { status: response.status, body, sentAt, answeredAt }
}

/** Like action(), but fails with the answer in the message unless it is a 200. */
export async function ok(server: Pick<GodonuServer, 'base'> & { label?: string }, name: string, options: Parameters<typeof action>[2] = {}): Promise<any> {
  const answer = await action(server, name, options)
  if (answer.status !== 200 || !answer.body.success) {
    throw new Error(`${name} on ${server.label ?? server.base}: HTTP ${answer.status} ${JSON.stringify(answer.body.error ?? answer.body).slice(0, 500)}`)
  }
  return answer.body.result
}

// ---------------------------------------------------------------------------------------------
// Waiting for every server to reach a state.

export interface Check {
  ok: boolean
  /** What was seen, for the message when the state is not reached. */
  detail: string
}

export interface Convergence {
  label: string
  /** ms from `since` until the check first held on this server (null: not within the horizon). */
  afterMs: number | null
  /** Checks made on this server. */
  polls: number
  /** What the last failing check saw. */
  last: string
}

/**
 * Polls `check` on every server every `intervalMs` until it has held once on each, or `horizonMs` after
 * `since` (a performance.now() value, usually when the write was answered) have passed.
 */
export async function converge(
  servers: GodonuServer[],
  check: (server: GodonuServer) => Promise<Check>,
  options: { since: number; horizonMs: number; intervalMs?: number },
): Promise<Convergence[]> {
  const state = new Map(servers.map((s) => [s.label, { label: s.label, afterMs: null as number | null, polls: 0, last: 'not checked' }]))
  const interval = options.intervalMs ?? 50
  for (;;) {
    const pending = servers.filter((s) => state.get(s.label)!.afterMs === null)
    if (pending.length === 0) break
    if (performance.now() - options.since > options.horizonMs) break
    const round = performance.now()
    await Promise.all(
      pending.map(async (server) => {
        const entry = state.get(server.label)!
        entry.polls++
        let result: Check
        try {
          result = await check(server)
        } catch (err) {
          result = { ok: false, detail: `check failed: ${(err as Error).message}` }
        }
        if (result.ok) entry.afterMs = performance.now() - options.since
        else entry.last = result.detail
      }),
    )
    const wait = interval - (performance.now() - round)
    if (wait > 0) await sleep(wait)
  }
  return servers.map((s) => state.get(s.label)!)
}
