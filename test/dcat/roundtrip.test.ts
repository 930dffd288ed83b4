/**
 * Import -> store -> export -> import is lossless for real DCAT-AP(.de) documents: every fixture dataset parsed,
 * turned into the package dict package_show would show, exported, serialized, parsed and mapped again gives the
 * same CKAN fields, up to the documented export defaults (mapping.ts applyExportDefaults).
 */
import t, { type Test } from 'tap'
import { readdirSync } from 'node:fs'
import { parseRdf, rdfFormat, type RdfFormat } from '../../src/dcat/parse.js'
import { serialize } from '../../src/dcat/serialize.js'
import {
  applyExportDefaults,
  datasetToQuads,
  parsedToPackageDict,
  quadsToDatasets,
  type MappingContext,
  type MappingNote,
  type ParsedDataset,
} from '../../src/dcat/mapping.js'
import { BASE, CONTRIBUTOR, FIXTURES, HAVE_FIXTURES, NO_FIXTURES_REASON, NOW, fixture, vocab } from './support.js'

if (!HAVE_FIXTURES) {
  console.log(`# ${NO_FIXTURES_REASON}`)
  t.test('round trips of the shared fixtures', { skip: NO_FIXTURES_REASON }, () => {})
} else {
  const formatOf = (file: string): RdfFormat => rdfFormat(file.split('.').pop()!)!
  const files = [
    'ckanext-dcat/dataset_gov_de.rdf',
    ...readdirSync(`${FIXTURES}/ckanext-dcatde`).filter((f) => f.endsWith('.rdf')).map((f) => `ckanext-dcatde/${f}`),
    ...readdirSync(`${FIXTURES}/dcat-ap-de-examples`).filter((f) => /\.(ttl|rdf|jsonld)$/.test(f)).map((f) => `dcat-ap-de-examples/${f}`),
    ...[
      'dataset-contributorID.ttl',
      'dataset-originator-maintainer-contributor-creator.ttl',
      'dataset-politicalGeocodingURI.ttl',
      'dataset-politicalGeocodingLevelURI.ttl',
      'konventionen-konv-08.ttl',
      'konventionen-konv-09.ttl',
      'rewritten-example-advanced.ttl',
      'v2.0_shapes-konventionen-perfect.ttl',
      'v3.0_shapes-quicktest.ttl',
    ].map((f) => `dcat-ap-de-testcases/${f}`),
    'real-catalogs/rostock-catalog-original-input.rdf',
  ]

  async function importFile(file: string): Promise<ParsedDataset[]> {
    const quads = await parseRdf(fixture(file), formatOf(file), { baseIri: `http://example.org/${file}#` })
    return quadsToDatasets(quads, { vocab })
  }

  /**
   * Every value the first import found is still there after the round trip (contributorID aside), except
   * distribution formats / media types outside the EU and IANA vocabularies: CKAN keeps them, the DCAT export
   * leaves them out and says so (MappingNote).
   */
  function assertNothingLost(t: Test, before: ParsedDataset, after: ParsedDataset, notes: MappingNote[]): void {
    const reported = new Set(notes.map((n) => n.value))
    const afterExtras = new Map(after.extras.map((e) => [e.key, e.value]))
    const lost = before.extras.filter((e) => e.key !== 'contributorID' && afterExtras.get(e.key) !== e.value)
    t.same(lost, [], 'no extra lost or changed')
    for (const key of ['title', 'notes', 'url', 'version', 'author', 'author_email', 'maintainer', 'maintainer_email', 'license_id'] as const) {
      if (before[key] !== undefined) t.equal(after[key], before[key], `${key} kept`)
    }
    t.same(after.tags, before.tags, 'tags kept')
    t.same(after.themeCodes, before.themeCodes, 'themes kept')
    t.equal(after.resources.length, before.resources.length, 'every distribution kept')
    const byUri = new Map(after.resources.map((r) => [r.uri, r]))
    for (const r of before.resources) {
      if (!r.uri) continue
      const other = byUri.get(r.uri)
      t.ok(other, `distribution ${r.uri} kept`)
      const changed = Object.entries(r).filter(
        ([k, v]) => (other as Record<string, unknown> | undefined)?.[k] !== v && !(/format|mimetype/.test(k) && reported.has(String(v))),
      )
      t.same(changed, [], `distribution ${r.uri}: no field lost or changed`)
    }
  }

  async function roundTrip(parsed: ParsedDataset, profile: MappingContext['profile'], format: RdfFormat) {
    const notes: MappingNote[] = []
    // 2.0 keeps the properties it deprecates (the dataset's dct:type) in the compat profile only: that is its lossless export.
    const ctx: MappingContext = { baseUrl: BASE, contributorId: CONTRIBUTOR, vocab, profile, compat: profile === 'dcat_ap_de_2', onNote: (n) => notes.push(n) }
    const dict = parsedToPackageDict(parsed, { vocab, id: '6f1c2a9e-3b7d-4c5e-9a8b-1d2e3f4a5b6c', now: NOW })
    const text = await serialize(datasetToQuads(dict, ctx), format)
    const again = quadsToDatasets(await parseRdf(text, format), { vocab })
    return { again, expected: applyExportDefaults(parsed, dict, ctx), notes }
  }

  for (const file of files) {
    await t.test(file, async (t) => {
      const datasets = await importFile(file)
      t.ok(datasets.length > 0, `${datasets.length} dataset(s) imported`)
      for (const profile of ['dcat_ap_de_2', 'dcat_ap_de_3'] as const) {
        for (const parsed of datasets) {
          const { again, expected, notes } = await roundTrip(parsed, profile, 'ttl')
          t.equal(again.length, 1, 'one dataset exported')
          t.same(again[0], expected, `${profile}: ${parsed.uri ?? parsed.name} round-trips losslessly`)
          if (profile === 'dcat_ap_de_2') assertNothingLost(t, parsed, again[0]!, notes)
        }
      }
    })
  }

  await t.test('export as RDF/XML and JSON-LD round-trips too', async (t) => {
    for (const file of ['ckanext-dcatde/metadata_max.rdf', 'dcat-ap-de-examples/V2.0-RDF-TURTLE-dcat_ap_de-RefImp_TTL_ADVANCED.ttl']) {
      for (const parsed of await importFile(file)) {
        for (const format of ['rdf', 'jsonld', 'nt'] as const) {
          const { again, expected } = await roundTrip(parsed, 'dcat_ap_de_2', format)
          t.same(again[0], expected, `${file} via ${format}`)
        }
      }
    }
  })

  await t.test('legacy DCAT-AP.de namespaces import like the current one', async (t) => {
    const [current] = await importFile('ckanext-dcatde/metadata_max.rdf')
    const extrasOf = (p: ParsedDataset) => Object.fromEntries(p.extras.map((e) => [e.key, e.value]))
    const cur = extrasOf(current!)
    for (const file of ['metadata_max_1_0.rdf', 'metadata_max_1_0_1.rdf']) {
      const [legacy] = await importFile(`ckanext-dcatde/${file}`)
      const old = extrasOf(legacy!)
      for (const key of ['contributorID', 'politicalGeocodingURI', 'politicalGeocodingLevelURI', 'qualityProcessURI', 'legalbasisText', 'geocodingText', 'maintainer_url', 'originator_name']) {
        t.equal(old[key], cur[key], `${file}: ${key}`)
      }
      t.equal(legacy!.maintainer, current!.maintainer)
      t.same(
        legacy!.resources.map((r) => [r.licenseAttributionByText, r.plannedAvailability]),
        current!.resources.map((r) => [r.licenseAttributionByText, r.plannedAvailability]),
      )
    }
    const [multi] = await importFile('ckanext-dcatde/metadata_max_multi_namespaces.rdf')
    const m = extrasOf(multi!)
    t.equal(m.geocodingText, '["Hamburg"]', 'the newest namespace wins')
    t.equal(m.legalbasisText, '["Umweltinformationsgesetz (UIG)"]')
    t.equal(m.contributorID, '["http://dcat-ap.de/def/contributors/transparenzportalHamburg"]', 'an older namespace fills a gap')
  })

  await t.test('import: values as ckanext-dcat(de) stores them', async (t) => {
    const [hro] = await importFile('ckanext-dcat/dataset_gov_de.rdf')
    const e = Object.fromEntries(hro!.extras.map((x) => [x.key, x.value]))
    t.equal(hro!.uri, 'https://www.opendata-hro.de/dataset/c1be4007-d811-48fb-8818-2cb358b06a63')
    t.equal(hro!.license_id, 'http://dcat-ap.de/def/licenses/cc-zero')
    t.same(hro!.themeCodes, ['ECON'])
    t.equal(e.identifier, 'c1be4007-d811-48fb-8818-2cb358b06a63')
    t.equal(e.politicalGeocodingURI, '["http://dcat-ap.de/def/politicalGeocoding/regionalKey/130030000000"]')
    t.equal(e.publisher_uri, 'https://www.opendata-hro.de/organization/b952e781-ab4c-456a-8e7a-2845f7efaf83')
    t.equal(e.contact_email, 'geodienste@rostock.de')
    t.match(e.spatial, /^\{"type":"Polygon"/)
    const json = hro!.resources.find((r) => r.format === 'GEOJSON')!
    t.match(json, { mimetype: 'application/geo+json', size: 147253, hash_algorithm: 'http://dcat-ap.de/def/hashAlgorithms/sha/256' })
    const [max] = await importFile('ckanext-dcatde/metadata_max.rdf')
    t.equal(max!.license_id, 'http://dcat-ap.de/def/licenses/dl-by-de/2.0', 'dl-by-de/2_0 upgraded')
    t.ok(max!.resources.some((r) => r.format === 'ZIP'), 'dcat:mediaType "ZIP" read as the format')
    t.match(max!.name, /^[a-z0-9_-]{2,100}$/)
  })
}
