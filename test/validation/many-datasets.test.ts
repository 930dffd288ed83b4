// Validation speed on a 100-dataset catalog (target: < 5 ms per dataset). Prints the numbers;
// the assertion is deliberately loose (shared CI machines are noisy).
import t from 'tap'
import { createValidator, type ValidatorOptions } from '../../src/validation/validator.js'
import { officialShapeFiles } from '../../src/validation/official.js'
import { loadFixture, manyDatasets } from './helpers.js'

const DATASETS = 100
const RUNS = 7
const quads = manyDatasets(loadFixture('valid-dataset.ttl'), DATASETS)

const setups: Array<[string, ValidatorOptions]> = [
  ['own dcat_ap_de_2', { profile: 'dcat_ap_de_2' }],
  ['own dcat_ap_de_3', { profile: 'dcat_ap_de_3' }],
]
if (officialShapeFiles('official-de-2')) setups.push(['official-de-2', { shapes: 'official-de-2' }])
if (officialShapeFiles('official-de-3')) setups.push(['official-de-3', { shapes: 'official-de-3' }])

t.test(`validation time for ${DATASETS} datasets (${quads.length} quads)`, async (t) => {
  for (const [label, opts] of setups) {
    let start = performance.now()
    const v = await createValidator(opts)
    const first = await v.validate(quads)
    const cold = performance.now() - start
    t.equal(first.counts.violation, 0, `${label}: the generated catalog has no violation`)
    const times: number[] = []
    for (let i = 0; i < RUNS; i++) {
      start = performance.now()
      await v.validate(quads)
      times.push(performance.now() - start)
    }
    times.sort((a, b) => a - b)
    const min = times[0] / DATASETS
    const median = times[Math.floor(RUNS / 2)] / DATASETS
    t.comment(
      `${label}: first run (parse + compile + validate) ${cold.toFixed(0)} ms; then per run min ${times[0].toFixed(0)} ms, median ${times[Math.floor(RUNS / 2)].toFixed(0)} ms => ${min.toFixed(2)} / ${median.toFixed(2)} ms per dataset (target < 5)`,
    )
    t.ok(min < 10, `${label}: ${min.toFixed(2)} ms per dataset (best of ${RUNS}) is within 2x of the 5 ms target`)
  }
})
