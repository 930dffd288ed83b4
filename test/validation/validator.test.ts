import t from 'tap'
import { DataFactory } from 'n3'
import type { Quad } from '@rdfjs/types'
import { createValidator, resolveShapeFiles, type Profile } from '../../src/validation/validator.js'
import {
  BROKEN_CASES,
  DATASET,
  DISTRIBUTION,
  FIXTURES,
  NS,
  describe,
  iri,
  is,
  lit,
  loadFixture,
  parseTurtle,
  variant,
} from './helpers.js'

const PROFILES: Profile[] = ['dcat_ap_de_2', 'dcat_ap_de_3']
const base = loadFixture('valid-dataset.ttl')

t.test('the valid fixture conforms to our shapes in both profiles', async (t) => {
  for (const profile of PROFILES) {
    const v = await createValidator({ profile })
    const report = await v.validate(base)
    t.ok(report.conforms, `${profile}: conforms`)
    t.equal(report.counts.violation, 0, `${profile}: no violation`)
    t.equal(report.counts.warning, 0, `${profile}: no warning (${report.findings.map(describe).join('; ')})`)
    t.equal(report.counts.violation + report.counts.warning + report.counts.info, report.findings.length, 'counts add up')
  }
})

t.test('the default profile is dcat_ap_de_2 with our own shapes', async (t) => {
  const v = await createValidator()
  t.equal(v.profile, 'dcat_ap_de_2')
  t.equal(v.shapeSet, 'own:dcat_ap_de_2')
  t.match(v.files.join(' '), /catalog\/shapes\/common\.ttl.*catalog\/shapes\/dcat-ap-de-2\.ttl/)
})

for (const c of BROKEN_CASES) {
  t.test(`broken variant: ${c.name}`, async (t) => {
    for (const profile of PROFILES) {
      const v = await createValidator({ profile })
      const report = await v.validate(c.quads(base))
      t.notOk(report.conforms, `${profile}: does not conform`)
      const hits = report.findings.filter((f) => f.severity === 'violation' && f.focusNode === c.focus && f.path === c.path)
      t.ok(hits.length >= 1, `${profile}: violation on ${c.focus} with path ${c.path}`)
      for (const f of hits) {
        t.ok(f.message.de.length > 10 && f.message.en.length > 10, `${profile}: German and English message`)
        t.not(f.message.de, f.message.en, 'the two messages differ')
        t.ok(f.sourceShape?.startsWith('urn:godonu:shapes:'), 'named source shape')
        t.ok(f.constraint?.startsWith('sh:'), 'constraint component')
      }
      // nothing else breaks: every violation is about the edited node and property
      const others = report.findings.filter((f) => f.severity === 'violation' && !(f.focusNode === c.focus && f.path === c.path))
      t.same(others.map(describe), [], `${profile}: no other violation`)
    }
  })
}

t.test('messages of the broken variants (German and English)', async (t) => {
  const v = await createValidator()
  const title = await v.validate(BROKEN_CASES[0].quads(base))
  const f = title.findings.find((x) => x.path === NS.dct + 'title')!
  t.equal(f.message.de, 'Der Datensatz braucht einen Titel (dct:title).')
  t.equal(f.message.en, 'The dataset needs a title (dct:title).')
  t.equal(f.constraint, 'sh:MinCountConstraintComponent')

  const csv = await v.validate(BROKEN_CASES.find((c) => c.name.startsWith('lower-case'))!.quads(base))
  const g = csv.findings.find((x) => x.severity === 'violation')!
  t.equal(g.value, 'http://publications.europa.eu/resource/authority/file-type/csv', 'the offending value is reported')
  t.match(g.message.de, /Großbuchstaben/)
  t.match(g.message.en, /upper case/)

  const date = await v.validate(BROKEN_CASES.find((c) => c.name.startsWith('date'))!.quads(base))
  t.equal(date.findings.find((x) => x.severity === 'violation')!.value, 'gestern')
})

t.test('dcat:byteSize datatype differs between the profiles', async (t) => {
  const withSize = (dt: string) => variant(base, () => false, [[DISTRIBUTION, NS.dcat + 'byteSize', lit('12288', dt)]])
  const v2 = await createValidator({ profile: 'dcat_ap_de_2' })
  const v3 = await createValidator({ profile: 'dcat_ap_de_3' })
  t.ok((await v2.validate(withSize(NS.xsd + 'decimal'))).conforms, '2.x: xsd:decimal ok')
  t.notOk((await v2.validate(withSize(NS.xsd + 'nonNegativeInteger'))).conforms, '2.x: nonNegativeInteger not ok')
  t.ok((await v3.validate(withSize(NS.xsd + 'nonNegativeInteger'))).conforms, '3.0: nonNegativeInteger ok')
  t.notOk((await v3.validate(withSize(NS.xsd + 'decimal'))).conforms, '3.0: xsd:decimal not ok')
})

t.test('contributor IDs follow Konvention 12/13', async (t) => {
  const v = await createValidator()
  const withIds = (...ids: string[]) =>
    variant(base, is(DATASET, NS.dcatde + 'contributorID'), ids.map((id) => [DATASET, NS.dcatde + 'contributorID', iri(id)]))
  const keys = async (q: Quad[]) =>
    (await v.validate(q)).findings.filter((f) => f.path === NS.dcatde + 'contributorID').map((f) => `${f.severity}:${f.sourceShape}`)

  t.same(await keys(withIds('http://dcat-ap.de/def/contributors/hessen')), [], 'one ID from the list')
  t.same(await keys(withIds()), ['violation:urn:godonu:shapes:Dataset-contributorID-required'], 'none')
  t.same(
    await keys(withIds('http://example.org/no-list')),
    ['violation:urn:godonu:shapes:Dataset-contributorID-required', 'warning:urn:godonu:shapes:Dataset-contributorID-vocabulary'],
    'only one not from the list',
  )
  // GovData's test case P02-working_complex: one from the list plus another IRI is fine (a warning)
  t.same(
    await keys(withIds('http://dcat-ap.de/def/contributors/hessen', 'http://example.org/no-list')),
    ['warning:urn:godonu:shapes:Dataset-contributorID-vocabulary'],
    'one from the list plus a foreign IRI (needs the shacl-engine cache patch)',
  )
  t.same(
    await keys(withIds('http://dcat-ap.de/def/contributors/hessen', 'http://dcat-ap.de/def/contributors/stadtFrankfurtAmMain')),
    ['violation:urn:godonu:shapes:Dataset-contributorID-max'],
    'two from the list',
  )
})

t.test('vocabulary checks: licences, themes, languages, geocoding', async (t) => {
  const v = await createValidator()
  const replace = (s: string, p: string, o: string) => variant(base, is(s, p), [[s, p, iri(o)]])
  const violations = async (q: Quad[]) => (await v.validate(q)).findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity} ${f.path} ${f.value}`)

  t.same(await violations(replace(DISTRIBUTION, NS.dct + 'license', 'http://dcat-ap.de/def/licenses/cc-by/4.0')), [], 'cc-by/4.0 is listed')
  t.match(
    await violations(replace(DISTRIBUTION, NS.dct + 'license', 'http://dcat-ap.de/def/licenses/dl-by-de/2.0/')),
    [/^violation .*license .*dl-by-de\/2\.0\/$/],
    'a trailing slash is not in the list',
  )
  t.match(
    await violations(replace(DISTRIBUTION, NS.dct + 'license', 'http://dcat-ap.de/def/licenses/cc-nc')),
    [/^violation .*license/],
    'an old (inactive) id is not in the current list',
  )
  t.match(
    await violations(replace(DATASET, NS.dcat + 'theme', 'http://publications.europa.eu/resource/authority/data-theme/gove')),
    [/^violation .*theme/],
    'theme codes are case-sensitive',
  )
  t.match(
    await violations(variant(base, is(DATASET, NS.dct + 'language'), [[DATASET, NS.dct + 'language', lit('de')]])),
    [/^violation .*language de$/],
    'a language as text',
  )
  t.match(
    await violations(replace(DATASET, NS.dcatde + 'politicalGeocodingURI', 'http://dcat-ap.de/def/politicalGeocoding/regionalKey/06631')),
    [/^warning .*politicalGeocodingURI .*regionalKey\/06631$/],
    'a regional key needs 12 digits',
  )
  t.match(
    await violations(replace(DATASET, NS.dcatde + 'politicalGeocodingLevelURI', 'http://dcat-ap.de/def/politicalGeocoding/Level/city')),
    [/^warning .*politicalGeocodingLevelURI/],
    'unknown geocoding level',
  )
  t.match(
    await violations(replace(DISTRIBUTION, NS.dcat + 'mediaType', 'https://www.iana.org/assignments/media-types/text/csvx')),
    [/^warning .*mediaType/],
    'media type not registered at IANA',
  )
})

t.test('the attribution hint follows requires_attribution of licenses.json', async (t) => {
  const v = await createValidator()
  const noText = variant(base, is(DISTRIBUTION, NS.dcatde + 'licenseAttributionByText'))
  const r = await v.validate(noText)
  t.same(
    r.findings.map((f) => `${f.severity} ${f.sourceShape}`),
    ['warning urn:godonu:shapes:Distribution-attribution'],
    'dl-by-de without attribution text',
  )
  const zero = variant(noText, is(DISTRIBUTION, NS.dct + 'license'), [
    [DISTRIBUTION, NS.dct + 'license', iri('http://dcat-ap.de/def/licenses/dl-zero-de/2.0')],
  ])
  t.equal((await v.validate(zero)).findings.length, 0, 'dl-zero-de needs no attribution')
})

t.test('contact point, period of time and agent rules', async (t) => {
  const v2 = await createValidator({ profile: 'dcat_ap_de_2' })
  const v3 = await createValidator({ profile: 'dcat_ap_de_3' })
  const contact = 'https://daten.example.org/organization/fulda#contact'
  const noContact = variant(base, (q) => q.subject.value === contact && /hasEmail|hasURL/.test(q.predicate.value))
  for (const v of [v2, v3]) {
    const r = await v.validate(noContact)
    t.ok(r.findings.some((f) => f.severity === 'violation' && f.focusNode === contact), `${v.profile}: K01 e-mail or URL`)
  }
  const textMail = variant(base, is(contact, 'http://www.w3.org/2006/vcard/ns#hasEmail'), [
    [contact, 'http://www.w3.org/2006/vcard/ns#hasEmail', lit('opendata@fulda.example.org')],
  ])
  t.equal((await v2.validate(textMail)).findings.filter((f) => f.focusNode === contact).map((f) => f.severity).join(), 'warning', '2.x: text e-mail warns')
  t.equal((await v3.validate(textMail)).findings.filter((f) => f.focusNode === contact).map((f) => f.severity).join(), 'violation', '3.0: text e-mail is a violation')

  const period = `${DATASET}#period`
  const emptyPeriod = variant(base, (q) => q.subject.value === period && q.predicate.value !== 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type')
  for (const v of [v2, v3]) {
    const r = await v.validate(emptyPeriod)
    t.ok(r.findings.some((f) => f.severity === 'violation' && f.focusNode === period), `${v.profile}: period needs a start or end`)
  }

  const org = 'https://daten.example.org/organization/fulda'
  const noName = variant(base, is(org, 'http://xmlns.com/foaf/0.1/name'))
  const r = await v2.validate(noName)
  t.same(r.findings.filter((f) => f.severity === 'violation').map((f) => `${f.focusNode} ${f.path}`), [`${org} http://xmlns.com/foaf/0.1/name`])
})

t.test('findings about background vocabulary nodes are dropped', async (t) => {
  // a shape that every skos:Concept fails: the background concepts (themes, licences, ...) must
  // not show up, a concept described in the data must
  const v = await createValidator({ shapes: { files: [`${FIXTURES}/concept-definition-shape.ttl`] } })
  const r1 = await v.validate(base)
  t.same(r1.findings, [], 'no finding on the vocabulary entries the data uses')
  const own = parseTurtle(`<http://example.org/my-concept> a <http://www.w3.org/2004/02/skos/core#Concept> .`)
  const r2 = await v.validate([...base, ...own])
  t.same(r2.findings.map((f) => f.focusNode), ['http://example.org/my-concept'], 'a concept of the data graph is checked')
})

t.test('validators for one profile use the same shape files', async (t) => {
  const a = await createValidator({ profile: 'dcat_ap_de_3' })
  const b = await createValidator({ profile: 'dcat_ap_de_3' })
  t.same(a.files, b.files)
  t.same(resolveShapeFiles({ profile: 'dcat_ap_de_3' }).id, 'own:dcat_ap_de_3')
  t.rejects(createValidator({ shapes: 'nope' as never }), /unknown shape set/)
})

t.test('accepts any iterable of quads, including blank nodes and named graphs', async (t) => {
  const v = await createValidator()
  const q = DataFactory.quad
  const graph = DataFactory.namedNode('http://example.org/graph')
  const inGraph = base.map((x) => q(x.subject as never, x.predicate as never, x.object as never, graph) as Quad)
  const r = await v.validate(new Set(inGraph))
  t.ok(r.conforms, 'quads in a named graph')
  const blank = parseTurtle(`@prefix dcat: <http://www.w3.org/ns/dcat#> . [] a dcat:Dataset .`)
  const r2 = await v.validate(blank)
  t.ok(r2.findings.some((f) => f.focusNode.startsWith('_:') && f.path === NS.dct + 'title'), 'blank-node focus as _:id')
})

t.test('validateTurtle and formatReport', async (t) => {
  const { readFileSync } = await import('node:fs')
  const { validateTurtle, formatReport } = await import('../../src/validation/index.js')
  const turtle = readFileSync(`${FIXTURES}/valid-dataset.ttl`, 'utf8').replace(/dct:title "Haushaltsplan 2024"@de ;/, '')
  const report = await validateTurtle(turtle, { profile: 'dcat_ap_de_3' })
  t.notOk(report.conforms)
  const de = formatReport(report, 'de')
  t.match(de, /^Nicht konform: 1 Fehler/)
  t.match(de, /Fehler: <https:\/\/daten\.example\.org\/dataset\/haushaltsplan-2024> dct:title: Der Datensatz braucht einen Titel/)
  t.match(formatReport(report, 'en'), /Violation: .* dct:title: The dataset needs a title/)
})
