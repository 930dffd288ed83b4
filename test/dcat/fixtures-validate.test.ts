import t from 'tap'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { parseRdf } from '../../src/dcat/parse.js'
import { datasetToQuads, parsedToPackageDict, quadsToDatasets } from '../../src/dcat/mapping.js'
import { vocabularies } from '../../src/catalog/vocabularies.js'
import { createValidator } from '../../src/validation/index.js'

/**
 * The fixtures (real DCAT-AP.de documents) import, export and validate: every finding of the report
 * speaks German and English, and DCAT-AP.de's own reference examples conform after the round trip.
 */
const FIXTURES = '../shared/fixtures'
if (!existsSync(FIXTURES)) {
  t.comment(`skipping fixture validation: ${FIXTURES} is not present`)
} else {
  const vocab = vocabularies()
  const files = [
    'ckanext-dcat/dataset_gov_de.rdf',
    ...readdirSync(`${FIXTURES}/ckanext-dcatde`).filter((f) => f.endsWith('.rdf')).map((f) => `ckanext-dcatde/${f}`),
    ...readdirSync(`${FIXTURES}/dcat-ap-de-examples`).filter((f) => /\.(ttl|rdf|jsonld)$/.test(f)).map((f) => `dcat-ap-de-examples/${f}`),
    'real-catalogs/rostock-catalog-original-input.rdf',
  ]
  for (const profile of ['dcat_ap_de_2', 'dcat_ap_de_3'] as const) {
    t.test(profile, async (t) => {
      const validator = await createValidator({ profile })
      for (const file of files) {
        const format = file.endsWith('.ttl') ? 'ttl' : file.endsWith('.jsonld') ? 'jsonld' : 'rdf'
        const quads = await parseRdf(readFileSync(`${FIXTURES}/${file}`, 'utf8'), format, { baseIri: `http://example.org/${file}#` })
        const datasets = quadsToDatasets(quads, { vocab })
        t.ok(datasets.length > 0, `${file}: imports ${datasets.length} datasets`)
        let violations = 0
        for (const parsed of datasets) {
          const dict = parsedToPackageDict(parsed, { vocab })
          const exported = datasetToQuads(dict, { baseUrl: 'http://localhost:3000', contributorId: 'http://dcat-ap.de/def/contributors/hessen', vocab, profile, organization: null })
          const report = await validator.validate(exported)
          violations += report.counts.violation
          const unspoken = report.findings.filter((f) => !f.message.de || !f.message.en)
          if (unspoken.length) t.fail(`${file}: findings without a German and English message`)
        }
        if (/ADVANCED/.test(file)) t.equal(violations, 0, `${file}: the reference example conforms after import and export`)
        else t.comment(`${file}: ${violations} violations in the source data`)
      }
    })
  }
}
