/**
 * The compiled build as `npm start` and bin/godonu.js run it (dist/, built by `npm install`): its migrations,
 * the assets modules find relative to their own file (catalog/, the shapes, the OpenAPI document) and the
 * cluster workers forked from the compiled entry, all without tsx.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { tempDir } from '../helpers/temp.js'
import { LISTENING_JSON, startServe } from '../helpers/serve.js'

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
    const { base: address } = await startServe(
      t,
      [MAIN],
      { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, LOG_LEVEL: 'info' },
      LISTENING_JSON,
    )
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
