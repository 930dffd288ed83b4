// Our own DCAT-AP.de 3.0 cases, equivalent in what they check to GovData's 3.0 test cases
// (GovDataOfficial/DCAT-AP.de-SHACL-Validation testcases/v3.0_shapes/, AGPL-3.0, so not copied here): the
// properties DCAT-AP.de 3.0 deprecates draw a warning that names the replacement, never a violation; the 3.0
// additions (data service publisher, catalogue record, checksum algorithm, contact point) are violations.
// Each case runs against our dcat_ap_de_3 shapes and, when ../shared is present, the official 3.0 shapes.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { createValidator, type Finding, type Validator } from '../../src/validation/index.js'
import { officialShapesMissingReason } from '../../src/validation/official.js'
import { FIXTURES, parseTurtle } from './helpers.js'

const BASE_TTL = readFileSync(`${FIXTURES}/valid-dataset.ttl`, 'utf8')
const DS = 'https://daten.example.org/dataset/haushaltsplan-2024'
const DIST = `${DS}/csv`
const PREFIXES = `
@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix dcatde: <http://dcat-ap.de/def/dcatde/> . @prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix spdx: <http://spdx.org/rdf/terms#> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
`
const doc = (extra: string) => parseTurtle(`${BASE_TTL}\n${PREFIXES}\n${extra}`)

interface Case {
  name: string
  turtle: string
  severity: Finding['severity']
  focus: string
  path: string
  /** the words our message must contain (what to do) */
  says?: RegExp
}

const DEPRECATED: Case[] = [
  ['dcatde:geocodingDescription', '"Stadtgebiet Fulda"', /dct:spatial/],
  ['dcatde:legalBasis', '"§ 12a EGovG"', /veraltet/],
  ['dcatde:qualityProcessURI', '<https://www.fulda.example.org/qualitaet>', /veraltet/],
  ['dcatde:maintainer', '<https://daten.example.org/organization/fulda>', /geodcatap:custodian/],
  ['dcatde:originator', '<https://daten.example.org/organization/fulda>', /geodcatap:originator/],
  ['owl:versionInfo', '"2024"', /dcat:version/],
].map(([property, value, says]) => ({
  name: `deprecated ${property as string}`,
  turtle: `<${DS}> ${property as string} ${value as string} .`,
  severity: 'warning' as const,
  focus: DS,
  path: (property as string)
    .replace('dcatde:', 'http://dcat-ap.de/def/dcatde/')
    .replace('owl:', 'http://www.w3.org/2002/07/owl#'),
  says: says as RegExp,
}))

const ADDITIONS: Case[] = [
  {
    name: 'data service without publisher',
    turtle: `<${DIST}> dcat:accessService <https://daten.example.org/api> .
      <https://daten.example.org/api> a dcat:DataService ; dct:title "Haushalts-API"@de ;
        dcat:endpointURL <https://daten.example.org/api/v1> .`,
    severity: 'violation',
    focus: 'https://daten.example.org/api',
    path: 'http://purl.org/dc/terms/publisher',
  },
  {
    name: 'catalogue record without modification date',
    turtle: `<https://daten.example.org/catalog> dcat:record <https://daten.example.org/record/1> .
      <https://daten.example.org/record/1> a dcat:CatalogRecord ; foaf:primaryTopic <${DS}> .`,
    severity: 'violation',
    focus: 'https://daten.example.org/record/1',
    path: 'http://purl.org/dc/terms/modified',
  },
  {
    name: 'contact point with neither e-mail, link nor telephone',
    turtle: `<${DS}> dcat:contactPoint <https://daten.example.org/contact/leer> .
      <https://daten.example.org/contact/leer> a vcard:Organization ; vcard:fn "Niemand"@de .`,
    severity: 'violation',
    focus: 'https://daten.example.org/contact/leer',
    path: '(<http://www.w3.org/2006/vcard/ns#hasEmail>|<http://www.w3.org/2006/vcard/ns#hasTelephone>|<http://www.w3.org/2006/vcard/ns#hasURL>)',
  },
  {
    name: 'distribution rights as plain text',
    turtle: `<${DIST}> dct:rights "Alle Rechte bei der Stadt" .`,
    severity: 'violation',
    focus: DIST,
    path: 'http://purl.org/dc/terms/rights',
  },
]

const has = (findings: Finding[], c: Case) =>
  findings.some((f) => f.severity === c.severity && f.focusNode === c.focus && f.path === c.path)

t.test('the valid fixture conforms to DCAT-AP.de 3.0 without a finding on the cases below', async (t) => {
  const own = await createValidator({ profile: 'dcat_ap_de_3' })
  const report = await own.validate(doc(''))
  t.ok(report.conforms)
  for (const c of [...DEPRECATED, ...ADDITIONS]) t.notOk(has(report.findings, c), `${c.name}: not reported on the base`)
})

const validators: Array<[string, () => Promise<Validator | null>]> = [
  ['own dcat_ap_de_3', () => createValidator({ profile: 'dcat_ap_de_3' })],
  [
    'official-de-3',
    async () => (officialShapesMissingReason('official-de-3') ? null : createValidator({ shapes: 'official-de-3' })),
  ],
]

for (const [label, make] of validators) {
  t.test(`cases against ${label}`, async (t) => {
    const v = await make()
    if (!v) {
      t.comment(`skipping: ${officialShapesMissingReason('official-de-3')}`)
      return
    }
    for (const c of [...DEPRECATED, ...ADDITIONS]) {
      const report = await v.validate(doc(c.turtle))
      t.ok(has(report.findings, c), `${c.name}: ${c.severity} on ${c.path}`)
      if (c.severity === 'warning') {
        const violations = report.findings.filter((f) => f.severity === 'violation' && f.path === c.path)
        t.same(violations, [], `${c.name}: not a violation`)
      }
      if (c.says && label.startsWith('own')) {
        const finding = report.findings.find((f) => f.focusNode === c.focus && f.path === c.path)!
        t.match(finding.message.de, c.says, `${c.name}: the message says what to do`)
        t.ok(finding.message.en, 'and in English')
      }
    }
  })
}
