// A catalog of 100 datasets made from the valid fixture validates clean under every profile, and a validator
// reused for a second run gives the same report. How long validation takes is measured by `npm run bench`
// (section dcat, "validation of exported datasets"), not asserted here: timings fail on a busy machine.
import t from 'tap'
import { createValidator, type ValidatorOptions } from '../../src/validation/validator.js'
import { officialShapeFiles } from '../../src/validation/official.js'
import { loadFixture, manyDatasets } from './helpers.js'

const DATASETS = 100
const quads = manyDatasets(loadFixture('valid-dataset.ttl'), DATASETS)

const setups: Array<[string, ValidatorOptions]> = [
  ['own dcat_ap_de_2', { profile: 'dcat_ap_de_2' }],
  ['own dcat_ap_de_3', { profile: 'dcat_ap_de_3' }],
]
if (officialShapeFiles('official-de-2')) setups.push(['official-de-2', { shapes: 'official-de-2' }])
if (officialShapeFiles('official-de-3')) setups.push(['official-de-3', { shapes: 'official-de-3' }])

t.test(`${DATASETS} generated datasets (${quads.length} quads)`, async (t) => {
  for (const [label, opts] of setups) {
    const validator = await createValidator(opts)
    const first = await validator.validate(quads)
    t.equal(first.counts.violation, 0, `${label}: the generated catalog has no violation`)
    const again = await validator.validate(quads)
    t.same(again.counts, first.counts, `${label}: a reused validator gives the same counts`)
  }
})
