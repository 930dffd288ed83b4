/**
 * `godonu serve` with several worker processes (WORKERS=2): a client reads its own writes whichever
 * worker answers, the write rate limit counts for the whole service, a worker that dies is replaced,
 * and SIGTERM stops them all.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'

const CLI = ['--import', 'tsx', 'src/cli/main.ts']

function cli(args: string[], env: Record<string, string>): string {
  const result = spawnSync(process.execPath, [...CLI, ...args], { env: { ...process.env, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 60_000 })
  if (result.status !== 0) throw new Error(`godonu ${args.join(' ')}: ${result.stderr}`)
  return result.stdout
}

interface Answer {
  status: number
  body: { success: boolean; result?: any; error?: any }
}

/** One request on a connection of its own, so that the cluster hands each to the next worker. */
function call(base: string, action: string, body?: unknown, token?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = request(
      `${base}/api/3/action/${action}`,
      {
        method: payload ? 'POST' : 'GET',
        agent: false,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: token } : {}) },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

interface Cluster {
  child: ChildProcess
  base: string
  log: () => string
  workerPids: () => number[]
}

async function startCluster(env: Record<string, string>): Promise<Cluster> {
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', WORKERS: '2', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the cluster did not start: ${output}`)), 60_000)
    const check = () => {
      const match = output.match(/"address":"(http:\/\/127\.0\.0\.1:\d+)","msg":"server listening \(cluster\)"/)
      if (match) {
        clearTimeout(timer)
        child.stdout!.off('data', check)
        resolve(match[1]!)
      }
    }
    child.stdout!.on('data', check)
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${output}`)))
  })
  const workerPids = () => [...output.matchAll(/"worker":(\d+),"msg":"worker started"/g)].map((m) => Number(m[1]))
  return { child, base, log: () => output, workerPids }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function setup(t: Test, extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'godonu-cluster-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env = { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, ...extraEnv }
  cli(['migrate'], env)
  cli(['user', 'add', 'anna', '--org', 'marburg', '--role', 'editor'], env)
  const token = cli(['token', 'create', 'anna'], env).trim().split('\n').at(-1)!
  return { env, token }
}

const dataset = (name: string, title: string) => ({
  name,
  title,
  owner_org: 'marburg',
  notes: 'Messwerte der Stadt',
  license_id: 'dl-by-de/2.0',
  groups: [{ name: 'envi' }],
  resources: [{ url: 'https://example.org/daten.csv', format: 'CSV' }],
})

t.test('two workers: every read after a write sees it, whichever worker answers', async (t) => {
  const { env, token } = setup(t)
  const cluster = await startCluster(env)
  t.teardown(() => cluster.child.kill('SIGTERM'))
  t.equal(cluster.workerPids().length, 2, 'two workers started')

  const created = await call(cluster.base, 'package_create', dataset('luftmessung', 'Luft 0'), token)
  t.equal(created.status, 200, JSON.stringify(created.body.error))
  let stale = 0
  for (let i = 1; i <= 15; i++) {
    // Both workers have the dataset cached (the reads before) when the next write comes.
    const patched = await call(cluster.base, 'package_patch', { id: 'luftmessung', title: `Luft ${i}` }, token)
    t.equal(patched.status, 200)
    for (let r = 0; r < 4; r++) {
      const shown = await call(cluster.base, 'package_show?id=luftmessung')
      if (shown.body.result?.title !== `Luft ${i}`) stale++
    }
    const found = await call(cluster.base, `package_search?q=${encodeURIComponent(`title:"Luft ${i}"`)}&facet.field=["organization"]`)
    if (found.body.result?.count !== 1) stale++
  }
  t.equal(stale, 0, 'no read answered with an older version')
})

t.test('two workers: the write rate limit holds for the whole service', async (t) => {
  const { env, token } = setup(t, { WRITE_RATE_LIMIT: '5' })
  const cluster = await startCluster(env)
  t.teardown(() => cluster.child.kill('SIGTERM'))
  const statuses: number[] = []
  for (let i = 0; i < 9; i++) statuses.push((await call(cluster.base, 'package_create', dataset(`limit-${i}`, `Limit ${i}`), token)).status)
  t.same(statuses.slice(0, 5), [200, 200, 200, 200, 200], 'the first five writes pass')
  t.same(statuses.slice(5), [429, 429, 429, 429], 'then 429, although each worker saw fewer than five')
  const count = await call(cluster.base, 'package_search?q=name:limit*&rows=0')
  t.equal(count.body.result.count, 5, 'exactly five datasets were written')
})

t.test('a worker that dies is replaced; SIGTERM stops every process', async (t) => {
  const { env } = setup(t)
  const cluster = await startCluster(env)
  const [first] = cluster.workerPids()
  process.kill(first!, 'SIGKILL')
  const deadline = Date.now() + 30_000
  while (cluster.workerPids().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  t.equal(cluster.workerPids().length, 3, 'a new worker was started')
  t.match(cluster.log(), /worker process died; starting another/)
  // The primary hands connections only to workers that listen: every request is answered, whether the new
  // worker is up yet or not.
  const statuses = new Set<number>()
  for (let i = 0; i < 10; i++) statuses.add((await call(cluster.base, 'organization_list')).status)
  t.same([...statuses], [200], 'every request answered')

  const exited = new Promise<number | null>((resolve) => cluster.child.once('exit', (code) => resolve(code)))
  cluster.child.kill('SIGTERM')
  t.equal(await exited, 0, 'the primary exits cleanly')
  const gone = Date.now() + 30_000
  while (cluster.workerPids().some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100))
  t.same(cluster.workerPids().filter(alive), [], 'no worker is left running')
})
