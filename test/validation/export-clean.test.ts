// The export of harvested-style datasets (temporal coverage, geometry, political geocoding, maintainer,
// originator, provenance, dataset type) against the official DCAT-AP.de 2.0 and 3.0 shapes: no violation, and
// no warning the exporter could avoid: the only warnings left are about data the dataset lacks. The deprecated
// properties appear only in the `compat` profile. Skipped, with the reason, when ../shared is absent.
import t from 'tap'
import type { Quad } from '@rdfjs/types'
import { datasetToQuads, type MappingContext } from '../../src/dcat/mapping.js'
import { createValidator, type Finding } from '../../src/validation/index.js'
import { officialShapesMissingReason } from '../../src/validation/official.js'
import { SAMPLE_DATASETS } from '../helpers/datasets.js'
import { BASE, CONTRIBUTOR, kommune, packageDict, vocab } from '../dcat/support.js'

const SCHEMA = 'http://schema.org/'
const HARVESTED_EXTRAS = [
  { key: 'temporal_start', value: '2020-01-01' },
  { key: 'temporal_end', value: '2020-12-31T23:59:59' },
  { key: 'spatial', value: '{"type":"Point","coordinates":[8.77,50.81]}' },
  { key: 'spatial_text', value: 'Marburg' },
  { key: 'dcat_type', value: 'http://publications.europa.eu/resource/authority/dataset-type/STATISTICAL' },
  { key: 'provenance', value: 'Erhoben vom Fachdienst Stadtgrün' },
  { key: 'originator_name', value: 'Fachdienst Stadtgrün' },
  { key: 'originator_contacttype', value: 'Organization' },
]

/**
 * Warnings about what the data lacks (no landing page, no category), and the dataset-type vocabulary,
 * which catalog/vocabularies/ does not ship (the official 3.0 shapes test `skos:inScheme` of the EU
 * dataset-type list): nothing the exporter can write instead.
 */
const DATA_GAPS = [
  'dcat_ap_de_2 http://www.w3.org/ns/dcat#landingPage sh:MinCountConstraintComponent',
  'dcat_ap_de_2 http://www.w3.org/ns/dcat#theme sh:MinCountConstraintComponent',
  'dcat_ap_de_3 http://purl.org/dc/terms/type sh:HasValueConstraintComponent',
]

function exportAll(profile: MappingContext['profile'], compat: boolean): Quad[] {
  return SAMPLE_DATASETS.flatMap((sample) => {
    const org = kommune(sample.owner_org)
    const { owner_org: _owner, ...input } = sample
    const dict = packageDict({ ...input, extras: [...(sample.extras ?? []), ...HARVESTED_EXTRAS] }, org)
    return datasetToQuads(dict, {
      baseUrl: BASE,
      contributorId: CONTRIBUTOR,
      vocab,
      profile,
      organization: org,
      compat,
    })
  })
}

const describe = (f: Finding) => `${f.focusNode} ${f.path} ${f.constraint}: ${f.message.de}`

for (const { profile, official } of [
  { profile: 'dcat_ap_de_2', official: 'official-de-2' },
  { profile: 'dcat_ap_de_3', official: 'official-de-3' },
] as const) {
  t.test(`${profile} export against ${official}`, async (t) => {
    const missing = officialShapesMissingReason(official)
    if (missing) {
      t.comment(`skipping: ${missing}`)
      return
    }
    const validator = await createValidator({ shapes: official })
    const quads = exportAll(profile, false)
    const report = await validator.validate(quads)
    t.same(report.findings.filter((f) => f.severity === 'violation').map(describe), [], 'no violation')
    const avoidable = report.findings
      .filter((f) => f.severity === 'warning')
      .filter((f) => !DATA_GAPS.includes(`${profile} ${f.path} ${f.constraint}`))
    t.same(avoidable.map(describe), [], 'no warning but the data gaps')
    t.notOk(
      quads.some((q) => q.predicate.value.startsWith(SCHEMA)),
      'no schema:startDate / schema:endDate without the compat profile',
    )
    t.ok(
      quads.some((q) => q.predicate.value === 'http://www.w3.org/ns/dcat#startDate'),
      'dcat:startDate is written',
    )

    const compat = exportAll(profile, true)
    t.ok(
      compat.some((q) => q.predicate.value === `${SCHEMA}startDate`) &&
        compat.some((q) => q.predicate.value === `${SCHEMA}endDate`),
      'the compat profile adds schema:startDate / schema:endDate',
    )
    const compatReport = await validator.validate(compat)
    t.same(
      compatReport.findings.filter((f) => f.severity === 'violation').map(describe),
      [],
      'the compat profile has no violation either',
    )
  })
}
