// `godonu validate --shapes official` from the compiled build (dist/, `npm run build`): the official shapes
// are found beside the repository (../shared), not beside dist/ (src/paths.ts).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import t from 'tap'
import { officialShapesMissingReason } from '../../src/validation/official.js'

const MAIN = 'dist/src/cli/main.js'
const VALID = 'test/validation/fixtures/valid-dataset.ttl'

function compiled(args: string[]) {
  return spawnSync(process.execPath, [MAIN, 'validate', ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', GODONU_OFFICIAL_SHAPES_DIR: '' },
    encoding: 'utf8',
    timeout: 120_000,
  })
}

if (!existsSync(MAIN)) {
  t.fail(`${MAIN} is missing: npm install builds it (or npm run build)`)
} else {
  for (const profile of ['dcat_ap_de_2', 'dcat_ap_de_3']) {
    t.test(`compiled CLI, --shapes official --profile ${profile}`, async (t) => {
      const r = compiled([VALID, '--shapes', 'official', '--profile', profile, '--output', 'json'])
      const missing = officialShapesMissingReason(profile === 'dcat_ap_de_3' ? 'official-de-3' : 'official-de-2')
      if (missing) {
        t.comment(`../shared is absent: ${missing}`)
        t.equal(r.status, 2, 'no official shapes: exit 2')
        t.match(
          r.stderr.trim(),
          /^godonu: --shapes official: official shapes not found \(looked for .*\/shared\/conformance\/shapes\)$/,
        )
        t.notMatch(r.stderr, /\/dist\/\.\.\/shared|dist\/shared/, 'never looks beside dist/')
        return
      }
      t.equal(r.status, 0, r.stderr)
      const doc = JSON.parse(r.stdout) as { shapes: string; results: Array<{ status: string }> }
      t.equal(doc.shapes, profile === 'dcat_ap_de_3' ? 'official-de-3' : 'official-de-2')
      t.equal(doc.results[0]?.status, 'conforms')
    })
  }

  t.test('compiled CLI finds catalog/ shapes and reports violations with exit 1', async (t) => {
    const r = compiled(['-', '--lang', 'en'])
    t.equal(r.status, 2, 'stdin closed and empty: unusable')
    const own = spawnSync(process.execPath, [MAIN, 'validate', '-', '--format', 'nt'], {
      input:
        '<https://example.org/d> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Dataset> .\n',
      encoding: 'utf8',
      timeout: 120_000,
    })
    t.equal(own.status, 1, own.stderr)
    t.match(own.stdout, /dct:title/)
  })
}
