import { spawnSync, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { tempDir } from '../helpers/temp.js'

const CLI = ['--import', 'tsx', 'src/cli/main.ts']

function run(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [...CLI, ...args], { env: { ...process.env, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 60_000 })
}

/** Expected failures end with exit code 1 and exactly one line on stderr: no stack trace. */
function assertOneLineFailure(t: any, result: ReturnType<typeof run>, pattern: RegExp) {
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

t.test('serve starts on the embedded SQLite default and answers', async (t) => {
  const dir = tempDir(t, 'godonu-cli-')
  const file = join(dir, 'data', 'godonu.sqlite')
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    env: { ...process.env, DATABASE_URL: `sqlite:${file}`, PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // stopped (and gone) before tempDir's teardown removes its database
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  })
  const address = await new Promise<string>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`no listen line: ${output}`)), 60_000)
    child.stdout.on('data', (chunk) => {
      output += chunk
      const match = output.match(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
  })
  const response = await fetch(`${address}/api/3/action/organization_list`)
  t.equal(response.status, 200)
  const body = (await response.json()) as { result: string[] }
  t.ok(body.result.includes('marburg'), 'the Kommunen from catalog/ are loaded')
  t.ok(existsSync(file), 'the SQLite file is created')
  const docs = await fetch(`${address}/docs/`)
  t.equal(docs.status, 200, 'Swagger UI at /docs')
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
