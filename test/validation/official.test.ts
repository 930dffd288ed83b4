// Checks against the official GovData / SEMIC shapes in ../shared/conformance/shapes/ (skipped
// with a printed reason when that folder is not beside the repository).
import t, { type Test } from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { createValidator, type Profile, type Validator } from '../../src/validation/validator.js'
import {
  OFFICIAL_SHAPE_SETS,
  REPO_ROOT,
  officialShapeFiles,
  officialShapesMissingReason,
  type OfficialShapeSet,
} from '../../src/validation/official.js'
import { BROKEN_CASES, describe, loadFixture, parseTurtle, violationKeys } from './helpers.js'

const base = loadFixture('valid-dataset.ttl')
const TESTCASES = resolve(REPO_ROOT, '../shared/fixtures/dcat-ap-de-testcases')

function skipUnless(t: Test, set: OfficialShapeSet): boolean {
  const reason = officialShapesMissingReason(set)
  if (reason) {
    t.comment(`skipping: ${reason}`)
    t.skip(reason, () => {})
    return true
  }
  return false
}

t.test('official shape sets are located (or reported missing)', async (t) => {
  for (const set of OFFICIAL_SHAPE_SETS) {
    const files = officialShapeFiles(set)
    const reason = officialShapesMissingReason(set)
    t.equal(files === null, reason !== null, `${set}: files and reason agree`)
    if (files) t.ok(files.every((f) => existsSync(f)), `${set}: ${files.length} files`)
    else t.comment(`${set}: ${reason}`)
  }
})

t.test('every official shape set loads and validates the valid fixture', async (t) => {
  for (const set of OFFICIAL_SHAPE_SETS) {
    if (!officialShapeFiles(set)) {
      t.skip(`${set}: ${officialShapesMissingReason(set)}`, () => {})
      continue
    }
    const v = await createValidator({ shapes: set })
    const r = await v.validate(base)
    t.comment(`${set}: conforms=${r.conforms} ${JSON.stringify(r.counts)}`)
    for (const f of r.findings) t.comment(`  ${describe(f)}`)
    t.ok(r.findings.every((f) => f.message.de && f.message.en), `${set}: every finding has a German and an English message`)
    if (set.startsWith('official-')) t.ok(r.conforms, `${set}: the valid fixture conforms`)
  }
})

const PAIRS: Array<{ profile: Profile; set: OfficialShapeSet }> = [
  { profile: 'dcat_ap_de_2', set: 'official-de-2' },
  { profile: 'dcat_ap_de_3', set: 'official-de-3' },
]

for (const { profile, set } of PAIRS) {
  t.test(`our ${profile} shapes and ${set} flag the same violations`, async (t) => {
    if (skipUnless(t, set)) return
    const own = await createValidator({ profile })
    const official = await createValidator({ shapes: set })
    t.equal(official.shapeSet, set)
    t.same(violationKeys(await official.validate(base)), [], 'no violation on the valid fixture')
    for (const c of BROKEN_CASES) {
      const quads = c.quads(base)
      const mine = violationKeys(await own.validate(quads))
      const theirs = violationKeys(await official.validate(quads))
      const expected = [`${c.focus} ${c.path}`]
      t.same(mine, expected, `${c.name}: ours`)
      if (set === 'official-de-3' && theirs.length === 0) {
        // DCAT-AP.de 3.0 has no date datatype check (SEMIC 3.0.0), only warns on licences outside
        // the dcat-ap.de list and on contributor IDs; our profile keeps the GovData Konventionen
        t.comment(`${c.name}: ${set} has no violation, ours: ${mine.join(', ')}`)
        t.ok(['two contributorIDs', 'unknown licence URI', 'date "gestern"^^xsd:date'].includes(c.name), `${c.name}: known difference`)
        continue
      }
      t.same(theirs, expected, `${c.name}: ${set}`)
    }
  })
}

t.test('official findings carry German messages and a generated English fallback', async (t) => {
  if (skipUnless(t, 'official-de-2')) return
  const v = await createValidator({ shapes: 'official' })
  t.equal(v.shapeSet, 'official-de-2', '"official" means the set of the profile')
  const r = await v.validate(BROKEN_CASES[0].quads(base))
  const f = r.findings.find((x) => x.severity === 'violation')!
  t.equal(f.message.de, 'dcat:Dataset: dct:title MUSS vorhanden und ein Literal sein.')
  t.equal(f.message.en, 'dct:title: at least 1 value expected, found 0')

  const csv = await v.validate(BROKEN_CASES.find((c) => c.name.startsWith('lower-case'))!.quads(base))
  for (const g of csv.findings.filter((x) => x.severity === 'violation')) {
    t.equal(g.value, 'http://publications.europa.eu/resource/authority/file-type/csv', 'lifted to the distribution, value kept')
    t.match(g.message.en, /is not an entry of the vocabulary http:\/\/publications\.europa\.eu\/resource\/authority\/file-type/)
  }
})

t.test('GovData test cases (shared/fixtures/dcat-ap-de-testcases)', async (t) => {
  if (!existsSync(TESTCASES)) {
    t.comment(`skipping: ${TESTCASES} not found`)
    t.skip('test cases not present', () => {})
    return
  }
  const validators: Record<string, Validator> = {
    own2: await createValidator({ profile: 'dcat_ap_de_2' }),
    own3: await createValidator({ profile: 'dcat_ap_de_3' }),
  }
  if (officialShapeFiles('official-de-2')) validators.off2 = await createValidator({ shapes: 'official-de-2' })
  if (officialShapeFiles('official-de-3')) validators.off3 = await createValidator({ shapes: 'official-de-3' })

  t.comment('file: violations/warnings/infos per validator; agree = same violating (focus, path) as official (ours vs off)')
  let agreeing = 0
  let compared = 0
  for (const name of readdirSync(TESTCASES).filter((n) => n.endsWith('.ttl')).sort()) {
    const quads = parseTurtle(readFileSync(`${TESTCASES}/${name}`, 'utf8'), `http://example.org/testcases/${name}`)
    const cells: string[] = []
    const keys: Record<string, string[]> = {}
    for (const [label, v] of Object.entries(validators)) {
      const r = await v.validate(quads)
      keys[label] = violationKeys(r)
      cells.push(`${label} ${r.counts.violation}/${r.counts.warning}/${r.counts.info}`)
      const missing = r.findings.filter((f) => !f.message.de || !f.message.en)
      if (missing.length) t.fail(`${name} ${label}: findings without German or English message: ${missing.map(describe).join('; ')}`)
      if (name === 'v2.0_shapes-konventionen-perfect.ttl' && label === 'off2') {
        t.ok(r.conforms, 'the "perfect" GovData test case conforms to official-de-2')
        t.same(r.findings, [], '... without any finding')
      }
      if (name === 'v2.0_shapes-konventionen-perfect.ttl' && label === 'own2') {
        t.ok(r.conforms, 'the "perfect" GovData test case conforms to our dcat_ap_de_2 shapes')
      }
      if (name === 'v3.0_shapes-quicktest.ttl' && (label === 'off3' || label === 'own3')) {
        t.ok(r.conforms, `v3.0 quicktest conforms to ${label}`)
      }
    }
    let agree = ''
    if (keys.off2 && name.startsWith('v2.0')) {
      compared++
      const same = JSON.stringify(keys.own2) === JSON.stringify(keys.off2)
      if (same) agreeing++
      agree = same ? ' agree(2)' : ` differ(2): +${keys.own2.filter((k) => !keys.off2.includes(k)).length}/-${keys.off2.filter((k) => !keys.own2.includes(k)).length}`
    }
    t.comment(`${name}: ${cells.join('  ')}${agree}`)
  }
  t.comment(`v2.0 test cases with identical violations (own dcat_ap_de_2 vs official-de-2): ${agreeing} of ${compared}`)
})
