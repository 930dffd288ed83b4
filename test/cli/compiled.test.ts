/**
 * The compiled build as `npm start` and bin/godonu.js run it (dist/, built by `npm install`): its migrations,
 * the assets modules find relative to their own file (catalog/, the shapes, the OpenAPI document) and the
 * cluster workers forked from the compiled entry, all without tsx.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { tempDir } from '../helpers/temp.js'

const MAIN = 'dist/src/cli/main.js'

function godonu(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['bin/godonu.js', ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  })
}

if (!existsSync(MAIN)) {
  t.fail(`${MAIN} is missing: npm install builds it (or npm run build)`)
} else {
  t.test('bin/godonu.js migrates with the compiled migrations and validates with the shapes of catalog/', async (t) => {
    const env = { DATABASE_URL: `sqlite:${join(tempDir(t, 'godonu-compiled-'), 'db.sqlite')}` }
    const migrated = godonu(['migrate'], env)
    t.equal(migrated.status, 0, migrated.stderr)
    t.match(migrated.stdout, /applied: 0001_catalog_core, 0002_full_text/)
    const valid = godonu(['validate', 'test/validation/fixtures/valid-dataset.ttl'], env)
    t.equal(valid.status, 0, valid.stderr)
    t.match(valid.stdout, /conforms|konform/i)
  })

  t.test('npm start serves the API, the DCAT catalog and the Swagger UI from dist/', async (t) => {
    const dir = tempDir(t, 'godonu-compiled-')
    const child = spawn(process.execPath, [MAIN, 'serve'], {
      env: { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    // stopped (and gone) before tempDir's teardown removes its database
    t.teardown(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    })
    let output = ''
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listen line within 120 s: ${output}`)), 120_000)
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)))
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
        if (match) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      })
    })
    const status = await fetch(`${address}/api/3/action/organization_list`)
    t.equal(status.status, 200)
    const body = (await status.json()) as { result: string[] }
    t.ok(body.result.includes('marburg'), 'the Kommunen from catalog/ are loaded')
    const turtle = await fetch(`${address}/catalog.ttl`)
    t.equal(turtle.status, 200)
    t.match(await turtle.text(), /dcat:Catalog/)
    const docs = await fetch(`${address}/docs/json`)
    t.equal(docs.status, 200, 'the OpenAPI document behind the Swagger UI')
  })
}
