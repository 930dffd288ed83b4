/**
 * The service as a user starts it: package.json's "start" script, read at run time and run by `sh -c`
 * in the repository with node_modules/.bin first on PATH (what `npm start` does, without the npm process
 * in between), in a process group of its own. Only HOST (127.0.0.1), PORT (a free one) and DATABASE_URL
 * are set; every other setting of the service is left at its default unless a caller names it, and the
 * caller's names are stated in the table. Its output (the access log at the default LOG_LEVEL=info)
 * goes to a file, as a log file or the journal would take it.
 *
 * The processes that serve are found in /proc: the workers are the Node processes of the group's tree
 * whose parent is a Node process and which have no Node child; the primary is their parent.
 */
import { spawn, execFileSync } from 'node:child_process'
import { closeSync, createReadStream, existsSync, openSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync, truncateSync } from 'node:fs'
import { get } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../src/config.js'
import { scratchDir } from './lib.js'

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url))

/**
 * Settings of the service (README, Configuration) that the bench's own environment must not pass on:
 * the service under test gets its defaults unless a section names a value.
 */
const SERVICE_SETTINGS = [
  'BASE_URL',
  'BODY_LIMIT',
  'CHANGE_POLL_MS',
  'CONTRIBUTOR_ID',
  'CORS_ORIGINS',
  'DATASET_MAX_BYTES',
  'DCAT_PAGE_SIZE',
  'FORM_MAX_KEYS',
  'IDLE_TIMEOUT_MS',
  'JSON_MAX_DEPTH',
  'JSON_MAX_KEYS',
  'LOCALE_DEFAULT',
  'LOG_FORMAT',
  'LOG_LEVEL',
  'READ_CACHE_TTL_MS',
  'REQUEST_TIMEOUT_MS',
  'SEARCH_MEMORY_INDEX',
  'SEARCH_ROWS_MAX',
  'SITE_DESCRIPTION',
  'SITE_TITLE',
  'WORKERS',
  'WRITE_RATE_LIMIT',
  'GODONU_TRACE_SQL',
  'GODONU_CLOCK_OFFSET_MS',
]

/**
 * package.json's "start" script, as it is now; or BENCH_START_SCRIPT when set (to try the bench against
 * another start command, e.g. while dist/ is being rebuilt: every row then names it).
 */
export function startScript(): { script: string; overridden: boolean } {
  const override = process.env.BENCH_START_SCRIPT?.trim()
  if (override) return { script: override, overridden: true }
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }
  const script = pkg.scripts?.start
  if (typeof script !== 'string' || !script.trim()) throw new Error('package.json has no "start" script')
  return { script, overridden: false }
}

export interface ServiceProcesses {
  primary: number | null
  workers: number[]
}

export interface ServiceHandle {
  url: string
  /** The settings given beyond HOST, PORT and DATABASE_URL (empty: all defaults). */
  env: Record<string, string>
  /** Worker processes the service starts with these settings (its WORKERS, default or given). */
  workers: number
  /** The log level it runs at (LOG_LEVEL, default or given). */
  logLevel: string
  /** "`npm start` (…), WORKERS=2, LOG_LEVEL=info": how this server was started, for the table. */
  how: string
  /** The primary and the workers, as they are now (a restarted worker has a new pid). */
  processes(): ServiceProcesses
  /** Lines and bytes logged since the last call (the log file is emptied). */
  takeLog(): Promise<{ lines: number; bytes: number }>
  stop(): Promise<void>
}

// ---------------------------------------------------------------------------------------------
// Process tree.

const NODE_EXE = realpathSync(process.execPath)

function childrenOf(pid: number): number[] {
  try {
    const out: number[] = []
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
      if (text) out.push(...text.split(/\s+/).map(Number))
    }
    return out
  } catch {
    // No /proc/<pid>/task/*/children (another kernel or OS): ps.
    try {
      return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
        .split('\n')
        .map((s) => Number(s.trim()))
        .filter((n) => Number.isInteger(n) && n > 0)
    } catch {
      return []
    }
  }
}

function isNode(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`) === NODE_EXE
  } catch {
    try {
      return /node/.test(readFileSync(`/proc/${pid}/comm`, 'utf8'))
    } catch {
      return false
    }
  }
}

/** The primary and workers under `root` (see the file comment). */
export function serviceProcesses(root: number): ServiceProcesses {
  const parent = new Map<number, number>()
  const children = new Map<number, number[]>()
  const queue = [root]
  while (queue.length) {
    const pid = queue.shift()!
    const kids = childrenOf(pid)
    children.set(pid, kids)
    for (const kid of kids) {
      parent.set(kid, pid)
      queue.push(kid)
    }
  }
  const nodes = [...children.keys()].filter(isNode)
  const nodeSet = new Set(nodes)
  const workers = nodes.filter((pid) => nodeSet.has(parent.get(pid) ?? -1) && !(children.get(pid) ?? []).some((k) => nodeSet.has(k)))
  const primary = workers.length ? parent.get(workers[0]!)! : (nodes[0] ?? null)
  return { primary, workers: workers.filter((w) => parent.get(w) === primary).sort((a, b) => a - b) }
}

// ---------------------------------------------------------------------------------------------
// Starting and stopping.

async function freePort(): Promise<number> {
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

/** One directory for the logs of all services of the run (removed when the run ends). */
let logDir: string | undefined
let services = 0

const groups = new Set<number>()
process.once('exit', () => {
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL')
})

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/api/3/action/status_show`, { signal: AbortSignal.timeout(2000) })
    await response.arrayBuffer()
    return response.status === 200
  } catch {
    return false
  }
}

/** GET on a connection of its own (closed afterwards), so that the cluster hands it to the next worker; the status, 0 when it failed. */
function statusOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: READY_CHECK_MS }, (response) => {
      response.resume()
      response.once('end', () => resolve(response.statusCode ?? 0))
      response.once('error', () => resolve(0))
    })
    request.once('timeout', () => request.destroy())
    request.once('error', () => resolve(0))
  })
}

/** How long one /readyz request may take (the service gives up a check after 5 s and answers 503). */
const READY_CHECK_MS = 10_000

/**
 * Waits until /readyz answers 200 (database, migrations, search index loaded) `2 × workers` times in a row,
 * each on a new connection: the cluster's round robin hands the connections to the workers in turn, so every
 * worker has answered 200 at least once, and a 503 of any starts the count again. Throws at `deadline`.
 */
export async function untilReady(url: string, workers: number, deadline: number): Promise<void> {
  let inRow = 0
  let last: number
  while (inRow < 2 * workers) {
    last = await statusOnNewConnection(`${url}/readyz`)
    if (last === 200) inRow++
    else {
      inRow = 0
      if (Date.now() > deadline) throw new Error(`${url}/readyz: HTTP ${last}, not ready in time`)
      await sleep(250)
    }
  }
}

async function countLines(file: string): Promise<number> {
  let lines = 0
  for await (const chunk of createReadStream(file)) {
    const data = chunk as Buffer
    for (let at = data.indexOf(10); at !== -1; at = data.indexOf(10, at + 1)) lines++
  }
  return lines
}

function describe(env: Record<string, string>, workers: number, logLevel: string, { script, overridden }: ReturnType<typeof startScript>): string {
  const given = Object.entries(env).map(([k, v]) => `${k}=${v}`)
  const defaults = [`WORKERS=${workers}`, `LOG_LEVEL=${logLevel}`].filter((d) => !given.some((g) => g.split('=')[0] === d.split('=')[0]))
  const command = overridden ? `BENCH_START_SCRIPT \`${script}\` (NOT package.json's start script)` : `\`npm start\` (\`${script}\`)`
  return `${command}${defaults.length ? `, defaults ${defaults.join(', ')}` : ''}${given.length ? `, set: ${given.join(', ')}` : ', nothing else set'}`
}

/** CPU time (user + system) of a process in clock ticks, 0 when it is gone. */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return 0
  }
}

/** CPU time (user + system) the primary and the workers of `service` have used so far, in ms. */
export function serviceCpuMs(service: Pick<ServiceHandle, 'processes'>): number {
  const { primary, workers } = service.processes()
  return [primary ?? 0, ...workers].reduce((sum, pid) => sum + (pid ? cpuTicks(pid) : 0), 0) * 10
}

/** Waits until the service's processes together use less than a tenth of a core for a second (at most `ms`). */
export async function untilIdle(service: Pick<ServiceHandle, 'processes'>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  const total = () => {
    const { primary, workers } = service.processes()
    return [primary ?? 0, ...workers].reduce((sum, pid) => sum + (pid ? cpuTicks(pid) : 0), 0)
  }
  let last = total()
  let quiet = 0
  while (Date.now() < deadline && quiet < 4) {
    await sleep(250)
    const now = total()
    // 100 ticks a second: under 2.5 ticks in 250 ms is under a tenth of a core.
    quiet = now - last < 2.5 ? quiet + 1 : 0
    last = now
  }
}

/**
 * The start script, run by `sh -c` in a process group of its own over `databaseUrl` with `env` over the
 * service's defaults, on a free port of 127.0.0.1, its output appended to a log file named `<logName>-<port>-<n>.log`.
 */
async function spawnService(databaseUrl: string, env: Record<string, string>, logName: string) {
  const script = startScript()
  const port = await freePort()
  const childEnv: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SERVICE_SETTINGS.includes(k)) childEnv[k] = v
  Object.assign(childEnv, env, { HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: databaseUrl })
  childEnv.PATH = `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`
  logDir ??= scratchDir('godonu-bench-log')
  const logFile = join(logDir, `${logName}-${port}-${++services}.log`)
  const fd = openSync(logFile, 'a')
  const spawnedAt = performance.now()
  const child = spawn('/bin/sh', ['-c', script.script], { cwd: REPO_ROOT, env: childEnv, detached: true, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  const pgid = child.pid!
  groups.add(pgid)
  return { script, port, childEnv, logFile, child, pgid, spawnedAt }
}

/** SIGTERM to the process group, SIGKILL after 10 s if any of it is left. */
async function terminateGroup(pgid: number): Promise<void> {
  signalGroup(pgid, 'SIGTERM')
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline && signalGroup(pgid, 0)) await sleep(50)
  signalGroup(pgid, 'SIGKILL')
}

/**
 * Starts the service over `databaseUrl` with `env` added to its defaults, and waits until it answers
 * status_show with all its workers up, every worker's /readyz answers 200 (search index loaded, see
 * untilReady), and the processes idle: what is measured afterwards is the steady state a user gets.
 */
export async function startService(databaseUrl: string, env: Record<string, string> = {}, timeoutMs = 600_000): Promise<ServiceHandle> {
  const { script, port, childEnv, logFile, child, pgid } = await spawnService(databaseUrl, env, 'service')
  const config = loadConfig(childEnv)
  let exited: number | null | undefined
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? -1 : null)
      resolve()
    }),
  )
  const stop = async () => {
    if (!groups.has(pgid)) return
    await terminateGroup(pgid)
    await Promise.race([exit, sleep(2000)])
    groups.delete(pgid)
  }
  const url = `http://127.0.0.1:${port}`
  const tail = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : '')
  const handle: ServiceHandle = {
    url,
    env,
    workers: config.workers,
    logLevel: config.logLevel,
    how: describe(env, config.workers, config.logLevel, script),
    processes: () => serviceProcesses(pgid),
    async takeLog() {
      const bytes = statSync(logFile).size
      const lines = await countLines(logFile)
      truncateSync(logFile, 0)
      return { lines, bytes }
    },
    stop,
  }
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      await stop()
      throw new Error(`the service exited (code ${exited}) before answering status_show:\n${tail()}`)
    }
    if ((await answers(url)) && handle.processes().workers.length >= config.workers) {
      // Each worker loads the search index in the background after it listens (minutes of CPU at 100,000
      // datasets): a run started before would measure that load. Ready is what a load balancer waits for.
      await untilReady(url, config.workers, deadline).catch(async (err: unknown) => {
        await stop()
        throw new Error(`${(err as Error).message}:\n${tail()}`)
      })
      // Then whatever start-up work is left (the processes idle).
      await untilIdle(handle, Math.max(0, deadline - Date.now()))
      await handle.takeLog()
      return handle
    }
    await sleep(200)
  }
  await stop()
  throw new Error(`the service did not answer status_show with ${config.workers} workers within ${timeoutMs} ms:\n${tail()}`)
}

/** How long a start took: from the spawn of the start script to the first 200 answer of `path`. */
export interface StartTiming {
  firstAnswerMs: number
  /** The start-up phases the primary logged (message and its sinceStartMs), in order. */
  phases: Array<{ msg: string; sinceStartMs: number }>
}

/**
 * Starts the service over `databaseUrl` as `npm start` does (with `env` over the defaults), asks `path` every
 * POLL_FIRST_ANSWER_MS from the moment of the spawn until it answers 200, then stops the service.
 */
export async function timeToFirstAnswer(databaseUrl: string, path: string, env: Record<string, string> = {}, timeoutMs = 120_000): Promise<StartTiming> {
  const { port, logFile, child, pgid, spawnedAt: started } = await spawnService(databaseUrl, env, 'start')
  let exited = false
  child.once('exit', () => (exited = true))
  try {
    for (;;) {
      if (exited) throw new Error(`the service exited before answering ${path}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`)
      if (performance.now() - started > timeoutMs) throw new Error(`no answer to ${path} within ${timeoutMs} ms`)
      const ok = await fetch(`http://127.0.0.1:${port}${path}`).then(
        async (res) => {
          await res.arrayBuffer()
          return res.status === 200
        },
        () => false,
      )
      if (ok) break
      await sleep(POLL_FIRST_ANSWER_MS)
    }
    const firstAnswerMs = performance.now() - started
    const phases: StartTiming['phases'] = []
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      try {
        const entry = JSON.parse(line) as { msg?: string; sinceStartMs?: number }
        if (typeof entry.sinceStartMs === 'number' && entry.msg) phases.push({ msg: entry.msg, sinceStartMs: entry.sinceStartMs })
      } catch {
        // not a log line of the service (npm's own output)
      }
    }
    return { firstAnswerMs, phases }
  } finally {
    await terminateGroup(pgid)
    groups.delete(pgid)
  }
}

/** Poll interval while waiting for a starting service's first answer (the measurement's resolution). */
const POLL_FIRST_ANSWER_MS = 20
