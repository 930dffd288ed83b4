import t from 'tap'
import type * as RDF from '@rdfjs/types'
import { NS, VOCAB } from '../../src/dcat/namespaces.js'
import {
  catalogQuads,
  catalogUri,
  datasetToQuads,
  quadsToDatasets,
  type MappingContext,
  type MappingNote,
  type PackageDict,
} from '../../src/dcat/mapping.js'
import { parseRdf } from '../../src/dcat/parse.js'
import { LICENSE_BY, SAMPLE_DATASETS } from '../helpers/datasets.js'
import { BASE, CONTRIBUTOR, NOW, kommune, packageDict, vocab } from './support.js'

const { dcat, dct, dcatde, foaf, vcard, xsd, rdf, spdx, schema, locn, skos, owl, adms } = NS
const TYPE = rdf + 'type'

/** Lookups over a list of quads. */
function graph(quads: RDF.Quad[]) {
  const objects = (s: string | RDF.Term, p: string): RDF.Term[] =>
    quads.filter((q) => (typeof s === 'string' ? q.subject.value === s : q.subject.equals(s)) && q.predicate.value === p).map((q) => q.object)
  const one = (s: string | RDF.Term, p: string): RDF.Term => {
    const found = objects(s, p)
    if (found.length !== 1) throw new Error(`expected one ${p} of ${typeof s === 'string' ? s : s.value}, got ${found.length}`)
    return found[0]!
  }
  const types = (s: string | RDF.Term): string[] => objects(s, TYPE).map((o) => o.value).sort()
  const values = (s: string | RDF.Term, p: string): string[] => objects(s, p).map((o) => o.value).sort()
  return { objects, one, types, values }
}

const marburg = kommune('marburg')
const sample = SAMPLE_DATASETS[0]!
function baumkataster(extra: Partial<Record<string, unknown>> = {}): PackageDict {
  const { owner_org: _o, ...input } = sample
  const dict = packageDict(
    {
      ...input,
      ...extra,
      extras: [...sample.extras!, { key: 'temporal_start', value: '2020-01-01' }, { key: 'temporal_end', value: '2020-12-31T23:59:59' }, ...((extra.extras as never[]) ?? [])],
      resources: [
        { ...sample.resources[0]!, hash: 'a58d35bebefa4972898110b9f5da62bc', hash_algorithm: 'http://spdx.org/rdf/terms#checksumAlgorithm_md5', licenseAttributionByText: 'Universitätsstadt Marburg' },
        sample.resources[1]!,
      ],
    } as never,
    marburg,
  )
  return dict
}

function ctx(profile: MappingContext['profile'] = 'dcat_ap_de_2', notes: MappingNote[] = []): MappingContext {
  return { baseUrl: BASE, contributorId: CONTRIBUTOR, vocab, profile, organization: marburg, onNote: (n) => notes.push(n) }
}

t.test('dataset node: every mapped property, URIs, datatypes and vocabulary types', async (t) => {
  const pkg = baumkataster()
  const quads = datasetToQuads(pkg, ctx())
  const g = graph(quads)
  const ds = `${BASE}/dataset/${pkg.id}`
  t.same(g.types(ds), [dcat + 'Dataset'])
  t.equal(g.one(ds, dct + 'title').value, 'Baumkataster der Universitätsstadt Marburg')
  t.equal(g.one(ds, dct + 'description').value, sample.notes)
  t.same(g.values(ds, dcat + 'keyword'), ['bäume', 'umwelt'])
  t.same(g.values(ds, dcat + 'theme'), [VOCAB.dataTheme + 'ENVI'])
  t.same(g.types(VOCAB.dataTheme + 'ENVI'), [skos + 'Concept'])
  t.equal(g.one(ds, dcat + 'landingPage').value, 'https://www.marburg.de/baumkataster')
  t.same(g.types('https://www.marburg.de/baumkataster'), [foaf + 'Document'])
  t.equal(g.one(ds, owl + 'versionInfo').value, '2024')

  const identifier = g.one(ds, dct + 'identifier') as RDF.Literal
  t.equal(identifier.termType, 'Literal')
  t.equal(identifier.value, ds, 'dct:identifier defaults to the dataset URI')
  const modified = g.one(ds, dct + 'modified') as RDF.Literal
  t.equal(modified.value, NOW, 'dct:modified defaults to metadata_modified')
  t.equal(modified.datatype.value, xsd + 'dateTime')
  const issued = g.one(ds, dct + 'issued') as RDF.Literal
  t.equal(issued.value, '2019-04-01')
  t.equal(issued.datatype.value, xsd + 'date', 'a date-only value is typed xsd:date')

  const lang = 'http://publications.europa.eu/resource/authority/language/DEU'
  t.same(g.values(ds, dct + 'language'), [lang])
  t.same(g.types(lang), [dct + 'LinguisticSystem'])
  const annual = 'http://publications.europa.eu/resource/authority/frequency/ANNUAL'
  t.same(g.values(ds, dct + 'accrualPeriodicity'), [annual])
  t.same(g.types(annual), [dct + 'Frequency'])

  // temporal
  const period = g.one(ds, dct + 'temporal')
  t.same(g.types(period), [dct + 'PeriodOfTime'])
  t.same((g.one(period, dcat + 'startDate') as RDF.Literal).datatype.value, xsd + 'date')
  t.same((g.one(period, dcat + 'endDate') as RDF.Literal).datatype.value, xsd + 'dateTime')
  // the deprecated schema:startDate / schema:endDate only in the compat profile
  t.same(g.objects(period, schema + 'startDate'), [])
  const compat = graph(datasetToQuads(pkg, { ...ctx(), compat: true }))
  const compatPeriod = compat.one(ds, dct + 'temporal')
  t.same((compat.one(compatPeriod, schema + 'startDate') as RDF.Literal).value, '2020-01-01')
  t.same((compat.one(compatPeriod, schema + 'endDate') as RDF.Literal).value, '2020-12-31T23:59:59')

  // publisher: the Kommune
  const publisher = g.one(ds, dct + 'publisher')
  t.equal(publisher.value, `${BASE}/organization/${marburg.id}`)
  t.same(g.types(publisher), [foaf + 'Agent', foaf + 'Organization'])
  t.equal(g.one(publisher, foaf + 'name').value, marburg.title)
  t.equal(g.one(publisher, foaf + 'homepage').value, marburg.homepage)
  t.equal(g.one(publisher, foaf + 'mbox').value, `mailto:${marburg.email}`)

  // contact point: maintainer (ckanext-dcat fallback)
  const contact = g.one(ds, dcat + 'contactPoint')
  t.equal(contact.termType, 'BlankNode')
  t.same(g.types(contact), [vcard + 'Kind', vcard + 'Organization'])
  t.equal(g.one(contact, vcard + 'fn').value, 'Open-Data-Team Marburg')
  const email = g.one(contact, vcard + 'hasEmail')
  t.equal(email.termType, 'NamedNode')
  t.equal(email.value, 'mailto:opendata@marburg.de')

  // creator (author) and dcatde:maintainer
  const creator = g.one(ds, dct + 'creator')
  t.ok(g.types(creator).includes(foaf + 'Agent'))
  t.equal(g.one(creator, foaf + 'name').value, 'Fachdienst Stadtgrün')
  const maintainer = g.one(ds, dcatde + 'maintainer')
  t.equal(g.one(maintainer, foaf + 'name').value, 'Open-Data-Team Marburg')
  t.equal(g.one(maintainer, foaf + 'mbox').value, 'mailto:opendata@marburg.de')

  // DCAT-AP.de: exactly one contributorID, the Kommune's political geocoding
  const contributors = g.objects(ds, dcatde + 'contributorID')
  t.equal(contributors.length, 1, 'exactly one dcatde:contributorID')
  t.equal(contributors[0]!.termType, 'NamedNode')
  t.equal(contributors[0]!.value, CONTRIBUTOR)
  t.same(g.values(ds, dcatde + 'politicalGeocodingURI'), [marburg.political_geocoding_uri])
  t.equal(g.one(ds, dcatde + 'politicalGeocodingLevelURI').value, 'http://dcat-ap.de/def/politicalGeocoding/Level/municipality')
  t.same(g.values(ds, dct + 'spatial'), [marburg.political_geocoding_uri], 'dct:spatial names the Kommune')
  t.same(g.types(marburg.political_geocoding_uri!), [], 'a dcat-ap.de key, not described (no dct:Location without geometry)')
})

t.test('distributions: URIs, formats, licences, checksum, byte size per profile', async (t) => {
  for (const profile of ['dcat_ap_de_2', 'dcat_ap_de_3'] as const) {
    const pkg = baumkataster()
    const g = graph(datasetToQuads(pkg, ctx(profile)))
    const ds = `${BASE}/dataset/${pkg.id}`
    const [csvRes, geoRes] = pkg.resources!
    const csv = `${BASE}/dataset/${pkg.id}/resource/${csvRes!.id}`
    const geo = `${BASE}/dataset/${pkg.id}/resource/${geoRes!.id}`
    t.same(g.values(ds, dcat + 'distribution'), [csv, geo].sort(), `${profile}: both distributions linked`)
    t.same(g.types(csv), [dcat + 'Distribution'])
    t.equal(g.one(csv, dct + 'title').value, 'Baumkataster CSV')
    t.equal(g.one(csv, dcat + 'accessURL').value, 'https://www.marburg.de/daten/baeume.csv')
    const csvFormat = VOCAB.fileType + 'CSV'
    t.equal(g.one(csv, dct + 'format').value, csvFormat)
    t.same(g.types(csvFormat), [dct + 'MediaTypeOrExtent'])
    const textCsv = 'https://www.iana.org/assignments/media-types/text/csv'
    t.equal(g.one(csv, dcat + 'mediaType').value, textCsv)
    t.same(g.types(textCsv), [dct + 'MediaType', dct + 'MediaTypeOrExtent'])
    t.equal(g.one(csv, dct + 'license').value, LICENSE_BY, 'licence as the dcat-ap.de URI')
    t.same(g.types(LICENSE_BY), [dct + 'LicenseDocument'])
    t.equal(g.one(csv, dcatde + 'licenseAttributionByText').value, 'Universitätsstadt Marburg')
    const size = g.one(csv, dcat + 'byteSize') as RDF.Literal
    t.equal(size.value, '123456')
    t.equal(size.datatype.value, xsd + (profile === 'dcat_ap_de_2' ? 'decimal' : 'nonNegativeInteger'), `${profile}: byteSize datatype`)
    const checksum = g.one(csv, spdx + 'checksum')
    t.same(g.types(checksum), [spdx + 'Checksum'])
    const value = g.one(checksum, spdx + 'checksumValue') as RDF.Literal
    t.equal(value.value, 'a58d35bebefa4972898110b9f5da62bc')
    t.equal(value.datatype.value, xsd + 'hexBinary')
    t.equal(
      g.one(checksum, spdx + 'algorithm').value,
      profile === 'dcat_ap_de_2' ? 'http://dcat-ap.de/def/hashAlgorithms/md/5' : 'http://spdx.org/rdf/terms#checksumAlgorithm_md5',
      `${profile}: the hash algorithm from the profile's vocabulary`,
    )
    t.equal((g.one(csv, dct + 'modified') as RDF.Literal).datatype.value, xsd + 'dateTime', 'distribution modified falls back to metadata_modified')

    t.equal(g.one(geo, dcat + 'accessURL').value, 'http://www.marburg.de/daten/baeume.geojson', 'CKAN url (scheme added) as accessURL')
    t.equal(g.one(geo, dct + 'format').value, VOCAB.fileType + 'GEOJSON')
    t.equal(g.one(geo, dct + 'license').value, LICENSE_BY, 'a distribution without licence inherits the dataset licence')
    t.equal(g.one(geo, dct + 'description').value, 'Standorte als Punkte')
    t.same(g.objects(geo, dcat + 'byteSize'), [])
    t.equal(g.one(ds, profile === 'dcat_ap_de_3' ? dcat + 'version' : owl + 'versionInfo').value, '2024')
  }
})

t.test('harvested values win: stored uri, publisher_* extras, contributorID replaced, unknown format reported', async (t) => {
  const notes: MappingNote[] = []
  const pkg = baumkataster({
    extras: [
      { key: 'identifier', value: 'hro-4711' },
      { key: 'modified', value: '2024-01-02' },
      { key: 'contributorID', value: '["http://dcat-ap.de/def/contributors/openDataHRO"]' },
      { key: 'publisher_uri', value: 'https://www.rostock.de/#org' },
      { key: 'publisher_name', value: 'Hanse- und Universitätsstadt Rostock' },
      { key: 'politicalGeocodingURI', value: '["http://dcat-ap.de/def/politicalGeocoding/regionalKey/130030000000"]' },
      { key: 'spatial', value: '{"type":"Point","coordinates":[12.1,54.09]}' },
      { key: 'alternate_identifier', value: '["alt-1"]' },
    ],
  })
  pkg.uri = 'https://www.opendata-hro.de/dataset/4711'
  pkg.resources![1]!.format = 'Kartenviewer'
  pkg.resources![1]!.uri = 'https://www.opendata-hro.de/dataset/4711/resource/1'
  const g = graph(datasetToQuads(pkg, ctx('dcat_ap_de_2', notes)))
  const ds = 'https://www.opendata-hro.de/dataset/4711'
  t.same(g.types(ds), [dcat + 'Dataset'], 'the stored dataset URI is kept')
  t.equal(g.one(ds, dct + 'identifier').value, 'hro-4711')
  t.equal(g.one(ds, dct + 'modified').value, '2024-01-02')
  t.same(g.values(ds, dcatde + 'contributorID'), [CONTRIBUTOR], 'only the configured contributorID')
  t.equal(g.one(ds, dct + 'publisher').value, 'https://www.rostock.de/#org')
  t.same(g.values(ds, dcatde + 'politicalGeocodingURI'), ['http://dcat-ap.de/def/politicalGeocoding/regionalKey/130030000000'])
  const locations = g.objects(ds, dct + 'spatial')
  const geometryNode = locations.find((l) => l.termType === 'BlankNode')!
  const geometries = g.objects(geometryNode, locn + 'geometry') as RDF.Literal[]
  t.same(geometries.map((l) => l.datatype.value), [VOCAB.geoJsonLiteral], 'one geometry value (DCAT-AP: at most one)')
  const alt = g.one(ds, adms + 'identifier')
  t.same(g.types(alt), [adms + 'Identifier'])
  t.equal(g.one(alt, skos + 'notation').value, 'alt-1')
  const dist = 'https://www.opendata-hro.de/dataset/4711/resource/1'
  t.same(g.types(dist), [dcat + 'Distribution'], 'the stored distribution URI is kept')
  t.same(g.objects(dist, dct + 'format'), [], 'a format outside the EU file-type list is not written')
  t.match(notes, [{ property: dct + 'format', value: 'Kartenviewer' }])
})

t.test('what is exported imports back into the same CKAN fields', async (t) => {
  const pkg = baumkataster()
  const [parsed] = quadsToDatasets(datasetToQuads(pkg, ctx()), { vocab })
  t.ok(parsed)
  t.equal(parsed!.uri, `${BASE}/dataset/${pkg.id}`)
  t.equal(parsed!.title, pkg.title)
  t.equal(parsed!.license_id, LICENSE_BY)
  t.same(parsed!.themeCodes, ['ENVI'])
  t.same(parsed!.tags, [{ name: 'bäume' }, { name: 'umwelt' }])
  t.equal(parsed!.author, 'Fachdienst Stadtgrün')
  t.equal(parsed!.maintainer_email, 'opendata@marburg.de')
  const extras = Object.fromEntries(parsed!.extras.map((e) => [e.key, e.value]))
  t.equal(extras.politicalGeocodingURI, JSON.stringify([marburg.political_geocoding_uri]))
  t.equal(extras.contributorID, JSON.stringify([CONTRIBUTOR]))
  t.equal(extras.language, '["http://publications.europa.eu/resource/authority/language/DEU"]')
  t.equal(extras.frequency, 'http://publications.europa.eu/resource/authority/frequency/ANNUAL')
  t.equal(extras.publisher_uri, `${BASE}/organization/${marburg.id}`)
  t.equal(extras.temporal_end, '2020-12-31T23:59:59')
  const csv = parsed!.resources.find((r) => r.name === 'Baumkataster CSV')!
  t.match(csv, { format: 'CSV', mimetype: 'text/csv', size: 123456, license: LICENSE_BY, hash: 'a58d35bebefa4972898110b9f5da62bc' })
})

t.test('catalog node', async (t) => {
  const quads = catalogQuads(
    { baseUrl: BASE, vocab },
    { title: 'GoDonu', description: 'Offene Daten hessischer Kommunen', language: 'de', modified: NOW, datasetUris: [`${BASE}/dataset/a`, `${BASE}/dataset/b`] },
  )
  const g = graph(quads)
  const cat = catalogUri(BASE)
  t.same(g.types(cat), [dcat + 'Catalog'])
  t.equal(g.one(cat, dct + 'title').value, 'GoDonu')
  t.equal(g.one(cat, dct + 'description').value, 'Offene Daten hessischer Kommunen')
  t.equal(g.one(cat, foaf + 'homepage').value, BASE)
  t.equal(g.one(cat, dct + 'language').value, 'http://publications.europa.eu/resource/authority/language/DEU')
  t.equal((g.one(cat, dct + 'modified') as RDF.Literal).datatype.value, xsd + 'dateTime')
  t.equal(g.one(cat, dcat + 'themeTaxonomy').value, 'http://publications.europa.eu/resource/authority/data-theme')
  t.same(g.values(cat, dcat + 'dataset'), [`${BASE}/dataset/a`, `${BASE}/dataset/b`])
  const publisher = g.one(cat, dct + 'publisher')
  t.ok(g.types(publisher).includes(foaf + 'Agent'))
  t.ok(g.one(publisher, foaf + 'name').value)
})

t.test('a real package_show dict (stored and read through the Action API) maps the same', async (t) => {
  const { forEachBackend } = await import('../helpers/backends.js')
  const { api, insertDatasets, startApp } = await import('../helpers/app.js')
  await forEachBackend(t, async (t, backend) => {
    const app = await startApp(t, backend)
    await insertDatasets(app, SAMPLE_DATASETS.slice(0, 2))
    const pkg = (await api(app, 'package_show', { id: 'baumkataster-marburg' })).body.result as PackageDict
    const org = app.service.reference.organization(pkg.owner_org as string)
    t.ok(org, 'the Kommune row')
    const g = graph(datasetToQuads(pkg, { baseUrl: BASE, contributorId: CONTRIBUTOR, vocab: app.service.vocab, profile: 'dcat_ap_de_2', organization: org }))
    const ds = `${BASE}/dataset/${pkg.id}`
    t.same(g.types(ds), [dcat + 'Dataset'])
    t.same(g.values(ds, dcat + 'theme'), [VOCAB.dataTheme + 'ENVI'], 'groups -> EU data themes')
    t.equal(g.one(ds, dct + 'publisher').value, `${BASE}/organization/${pkg.owner_org}`)
    t.equal(g.one(g.one(ds, dct + 'publisher'), foaf + 'name').value, (pkg.organization as { title: string }).title)
    t.same(g.values(ds, dcatde + 'contributorID'), [CONTRIBUTOR])
    t.same(g.values(ds, dcatde + 'politicalGeocodingURI'), ['http://dcat-ap.de/def/politicalGeocoding/regionalKey/065340014014'])
    t.equal(g.one(ds, dct + 'modified').value, pkg.metadata_modified)
    const dists = g.objects(ds, dcat + 'distribution')
    t.equal(dists.length, 2)
    for (const d of dists) {
      t.equal(g.objects(d, dct + 'license').length, 1, 'every distribution has a licence')
      t.equal(g.objects(d, dcat + 'accessURL').length, 1, 'every distribution has an accessURL')
      t.equal(g.objects(d, dct + 'format').length, 1, 'every distribution has an EU format')
    }
  })
})

t.test('import edge cases: blank nodes, WKT, ISO frequency, vcard address, literal licence and format', async (t) => {
  const ttl = `
    @prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
    @prefix locn: <http://www.w3.org/ns/locn#> . @prefix gsp: <http://www.opengis.net/ont/geosparql#> .
    @prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
    [] a dcat:Dataset ; dct:title "Straßenbäume Gießen"@de, "Street trees"@en ;
      dct:spatial [ a dct:Location ; skos:prefLabel "Gießen" ;
        locn:geometry "POLYGON ((8.6 50.5, 8.7 50.5, 8.7 50.6, 8.6 50.5))"^^gsp:wktLiteral ] ;
      dct:spatial [ locn:adminUnitL2 <http://dcat-ap.de/def/politicalGeocoding/regionalKey/065310005005> ] ;
      dct:accrualPeriodicity "R/P1M" ;
      dcat:contactPoint [ vcard:fn "Team" ; vcard:hasEmail "a@b.de" ; vcard:hasTelephone [ vcard:hasValue <tel:+49641> ] ;
        vcard:hasAddress [ vcard:street-address "Berliner Platz 1" ; vcard:locality "Gießen" ] ] ;
      dcat:distribution [ dcat:downloadURL <https://x.example/a.csv> ; dct:format "csv" ; dct:license "CC BY 4.0" ;
        dcat:mediaType <http://www.iana.org/assignments/media-types/text/csv> ] .`
  const [p] = quadsToDatasets(await parseRdf(ttl, 'text/turtle'), { vocab })
  t.ok(p)
  t.equal(p!.uri, undefined, 'a blank-node dataset has no URI')
  t.equal(p!.title, 'Straßenbäume Gießen', 'the German title')
  t.equal(p!.name, 'strassenbaeume-giessen')
  const e = Object.fromEntries(p!.extras.map((x) => [x.key, x.value]))
  t.same(JSON.parse(e.spatial!), { type: 'Polygon', coordinates: [[[8.6, 50.5], [8.7, 50.5], [8.7, 50.6], [8.6, 50.5]]] }, 'WKT read as GeoJSON')
  t.equal(e.spatial_text, 'Gießen')
  t.equal(e.politicalGeocodingURI, '["http://dcat-ap.de/def/politicalGeocoding/regionalKey/065310005005"]', 'locn:adminUnitL2 counts as political geocoding')
  t.equal(e.frequency, 'http://publications.europa.eu/resource/authority/frequency/MONTHLY', 'ISO 8601 R/P1M -> MONTHLY')
  t.match(e, { contact_name: 'Team', contact_email: 'a@b.de', contact_tel: '+49641', contact_street: 'Berliner Platz 1', contact_city: 'Gießen' })
  t.same(p!.resources, [
    {
      url: 'https://x.example/a.csv',
      access_url: 'https://x.example/a.csv',
      download_url: 'https://x.example/a.csv',
      format: 'CSV',
      mimetype: 'text/csv',
      license: 'http://dcat-ap.de/def/licenses/cc-by/4.0',
    },
  ])
  t.equal(p!.license_id, 'http://dcat-ap.de/def/licenses/cc-by/4.0')
})
