import { spawnSync, spawn, type SpawnSyncOptions } from 'node:child_process'
import { createServer } from 'node:net'
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { tempDir } from '../helpers/temp.js'
import { LISTENING_JSON, readyz, startServe } from '../helpers/serve.js'

const CLI = ['--import', 'tsx', 'src/cli/main.ts']

function run(args: string[], env: Record<string, string>, options: Pick<SpawnSyncOptions, 'uid' | 'gid'> = {}) {
  const spawnOptions = { env: { ...process.env, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8' as const, timeout: 60_000, ...options }
  // Another user cannot write tap's process records: such a child runs without the NODE_OPTIONS tap adds to every spawn.
  if (options.uid !== undefined) return spawnSync('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, ...CLI, ...args], spawnOptions)
  return spawnSync(process.execPath, [...CLI, ...args], spawnOptions)
}

/** Expected failures end with exit code 1 and exactly one line on stderr: no stack trace. */
function assertOneLineFailure(t: any, result: ReturnType<typeof run>, pattern: RegExp) {
  t.equal(result.error, undefined, 'it ended by itself (no hang)')
  t.equal(result.status, 1, 'exit code 1')
  const lines = result.stderr.trim().split('\n')
  t.equal(lines.length, 1, `one line on stderr: ${result.stderr}`)
  t.match(lines[0], pattern)
  t.notMatch(result.stderr, /\bat .+:\d+:\d+/, 'no stack trace')
}

t.test('a bad DATABASE_URL fails fast with one line', async (t) => {
  assertOneLineFailure(t, run(['serve'], { DATABASE_URL: 'postgres://x/y' }), /^godonu: DATABASE_URL .* unknown scheme/)
  assertOneLineFailure(t, run(['serve'], { DATABASE_URL: 'mysql://user@localhost/' }), /^godonu: DATABASE_URL .*needs a host and a database/)
})

t.test('an unreachable database fails fast with one line', async (t) => {
  const result = run(['serve'], { DATABASE_URL: 'mysql://u:secret@127.0.0.1:1/nothing' })
  assertOneLineFailure(t, result, /^godonu: cannot reach MySQL\/MariaDB at mysql:\/\/u:\*\*\*@127\.0\.0\.1:1\/nothing/)
  t.notMatch(result.stderr, /secret/, 'the password is not printed')
})

t.test('a port in use fails fast with one line', async (t) => {
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const port = (blocker.address() as { port: number }).port
  const dir = tempDir(t, 'godonu-cli-')
  const result = run(['serve'], { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, PORT: String(port) })
  assertOneLineFailure(t, result, new RegExp(`^godonu: port ${port} on 127\\.0\\.0\\.1 is already in use`))
})

t.test('a bad PORT fails fast with one line', async (t) => {
  assertOneLineFailure(t, run(['serve'], { PORT: 'eighty' }), /^godonu: PORT="eighty" must be a whole number/)
})

t.test('every invalid setting stops the start with one line naming it and the fix', async (t) => {
  const dir = tempDir(t, 'godonu-cli-')
  const db = { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}` }
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ LOG_LEVEL: 'verbose' }, /^godonu: LOG_LEVEL="verbose" is not allowed: use one of fatal, error, warn, info, debug, trace, silent$/],
    [{ LOG_FORMAT: 'xml' }, /^godonu: LOG_FORMAT="xml" is not allowed: use one of json, pretty$/],
    [{ HOST: 'nosuchhost.invalid' }, /^godonu: HOST="nosuchhost\.invalid" cannot be resolved \(\w+\): set HOST to /],
    [{ HOST: '999.1.1.1' }, /^godonu: HOST="999\.1\.1\.1" is not a valid IPv4 address: set HOST to /],
    [{ HOST: 'bad host!' }, /^godonu: HOST="bad host!" is not a host name or address/],
    [{ CORS_ORIGINS: 'https://portal.example.de,portal2.example.de' }, /^godonu: CORS_ORIGINS entry "portal2\.example\.de" is not an origin: list origins as scheme:\/\/host\[:port\]/],
    [{ CORS_ORIGINS: 'https://portal.example.de/app' }, /^godonu: CORS_ORIGINS entry "https:\/\/portal\.example\.de\/app" is not an origin/],
    [{ DATABASE_URL: 'sqlite::memory:', WORKERS: '2' }, /^godonu: WORKERS=2 cannot share DATABASE_URL=sqlite::memory: .*set WORKERS=1 or use a database file$/],
    [{ DATABASE_URL: 'sqlite:/proc/x.sqlite' }, /^godonu: DATABASE_URL "sqlite:\/proc\/x\.sqlite" is under \/proc, which holds no ordinary files/],
    [{ DATABASE_URL: 'sqlite:/proc/self/fd/0' }, /^godonu: DATABASE_URL "sqlite:\/proc\/self\/fd\/0" is under \/proc/],
    [{ DATABASE_URL: 'sqlite:/etc/passwd/x.sqlite' }, /^godonu: DATABASE_URL: the data directory \/etc\/passwd cannot be created, a part of that path is a file/],
    [{ DATABASE_URL: `sqlite:${dir}` }, /^godonu: DATABASE_URL: .* is not a regular file/],
  ]
  for (const [env, pattern] of cases) {
    const result = run(['serve'], { ...db, PORT: '0', ...env })
    t.test(JSON.stringify(env), async (t) => assertOneLineFailure(t, result, pattern))
  }
  const blamed = run(['serve'], { ...db, HOST: '999.1.1.1' })
  t.notMatch(blamed.stderr, /BASE_URL/, 'a bad HOST is blamed on HOST, not on the BASE_URL made from it')
})

t.test('a read-only SQLite database stops the start with one line', async (t) => {
  const dir = tempDir(t, 'godonu-cli-')
  const file = join(dir, 'data', 'db.sqlite')
  mkdirSync(join(dir, 'data'))
  const migrated = run(['migrate'], { DATABASE_URL: `sqlite:${file}` })
  t.equal(migrated.status, 0, migrated.stderr)
  // Read-only for the user who starts the service: as root, that user is nobody (root writes any file).
  const asRoot = process.getuid?.() === 0
  chmodSync(dir, 0o755)
  chmodSync(join(dir, 'data'), 0o555)
  chmodSync(file, 0o444)
  t.teardown(() => chmodSync(join(dir, 'data'), 0o755))
  const env = { DATABASE_URL: `sqlite:${file}`, PORT: '0', HOME: dir }
  const result = run(['serve'], env, asRoot ? { uid: 65534, gid: 65534 } : {})
  assertOneLineFailure(t, result, /^godonu: DATABASE_URL: the SQLite database .*db\.sqlite is read-only for this user \(EACCES\): make the file and its directory writable/)
})

t.test('a data directory path that is a file stops the start with one line', async (t) => {
  const dir = tempDir(t, 'godonu-cli-')
  writeFileSync(join(dir, 'file'), 'not a directory')
  assertOneLineFailure(t, run(['serve'], { DATABASE_URL: `sqlite:${join(dir, 'file', 'x.sqlite')}`, PORT: '0' }), /^godonu: DATABASE_URL: the data directory .*file cannot be created, a part of that path is a file/)
  assertOneLineFailure(t, run(['migrate'], { DATABASE_URL: `sqlite:${join(dir, 'file', 'x.sqlite')}` }), /^godonu: DATABASE_URL: the data directory/)
})

/** Starts `godonu serve`, stopped (and gone) at teardown; resolves with the base URL and the output so far. */
t.test('serve on sqlite::memory: runs in one process, with pretty logs', async (t) => {
  const { base, output } = await startServe(t, CLI, { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' }, /INFO.*: server listening\s+address: "(http:\/\/127\.0\.0\.1:\d+)"/)
  const organizations = await fetch(`${base}/api/3/action/organization_list`)
  t.equal(organizations.status, 200, 'the database the service reads is the one migrated (no "no such table")')
  t.ok(((await organizations.json()) as { result: string[] }).result.includes('marburg'))
  const ready = await readyz(base)
  t.equal(ready.status, 200, await ready.text())
  const text = output()
  for (const phase of ['configuration read', 'database opened', 'migrations applied', 'reference data synced', 'service started in this process', 'server listening']) {
    t.match(text, new RegExp(`INFO.*: ${phase}`), `a pretty line for: ${phase}`)
  }
  t.match(text, /migrations: "0001_catalog_core, 0002_full_text/, 'the migrations applied, by name')
  t.notMatch(text, /^\{"level"/m, 'no JSON lines')
  t.notMatch(text, /no such table|Error/)
})

t.test('serve starts on the embedded SQLite default and answers', async (t) => {
  const dir = tempDir(t, 'godonu-cli-')
  const file = join(dir, 'data', 'godonu.sqlite')
  const { base: address } = await startServe(t, CLI, { DATABASE_URL: `sqlite:${file}`, LOG_LEVEL: 'info' }, LISTENING_JSON)
  const response = await fetch(`${address}/api/3/action/organization_list`)
  t.equal(response.status, 200)
  const body = (await response.json()) as { result: string[] }
  t.ok(body.result.includes('marburg'), 'the Kommunen from catalog/ are loaded')
  t.ok(existsSync(file), 'the SQLite file is created')
  const docs = await fetch(`${address}/docs/`)
  t.equal(docs.status, 200, 'Swagger UI at /docs')
  t.match(docs.headers.get('content-security-policy'), /script-src 'self'/, 'with a policy that lets it load its own scripts')
})

t.test('serve logs one JSON line per start-up phase and one per request', async (t) => {
  const dir = tempDir(t, 'godonu-cli-')
  const { base, output } = await startServe(t, CLI, { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, LOG_LEVEL: 'info' }, /"address":"(http:\/\/127\.0\.0\.1:\d+)","msg":"server listening \(cluster\)"/)
  const phases = () =>
    output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; migrations?: string; sinceStartMs?: number; path?: string })
  const seen = phases().map((line) => line.msg)
  const PHASES = ['configuration read', 'database opened', 'migrations applied', 'reference data synced', 'workers started', 'server listening (cluster)']
  for (const phase of PHASES) {
    t.equal(seen.filter((msg) => msg === phase).length, 1, `one line: ${phase}`)
  }
  t.match(phases().find((line) => line.msg === 'migrations applied')?.migrations, /^0001_catalog_core, /)
  for (const line of phases().filter((l) => PHASES.includes(l.msg))) t.type(line.sinceStartMs, 'number', `${line.msg} says when`)
  await (await fetch(`${base}/api/3/action/status_show`)).text()
  // The access line is written after the answer: wait for it.
  for (let i = 0; i < 100 && !phases().some((line) => line.msg === 'request'); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(phases().filter((line) => line.msg === 'request').map((line) => line.path), ['/api/3/action/status_show'], 'one access line')
})

t.test('migrate reports what it did', async (t) => {
  const dir = tempDir(t, 'godonu-cli-')
  const env = { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}` }
  const first = run(['migrate'], env)
  t.equal(first.status, 0, first.stderr)
  t.match(first.stdout, /applied: 0001_catalog_core, 0002_full_text/)
  const second = run(['migrate'], env)
  t.match(second.stdout, /database is up to date/)
  assertOneLineFailure(t, run(['frobnicate'], env), /^godonu: unknown command "frobnicate"/)
})
