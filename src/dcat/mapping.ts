/**
 * CKAN package dict <-> DCAT-AP.de RDF: the one mapping used by the catalog export, the DCAT harvester
 * (import) and validation. It follows ckanext-dcat (euro_dcat_ap_2 / euro_dcat_ap_3) plus ckanext-dcatde
 * (GovData's `dcatap_de` profile), see shared/reference/ckan-and-govdata.md §4.
 *
 * Round trip: `quadsToDatasets(datasetToQuads(parsedToPackageDict(p)))` gives `p` back, up to the
 * normalisations that the export deliberately applies (`applyExportDefaults` computes them):
 *  - `dcatde:contributorID` is always exactly the configured one (Konvention 12/13);
 *  - `dct:identifier` defaults to the dataset URI, `dct:modified`/`dct:issued` to metadata_modified/_created,
 *    distribution `dct:issued`/`dct:modified` to created / last_modified / metadata_modified;
 *  - blank-node datasets and distributions get `{base}/dataset/{id}[/resource/{rid}]` URIs;
 *  - the contact point falls back to maintainer / author / the organization's e-mail (ckanext-dcat);
 *  - a distribution without a licence inherits the dataset licence (ckanext.dcat.resource.inherit.license);
 *  - a distribution format / media type outside the EU file-type and IANA lists stays in CKAN but is not
 *    exported (the shapes want vocabulary IRIs); `ctx.onNote` is told.
 * And the parser itself normalises (so that what it returns is exactly what the export can write):
 *  - licences are upgraded to current dcat-ap.de ids (dl-by-de/2_0 -> dl-by-de/2.0), languages and frequencies
 *    become EU authority URIs, formats the EU file-type code, media types the bare IANA name;
 *  - only one value is kept where CKAN has one field: title/description (German first, then untagged, then
 *    English), landing page, version, contact point, publisher, creator/maintainer/originator/contributor,
 *    temporal, spatial URI/text/geometry; multi-valued properties become sorted JSON lists;
 *  - IRI vs literal is not kept for URIRefOrLiteral properties: the export writes an IRI when the value is one;
 *  - agent URIs, vcard:Individual vs vcard:Organization and DataService access services are not kept;
 *  - a distribution with only dcat:downloadURL gets it as access_url too (dcat:accessURL is mandatory);
 *  - a non-media-type literal in dcat:mediaType that names a file type ("ZIP") becomes the format;
 *  - values the export can only write as IRIs are dropped when they are none: free-text licences that no alias
 *    resolves, frequencies (ISO 8601 `R/P1Y` is mapped to the EU code first), languages, landing pages/URLs.
 */
import { createHash, randomUUID } from 'node:crypto'
import { Store } from 'n3'
import type * as RDF from '@rdfjs/types'
import type { Vocabularies } from '../catalog/vocabularies.js'
import { buildPackageRecord, renderPackageDocument, type PackageInput, type ResourceInput } from '../catalog/package.js'
import { DCATDE_1_0, DCATDE_1_0_1, NS, VOCAB } from './namespaces.js'
import {
  QuadBuilder,
  bn,
  cleanIri,
  dateLiteral,
  iriOrLiteral,
  isIri,
  literal,
  nn,
  stringValue,
  xsd,
  type Quad,
  type Subject,
} from './terms.js'
import { geoJsonToWkt, wktToGeoJson } from './geo.js'
import { isHttpIri, pathSegment, plainText } from './iri.js'
import { inNamespace } from '../catalog/uris.js'

// ---------------------------------------------------------------------------------------------------
// Types

export type DcatProfile = 'dcat_ap_de_2' | 'dcat_ap_de_3'

export interface KeyValue {
  key: string
  value: string
}

/** An organization (Kommune) as a table row, an organization_show dict or the dict embedded in a package. */
export interface OrganizationLike {
  id: string
  name?: string
  title?: string
  homepage?: string | null
  email?: string | null
  political_geocoding_uri?: string | null
  political_geocoding_level_uri?: string | null
  contributor_id?: string | null
  /** A dict's `[{key, value}]`, or the table row's JSON object text. */
  extras?: KeyValue[] | string | Record<string, unknown> | null
}

export interface ResourceDict {
  id?: string
  package_id?: string
  url?: string | null
  name?: string | null
  description?: string | null
  format?: string | null
  mimetype?: string | null
  size?: number | string | null
  hash?: string | null
  created?: string | null
  last_modified?: string | null
  metadata_modified?: string | null
  [key: string]: unknown
}

/** The CKAN package dict as package_show returns it (organization and groups included). */
export interface PackageDict {
  id: string
  name?: string
  title?: string | null
  notes?: string | null
  url?: string | null
  version?: string | null
  author?: string | null
  author_email?: string | null
  maintainer?: string | null
  maintainer_email?: string | null
  license_id?: string | null
  metadata_created?: string | null
  metadata_modified?: string | null
  /** The dataset URI of a harvested dataset (else `{base}/dataset/{id}`). */
  uri?: string | null
  tags?: Array<{ name: string }>
  groups?: Array<{ name: string; [key: string]: unknown }>
  extras?: KeyValue[]
  resources?: ResourceDict[]
  organization?: OrganizationLike | null
  [key: string]: unknown
}

export interface MappingNote {
  subject: string
  property: string
  value: string
  reason: string
}

export interface MappingContext {
  baseUrl: string
  /** The one dcatde:contributorID every exported dataset carries (Konvention 12/13), from config. */
  contributorId: string
  vocab: Vocabularies
  profile: DcatProfile
  /** The `compat` profile: also write the deprecated schema:startDate / schema:endDate (negotiation.ts wantsCompat). */
  compat?: boolean
  /** The Kommune with its geocoding fields; defaults to the package's embedded organization. */
  organization?: OrganizationLike | null
  /** Told about values the export leaves out (for example a format outside the EU file-type list). */
  onNote?: (note: MappingNote) => void
  /**
   * The catalog-wide check of the auxiliary IRIs (the export always makes it, see DatasetExport.mayDescribe and
   * context.ts checkedDatasetQuads): whether an http(s) IRI the dataset's quads would describe names no dataset
   * or distribution of the catalog (table package_uri). Only those it answers yes for are described as named
   * nodes. Absent where no catalog is at hand (validating one dataset, tests): then only the service's own
   * namespace is kept apart.
   */
  describableIris?: DescribableCheck
}

/** The catalog-wide check as the mapping asks it: whether it may describe an http(s) IRI (a Set of the free ones is one). */
export interface DescribableCheck {
  has(iri: string): boolean
}

export interface ParsedResource {
  uri?: string
  url: string
  access_url?: string
  download_url?: string
  name?: string
  description?: string
  format?: string
  mimetype?: string
  size?: number
  hash?: string
  hash_algorithm?: string
  license?: string
  licenseAttributionByText?: string
  issued?: string
  modified?: string
  /** JSON list of EU language URIs. */
  language?: string
  rights?: string
  /** JSON list. */
  conforms_to?: string
  availability?: string
  plannedAvailability?: string
  status?: string
  /** JSON list (foaf:page). */
  documentation?: string
  compress_format?: string
  package_format?: string
}

/** A dcat:Dataset as a CKAN package input (what package_create would get). */
export interface ParsedDataset {
  uri?: string
  name: string
  title: string
  notes?: string
  url?: string
  version?: string
  author?: string
  author_email?: string
  maintainer?: string
  maintainer_email?: string
  license_id?: string
  tags: Array<{ name: string }>
  /** EU data-theme codes (AGRI, ..., TRAN): the CKAN groups. */
  themeCodes: string[]
  /** ckanext-dcat(de) extras keys, sorted by key. */
  extras: KeyValue[]
  resources: ParsedResource[]
}

// ---------------------------------------------------------------------------------------------------
// URIs and dict access

const trimBase = (baseUrl: string): string => baseUrl.replace(/\/+$/, '')

export function catalogUri(baseUrl: string): string {
  return `${trimBase(baseUrl)}/catalog`
}

export function organizationUri(org: { id: string }, baseUrl: string): string {
  return `${trimBase(baseUrl)}/organization/${pathSegment(org.id)}`
}

/**
 * Whether an IRI is in the service's own namespace (`{base}`, `{base}/...`, `{base}?...`): the catalog, its
 * datasets, distributions, organizations and pages. The service alone makes these; no value of a dataset may
 * name one as its own (see datasetUri) or describe one (DatasetExport.mayDescribe).
 */
export function inOwnNamespace(iri: string, baseUrl: string): boolean {
  // By identity (catalog/uris.ts): HTTP://HOST, :80, https and escaped variants of BASE_URL are BASE_URL too.
  return inNamespace(iri, trimBase(baseUrl))
}

/** The service's own stable URI of a dataset, `{base}/dataset/{id}` (the id percent-encoded: older data may hold any). */
export function ownDatasetUri(id: string, baseUrl: string): string {
  return `${trimBase(baseUrl)}/dataset/${pathSegment(id)}`
}

/**
 * ckanext-dcat utils.dataset_uri: the `uri` field, else the `uri` extra, else `{base}/dataset/{id}`. A given URI
 * that is not an absolute http(s) IRI as it stands (isHttpIri: no repair, no relative reference, no `javascript:`)
 * is not used: it could not be written, or would be another resource than the one named, so the dataset keeps
 * the service's own stable URI instead. Nor is one of the service's own namespace other than that URI (the
 * catalog's, another dataset's: older data may hold one; package_create refuses them).
 */
export function datasetUri(pkg: PackageDict, baseUrl: string): string {
  const given = stringValue(pkg.uri) ?? extra(pkg, 'uri')
  const own = ownDatasetUri(String(pkg.id), baseUrl)
  return given !== undefined && isHttpIri(given) && (given === own || !inOwnNamespace(given, baseUrl)) ? given : own
}

/**
 * ckanext-dcat utils.resource_uri: the resource `uri`, else `{base}/dataset/{package_id}/resource/{id}`; a `uri`
 * that is not an absolute http(s) IRI is not used, as for datasets.
 */
export function resourceUri(res: ResourceDict, pkg: PackageDict, baseUrl: string): string {
  const given = stringValue(res.uri)
  const own = `${ownDatasetUri(String(res.package_id ?? pkg.id), baseUrl)}/resource/${pathSegment(String(res.id))}`
  return given !== undefined && isHttpIri(given) && (given === own || !inOwnNamespace(given, baseUrl)) ? given : own
}

function extra(pkg: PackageDict, key: string): string | undefined {
  if (exporting !== undefined && exporting.pkg === pkg && exporting.extras === pkg.extras) return exporting.byKey.get(key)
  const found = (pkg.extras ?? []).find((e) => e.key === key)
  return found ? stringValue(found.value) : undefined
}

/** ckanext-dcat `_get_dataset_value`: a top-level field first, then an extra. */
function field(pkg: PackageDict, key: string): string | undefined {
  const top = pkg[key]
  if (typeof top === 'string' || typeof top === 'number') {
    const v = stringValue(top)
    if (v !== undefined) return v
  }
  return extra(pkg, key)
}

/** A JSON list stored as text (or a single plain value) -> its non-empty items. */
export function listValue(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(stringValue).filter((v): v is string => v !== undefined)
  const v = stringValue(value)
  if (v === undefined) return []
  if (v.startsWith('[')) {
    try {
      const parsed = JSON.parse(v) as unknown
      if (Array.isArray(parsed)) return parsed.map((x) => stringValue(typeof x === 'number' ? String(x) : x)).filter((x): x is string => x !== undefined)
    } catch {
      // not JSON: a single value
    }
  }
  return [v]
}

function orgField(org: OrganizationLike | null | undefined, key: string): string | undefined {
  if (!org) return undefined
  const top = stringValue((org as unknown as Record<string, unknown>)[key])
  if (top !== undefined) return top
  let extras = org.extras
  if (typeof extras === 'string') {
    try {
      extras = JSON.parse(extras) as Record<string, unknown>
    } catch {
      return undefined
    }
  }
  if (Array.isArray(extras)) return stringValue(extras.find((e) => e.key === key)?.value)
  if (extras && typeof extras === 'object') return stringValue((extras as Record<string, unknown>)[key])
  return undefined
}

const withoutMailto = (v: string): string => v.replace(/^mailto:/i, '').trim()
const withoutTel = (v: string): string => v.replace(/^tel:/i, '').trim()
/** RFC 3966: visual separators are '-' (a space makes the tel: IRI invalid), so numbers are kept in that form. */
const telephoneNumber = (v: string): string => withoutTel(v).replace(/\s+/g, '-')

// ---------------------------------------------------------------------------------------------------
// Values the export derives (shared with applyExportDefaults, so both agree)

export interface ContactValues {
  uri?: string
  name?: string
  email?: string
  url?: string
  tel?: string
  street?: string
  city?: string
  zip?: string
  country?: string
}

/** dcat:contactPoint: contact_* extras, falling back to maintainer / author (ckanext-dcat) and the Kommune's e-mail. */
export function contactValues(pkg: PackageDict, org?: OrganizationLike | null): ContactValues | undefined {
  const c: ContactValues = {
    uri: field(pkg, 'contact_uri'),
    name: field(pkg, 'contact_name') ?? field(pkg, 'maintainer') ?? field(pkg, 'author'),
    email: field(pkg, 'contact_email') ?? field(pkg, 'maintainer_email') ?? field(pkg, 'author_email'),
    url: field(pkg, 'contact_url'),
    // ckanext-dcatde stores the vcard details under maintainer_*; read both.
    tel: field(pkg, 'contact_tel') ?? field(pkg, 'maintainer_tel'),
    street: field(pkg, 'contact_street') ?? field(pkg, 'maintainer_street'),
    city: field(pkg, 'contact_city') ?? field(pkg, 'maintainer_city'),
    zip: field(pkg, 'contact_zip') ?? field(pkg, 'maintainer_zip'),
    country: field(pkg, 'contact_country') ?? field(pkg, 'maintainer_country'),
  }
  if (!c.email && !c.url) {
    const orgEmail = orgField(org, 'email')
    if (orgEmail) {
      c.email = orgEmail
      c.name ??= stringValue(org?.title)
    }
  }
  const cleaned = dropUndefined(c)
  return Object.keys(cleaned).length ? cleaned : undefined
}

export interface PublisherValues {
  uri?: string
  name?: string
  email?: string
  url?: string
  type?: string
  identifier?: string
}

/** Whether the dataset names a publisher of its own (publisher_* extras), rather than its Kommune. */
function hasOwnPublisher(pkg: PackageDict): boolean {
  return !!(field(pkg, 'publisher_uri') || field(pkg, 'publisher_name') || field(pkg, 'publisher_email') || field(pkg, 'publisher_url'))
}

/** dct:publisher: publisher_* extras (a harvested dataset), else the Kommune `{base}/organization/{id}`. */
export function publisherValues(pkg: PackageDict, org: OrganizationLike | null | undefined, baseUrl: string): PublisherValues | undefined {
  if (hasOwnPublisher(pkg)) {
    return dropUndefined({
      uri: field(pkg, 'publisher_uri'),
      name: field(pkg, 'publisher_name') ?? stringValue(org?.title),
      email: field(pkg, 'publisher_email'),
      url: field(pkg, 'publisher_url'),
      type: field(pkg, 'publisher_type'),
      identifier: field(pkg, 'publisher_identifier'),
    })
  }
  if (!org) return undefined
  return dropUndefined({
    uri: organizationUri(org, baseUrl),
    name: stringValue(org.title) ?? stringValue(org.name),
    email: orgField(org, 'email'),
    url: orgField(org, 'homepage') ?? orgField(org, 'url'),
  })
}

/** dcatde:politicalGeocodingURI: the extra, else the Kommune's geocoding URI. */
export function geocodingUris(pkg: PackageDict, org?: OrganizationLike | null): string[] {
  const own = listValue(field(pkg, 'politicalGeocodingURI'))
  if (own.length) return own
  const fromOrg = orgField(org, 'political_geocoding_uri')
  return fromOrg ? [fromOrg] : []
}

export function geocodingLevelUri(pkg: PackageDict, org?: OrganizationLike | null): string | undefined {
  return field(pkg, 'politicalGeocodingLevelURI') ?? orgField(org, 'political_geocoding_level_uri')
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k]
  return o
}

// ---------------------------------------------------------------------------------------------------
// Export: package dict -> quads

const P = {
  type: NS.rdf + 'type',
  label: NS.rdfs + 'label',
  title: NS.dct + 'title',
  description: NS.dct + 'description',
  identifier: NS.dct + 'identifier',
  issued: NS.dct + 'issued',
  modified: NS.dct + 'modified',
  language: NS.dct + 'language',
  publisher: NS.dct + 'publisher',
  license: NS.dct + 'license',
  rights: NS.dct + 'rights',
  format: NS.dct + 'format',
  conformsTo: NS.dct + 'conformsTo',
  spatial: NS.dct + 'spatial',
  temporal: NS.dct + 'temporal',
  accrualPeriodicity: NS.dct + 'accrualPeriodicity',
  accessRights: NS.dct + 'accessRights',
  provenance: NS.dct + 'provenance',
  dctType: NS.dct + 'type',
  creator: NS.dct + 'creator',
  contributor: NS.dct + 'contributor',
  relation: NS.dct + 'relation',
  source: NS.dct + 'source',
  hasVersion: NS.dct + 'hasVersion',
  isVersionOf: NS.dct + 'isVersionOf',
  isReferencedBy: NS.dct + 'isReferencedBy',
  references: NS.dct + 'references',
  keyword: NS.dcat + 'keyword',
  theme: NS.dcat + 'theme',
  landingPage: NS.dcat + 'landingPage',
  distribution: NS.dcat + 'distribution',
  contactPoint: NS.dcat + 'contactPoint',
  accessURL: NS.dcat + 'accessURL',
  downloadURL: NS.dcat + 'downloadURL',
  mediaType: NS.dcat + 'mediaType',
  compressFormat: NS.dcat + 'compressFormat',
  packageFormat: NS.dcat + 'packageFormat',
  byteSize: NS.dcat + 'byteSize',
  startDate: NS.dcat + 'startDate',
  endDate: NS.dcat + 'endDate',
  bbox: NS.dcat + 'bbox',
  centroid: NS.dcat + 'centroid',
  granularity: NS.dcat + 'granularity',
  version: NS.dcat + 'version',
  temporalResolution: NS.dcat + 'temporalResolution',
  spatialResolutionInMeters: NS.dcat + 'spatialResolutionInMeters',
  dataset: NS.dcat + 'dataset',
  themeTaxonomy: NS.dcat + 'themeTaxonomy',
  versionInfo: NS.owl + 'versionInfo',
  versionNotes: NS.adms + 'versionNotes',
  admsIdentifier: NS.adms + 'identifier',
  sample: NS.adms + 'sample',
  status: NS.adms + 'status',
  notation: NS.skos + 'notation',
  prefLabel: NS.skos + 'prefLabel',
  page: NS.foaf + 'page',
  name: NS.foaf + 'name',
  mbox: NS.foaf + 'mbox',
  homepage: NS.foaf + 'homepage',
  fn: NS.vcard + 'fn',
  hasEmail: NS.vcard + 'hasEmail',
  hasURL: NS.vcard + 'hasURL',
  hasTelephone: NS.vcard + 'hasTelephone',
  hasStreetAddress: NS.vcard + 'hasStreetAddress',
  hasLocality: NS.vcard + 'hasLocality',
  hasPostalCode: NS.vcard + 'hasPostalCode',
  hasCountryName: NS.vcard + 'hasCountryName',
  checksum: NS.spdx + 'checksum',
  checksumValue: NS.spdx + 'checksumValue',
  algorithm: NS.spdx + 'algorithm',
  schemaStartDate: NS.schema + 'startDate',
  schemaEndDate: NS.schema + 'endDate',
  geometry: NS.locn + 'geometry',
  adminUnitL2: NS.locn + 'adminUnitL2',
  availability: NS.dcatap + 'availability',
  applicableLegislation: NS.dcatap + 'applicableLegislation',
  hvdCategory: NS.dcatap + 'hvdCategory',
  contributorID: NS.dcatde + 'contributorID',
  politicalGeocodingURI: NS.dcatde + 'politicalGeocodingURI',
  politicalGeocodingLevelURI: NS.dcatde + 'politicalGeocodingLevelURI',
  qualityProcessURI: NS.dcatde + 'qualityProcessURI',
  legalBasis: NS.dcatde + 'legalBasis',
  geocodingDescription: NS.dcatde + 'geocodingDescription',
  maintainer: NS.dcatde + 'maintainer',
  originator: NS.dcatde + 'originator',
  // GeoDCAT-AP, which DCAT-AP.de 3.0 names instead of dcatde:maintainer / dcatde:originator
  custodian: 'http://data.europa.eu/930/custodian',
  geoOriginator: 'http://data.europa.eu/930/originator',
  licenseAttributionByText: NS.dcatde + 'licenseAttributionByText',
  plannedAvailability: NS.dcatde + 'plannedAvailability',
} as const

const C = {
  Dataset: NS.dcat + 'Dataset',
  Distribution: NS.dcat + 'Distribution',
  Catalog: NS.dcat + 'Catalog',
  Agent: NS.foaf + 'Agent',
  Organization: NS.foaf + 'Organization',
  Person: NS.foaf + 'Person',
  Document: NS.foaf + 'Document',
  VcardOrganization: NS.vcard + 'Organization',
  VcardKind: NS.vcard + 'Kind',
  Location: NS.dct + 'Location',
  PeriodOfTime: NS.dct + 'PeriodOfTime',
  LicenseDocument: NS.dct + 'LicenseDocument',
  MediaTypeOrExtent: NS.dct + 'MediaTypeOrExtent',
  MediaType: NS.dct + 'MediaType',
  Frequency: NS.dct + 'Frequency',
  LinguisticSystem: NS.dct + 'LinguisticSystem',
  Standard: NS.dct + 'Standard',
  RightsStatement: NS.dct + 'RightsStatement',
  ProvenanceStatement: NS.dct + 'ProvenanceStatement',
  Concept: NS.skos + 'Concept',
  Checksum: NS.spdx + 'Checksum',
  Identifier: NS.adms + 'Identifier',
} as const

/** The EU file-type URI of a stored format, or undefined when it is not in the vocabulary. */
export function formatUri(vocab: Vocabularies, format: string): string | undefined {
  const uri = vocab.formatToUri(format)
  if (uri.startsWith(VOCAB.fileType)) return uri
  return undefined
}

/** The IANA media-type URI of a stored mimetype (`text/csv`, or an IANA URI already). */
export function mediaTypeUri(vocab: Vocabularies, mimetype: string): string | undefined {
  const v = mimetype.trim()
  if (v.startsWith(VOCAB.ianaMediaTypes) || v.startsWith(VOCAB.ianaMediaTypesHttp)) return isIri(v) ? v : undefined
  if (/^[a-z]+\/[a-z0-9!#$&^_.+-]+$/i.test(v)) {
    const uri = vocab.mediaTypeToUri(v)
    return uri.startsWith(VOCAB.ianaMediaTypes) ? uri : VOCAB.ianaMediaTypes + v.toLowerCase()
  }
  return undefined
}

/**
 * Hash algorithms: DCAT-AP.de 2.0 prescribes its own list (http://dcat-ap.de/def/hashAlgorithms/sha/256),
 * DCAT-AP 3.0 the SPDX individuals (spdx:checksumAlgorithm_sha256). Stored in the dcat-ap.de form,
 * written in the form of the profile.
 */
const HASH_ALGORITHMS: Array<{ dcatde: string; spdx: string; names: string[] }> = [
  ['md/1', 'md1'], ['md/2', 'md2'], ['md/5', 'md5'], ['sha/1', 'sha1'], ['sha/224', 'sha224'], ['sha/256', 'sha256'], ['sha/384', 'sha384'], ['sha/512', 'sha512'],
].map(([path, name]) => ({
  dcatde: `http://dcat-ap.de/def/hashAlgorithms/${path}`,
  spdx: `${NS.spdx}checksumAlgorithm_${name}`,
  names: [name!, name!.replace(/^(md|sha)/, '$1-')],
}))

export function normaliseHashAlgorithm(value: string | undefined): string | undefined {
  if (!value) return value
  const lower = value.trim().toLowerCase()
  const known = HASH_ALGORITHMS.find((h) => h.dcatde === value.trim() || h.spdx.toLowerCase() === lower || h.names.includes(lower))
  return known?.dcatde ?? value
}

function hashAlgorithmFor(profile: DcatProfile, stored: string | undefined): string | undefined {
  const canonical = normaliseHashAlgorithm(stored)
  const known = HASH_ALGORITHMS.find((h) => h.dcatde === canonical)
  if (!known) return stored
  return profile === 'dcat_ap_de_3' ? known.spdx : known.dcatde
}

/**
 * One package dict -> quads. The per-dataset helpers are methods (not closures made per call: under tsx every
 * closure creation also pays for keepNames' `__name`), and the extras are looked up in a map built once.
 *
 * A dataset's quads are about its own subjects (the dataset and its distributions), blank nodes, and auxiliary
 * IRIs it links to (contact point, publisher, location, licence document, vocabulary terms...). The builder asks
 * mayDescribe of every named subject: no quad is made about an IRI that names another dataset or distribution of
 * the catalog or lies in the service's own namespace (the catalog, its records and organizations), whatever
 * field holds it, so that no dataset can add a triple to another's subject or to the catalog's.
 */
class DatasetExport {
  readonly b = new QuadBuilder((subject) => this.mayDescribe(subject.value))
  readonly vocab: Vocabularies
  readonly org: OrganizationLike | null
  readonly dsIri: string
  readonly ds: RDF.NamedNode
  /** The dataset's and its active distributions' IRIs. */
  readonly ownSubjects: Set<string>

  constructor(
    readonly pkg: PackageDict,
    readonly ctx: MappingContext,
  ) {
    this.vocab = ctx.vocab
    this.org = ctx.organization ?? pkg.organization ?? null
    this.dsIri = datasetUri(pkg, ctx.baseUrl)
    this.ds = nn(this.dsIri)
    this.ownSubjects = new Set([this.dsIri])
    for (const res of pkg.resources ?? []) if (!res.state || res.state === 'active') this.ownSubjects.add(resourceUri(res, pkg, ctx.baseUrl))
    const given = stringValue(pkg.uri) ?? extra(pkg, 'uri')
    if (given !== undefined && given !== this.dsIri) this.note('uri', given, 'not an absolute http(s) IRI outside this catalog\'s namespace: the dataset has its own URI')
  }

  note(property: string, value: string, reason: string): void {
    this.ctx.onNote?.({ subject: this.dsIri, property, value, reason })
  }

  /**
   * Whether this dataset's quads may be about the named subject `iri`: its own subjects, and else an IRI outside
   * the service's namespace that names no dataset or distribution of the catalog (an http(s) IRI only when the
   * catalog-wide check found it free, ctx.describableIris; package_uri holds http(s) IRIs only). Asked once per
   * subject by the builder.
   */
  mayDescribe(iri: string): boolean {
    if (this.ownSubjects.has(iri)) return true
    const free = !inOwnNamespace(iri, this.ctx.baseUrl) && (this.ctx.describableIris === undefined || !/^https?:/i.test(iri) || this.ctx.describableIris.has(iri))
    if (!free) this.note('subject', iri, 'may name a dataset, distribution or IRI of this catalog (or was not checked): not described')
    return free
  }

  /**
   * The node of a contact point, publisher or location given as an IRI (undefined: none given): the IRI when the
   * dataset may describe it, else a blank node. The blank node keeps the link and the description, and with them
   * what the official shapes want of these nodes (dcat:contactPoint sh:class vcard:Kind, dct:publisher
   * sh:class foaf:Agent); only the IRI is lost. IRIs that are only typed (licence documents, vocabulary terms,
   * pages) keep their links as IRIs, untyped where the builder refuses their rdf:type (no official shape wants
   * the class of these).
   */
  describedNode(iri: string | undefined): Subject {
    return iri !== undefined && this.mayDescribe(iri) ? nn(iri) : bn()
  }

  /** A property whose object must be an IRI (landing page, homepage...); unusable values are reported. */
  iriObject(s: Subject, p: string, value: string | undefined, ...types: string[]): void {
    if (value === undefined) return
    const iri = cleanIri(value)
    if (!iri) return this.note(p, value, 'not an IRI')
    this.b.add(s, p, nn(iri))
    if (types.length && iri !== s.value) this.b.type(nn(iri), ...types)
  }

  /** A URIRefOrLiteral property: an IRI (typed when given) when the value is one, else a literal. */
  iriOrText(s: Subject, p: string, value: string | undefined, ...types: string[]): void {
    if (value === undefined) return
    const term = iriOrLiteral(value)
    this.b.add(s, p, term)
    if (term.termType === 'NamedNode' && types.length) this.b.type(term, ...types)
  }

  /** A statement class (dct:RightsStatement, dct:ProvenanceStatement): an IRI, or a node labelled with the text. */
  statement(s: Subject, p: string, value: string | undefined, cls: string): void {
    if (value === undefined) return
    const b = this.b
    if (isIri(value)) {
      b.add(s, p, nn(value))
      b.type(nn(value), cls)
      return
    }
    const node = bn()
    b.add(s, p, node)
    b.type(node, cls)
    b.add(node, P.label, literal(value))
  }

  languages(s: Subject, raw: unknown): void {
    for (const lang of listValue(raw)) this.iriObject(s, P.language, this.vocab.languageToUri(lang), C.LinguisticSystem)
  }

  /**
   * A geometry: one GeoJSON literal (DCAT-AP allows one value per property; a second, WKT value is a violation
   * of the official shapes). DCAT-AP.de 3.0 (SEMIC 3.0.0) wants locn:geometry to be a node: there it is
   * `[ a locn:Geometry ; gsp:asGeoJSON …; gsp:asWKT … ]`.
   */
  geo(node: Subject, p: string, value: string | undefined): void {
    if (!value) return
    const wkt = geoJsonToWkt(value)
    if (p === P.geometry && this.ctx.profile === 'dcat_ap_de_3') {
      const geometry = bn()
      this.b.add(node, p, geometry)
      this.b.type(geometry, NS.locn + 'Geometry')
      this.b.add(geometry, NS.gsp + 'asGeoJSON', literal(value, nn(NS.gsp + 'geoJSONLiteral')))
      if (wkt) this.b.add(geometry, NS.gsp + 'asWKT', literal(wkt, nn(NS.gsp + 'wktLiteral')))
      return
    }
    this.b.add(node, p, literal(value, nn(VOCAB.geoJsonLiteral)))
  }

  /** ckanext-dcatde contacts: dct:creator (author), dcatde:maintainer, dcatde:originator, dct:contributor. */
  agent(predicate: string, prefix: string, topLevel: boolean): void {
    const { pkg, b, ds } = this
    const name = topLevel ? field(pkg, prefix) : extra(pkg, `${prefix}_name`)
    const email = topLevel ? field(pkg, `${prefix}_email`) : extra(pkg, `${prefix}_email`)
    const url = extra(pkg, `${prefix}_url`)
    const type = extra(pkg, `${prefix}_type`)
    const contactType = extra(pkg, `${prefix}_contacttype`)
    if (!name && !email && !url && !type && !contactType) return
    const node = bn()
    b.add(ds, predicate, node)
    b.type(node, C.Agent)
    if (contactType === 'Person') b.type(node, C.Person)
    else if (contactType === 'Organization') b.type(node, C.Organization)
    b.text(node, P.name, name)
    if (email) this.iriOrText(node, P.mbox, `mailto:${withoutMailto(email)}`)
    this.iriObject(node, P.homepage, url, C.Document)
    this.iriOrText(node, P.dctType, type, C.Concept)
  }

  run(): Quad[] {
    const { pkg, ctx, vocab, org, b, ds, dsIri } = this

    b.type(ds, C.Dataset)
    b.text(ds, P.title, pkg.title)
    b.text(ds, P.description, pkg.notes)
    for (const tag of pkg.tags ?? []) b.text(ds, P.keyword, tag.name)

    // Themes: CKAN groups are the EU data themes (ckanext-dcatde); other theme URIs sit in the `theme` extra.
    for (const group of pkg.groups ?? []) {
      const theme = vocab.themes.find(group.name)?.uri ?? VOCAB.dataTheme + group.name.toUpperCase()
      this.iriObject(ds, P.theme, theme, C.Concept)
    }
    for (const theme of listValue(extra(pkg, 'theme'))) this.iriObject(ds, P.theme, theme, C.Concept)

    this.iriObject(ds, P.landingPage, field(pkg, 'url'), C.Document)
    b.text(ds, P.identifier, extra(pkg, 'identifier') ?? dsIri)
    for (const alt of listValue(extra(pkg, 'alternate_identifier'))) {
      const node = bn()
      b.add(ds, P.admsIdentifier, node)
      b.type(node, C.Identifier)
      b.add(node, P.notation, literal(alt))
    }
    const version = field(pkg, 'version')
    if (version) b.text(ds, ctx.profile === 'dcat_ap_de_3' ? P.version : P.versionInfo, version)
    b.text(ds, P.versionNotes, extra(pkg, 'version_notes'))

    const issued = extra(pkg, 'issued') ?? stringValue(pkg.metadata_created)
    if (issued) b.add(ds, P.issued, dateLiteral(issued))
    const modified = extra(pkg, 'modified') ?? stringValue(pkg.metadata_modified)
    if (modified) b.add(ds, P.modified, dateLiteral(modified))

    this.languages(ds, extra(pkg, 'language'))
    const frequency = extra(pkg, 'frequency')
    if (frequency) this.iriObject(ds, P.accrualPeriodicity, vocab.frequencyToUri(frequency), C.Frequency)

    for (const v of listValue(extra(pkg, 'conforms_to'))) this.iriOrText(ds, P.conformsTo, v, C.Standard)
    for (const v of listValue(extra(pkg, 'documentation'))) this.iriObject(ds, P.page, v, C.Document)
    for (const v of listValue(extra(pkg, 'related_resource'))) this.iriOrText(ds, P.relation, v)
    for (const v of listValue(extra(pkg, 'source'))) this.iriOrText(ds, P.source, v)
    for (const v of listValue(extra(pkg, 'has_version'))) this.iriOrText(ds, P.hasVersion, v)
    for (const v of listValue(extra(pkg, 'is_version_of'))) this.iriOrText(ds, P.isVersionOf, v)
    for (const v of listValue(extra(pkg, 'is_referenced_by'))) this.iriOrText(ds, P.isReferencedBy, v)
    for (const v of listValue(extra(pkg, 'sample'))) this.iriOrText(ds, P.sample, v)
    for (const v of listValue(extra(pkg, 'references'))) this.iriOrText(ds, P.references, v)
    for (const v of listValue(extra(pkg, 'applicable_legislation'))) this.iriObject(ds, P.applicableLegislation, v)
    for (const v of listValue(extra(pkg, 'hvd_category'))) this.iriObject(ds, P.hvdCategory, v, C.Concept)
    // DCAT-AP.de 2.0 deprecates the dataset's dct:type (a warning): written there only in the compat profile.
    if (ctx.profile !== 'dcat_ap_de_2' || ctx.compat) this.iriOrText(ds, P.dctType, extra(pkg, 'dcat_type'), C.Concept)
    // DCAT-AP.de 2.0 wants dct:provenance as an IRI or a text, 3.0 as a dct:ProvenanceStatement
    if (ctx.profile === 'dcat_ap_de_3') this.statement(ds, P.provenance, extra(pkg, 'provenance'), C.ProvenanceStatement)
    else this.iriOrText(ds, P.provenance, extra(pkg, 'provenance'))
    this.statement(ds, P.accessRights, extra(pkg, 'access_rights'), C.RightsStatement)

    // dct:temporal
    const tStart = extra(pkg, 'temporal_start')
    const tEnd = extra(pkg, 'temporal_end')
    if (tStart || tEnd) {
      const node = bn()
      b.add(ds, P.temporal, node)
      b.type(node, C.PeriodOfTime)
      if (tStart) {
        b.add(node, P.startDate, dateLiteral(tStart))
        if (ctx.compat) b.add(node, P.schemaStartDate, dateLiteral(tStart))
      }
      if (tEnd) {
        b.add(node, P.endDate, dateLiteral(tEnd))
        if (ctx.compat) b.add(node, P.schemaEndDate, dateLiteral(tEnd))
      }
    }
    const tRes = extra(pkg, 'temporal_resolution')
    if (tRes) b.add(ds, P.temporalResolution, literal(tRes, xsd('duration')))
    const sRes = extra(pkg, 'spatial_resolution_in_meters')
    if (sRes) b.add(ds, P.spatialResolutionInMeters, literal(sRes, xsd('decimal')))

    // dct:spatial: the spatial_uri / text / geometry node, and one dct:Location per political geocoding URI.
    const spatialUri = extra(pkg, 'spatial_uri')
    const spatialText = extra(pkg, 'spatial_text')
    const geometry = extra(pkg, 'spatial')
    const bbox = extra(pkg, 'spatial_bbox')
    const centroid = extra(pkg, 'spatial_centroid')
    if (spatialUri || spatialText || geometry || bbox || centroid) {
      const cleanSpatial = spatialUri ? cleanIri(spatialUri) : undefined
      if (spatialUri && !cleanSpatial) this.note(P.spatial, spatialUri, 'not an IRI')
      const node = this.describedNode(cleanSpatial)
      b.add(ds, P.spatial, node)
      b.type(node, C.Location)
      b.text(node, P.prefLabel, spatialText)
      this.geo(node, P.geometry, geometry)
      this.geo(node, P.bbox, bbox)
      this.geo(node, P.centroid, centroid)
    }
    const geocoding = geocodingUris(pkg, org)
    for (const uri of geocoding) {
      // deprecated in DCAT-AP.de 3.0: there a dcat-ap.de key is only in dct:spatial (the import takes it back
      // from there) unless the compat profile asks for it; any other IRI is kept, or it would be lost
      if (ctx.profile === 'dcat_ap_de_2' || ctx.compat || !uri.startsWith(VOCAB.politicalGeocoding)) {
        this.iriObject(ds, P.politicalGeocodingURI, uri)
      }
      // an IRI of the dcat-ap.de key list, not described here (typed dct:Location it would draw the official
      // warning "dct:Location SOLL dcat:bbox, dcat:centroid oder locn:geometry nutzen")
      this.iriObject(ds, P.spatial, uri)
    }
    this.iriObject(ds, P.politicalGeocodingLevelURI, geocodingLevelUri(pkg, org))

    // dcat:contactPoint
    const contact = contactValues(pkg, org)
    if (contact) {
      const cleanContact = contact.uri ? cleanIri(contact.uri) : undefined
      const node = this.describedNode(cleanContact)
      b.add(ds, P.contactPoint, node)
      b.type(node, C.VcardOrganization, C.VcardKind)
      b.text(node, P.fn, contact.name)
      if (contact.email) this.iriObject(node, P.hasEmail, `mailto:${withoutMailto(contact.email)}`)
      this.iriObject(node, P.hasURL, contact.url)
      // RFC 3966: visual separators are '-' or '.', never spaces (a space makes the IRI invalid).
      if (contact.tel) this.iriOrText(node, P.hasTelephone, `tel:${telephoneNumber(contact.tel)}`)
      b.text(node, P.hasStreetAddress, contact.street)
      b.text(node, P.hasLocality, contact.city)
      b.text(node, P.hasPostalCode, contact.zip)
      b.text(node, P.hasCountryName, contact.country)
    }

    // dct:publisher: the dataset's own (publisher_* extras), else its Kommune. The Kommune's node is in the
    // service's namespace: described here only, from the organization record alone (no dataset value reaches it).
    const publisher = publisherValues(pkg, org, ctx.baseUrl)
    if (publisher) {
      const cleanPub = publisher.uri ? cleanIri(publisher.uri) : undefined
      const kommune = cleanPub !== undefined && !hasOwnPublisher(pkg) && org !== null && cleanPub === organizationUri(org, ctx.baseUrl)
      const node = kommune ? nn(cleanPub) : this.describedNode(cleanPub)
      b.add(ds, P.publisher, node)
      const describe = (): void => {
        b.type(node, C.Agent, C.Organization)
        b.text(node, P.name, publisher.name)
        if (publisher.email) this.iriOrText(node, P.mbox, `mailto:${withoutMailto(publisher.email)}`)
        this.iriObject(node, P.homepage, publisher.url, C.Document)
        this.iriOrText(node, P.dctType, publisher.type, C.Concept)
        b.text(node, P.identifier, publisher.identifier)
      }
      if (kommune) b.describing(node as RDF.NamedNode, describe)
      else describe()
    }

    this.agent(P.creator, 'author', true)
    // DCAT-AP.de 3.0 deprecates dcatde:maintainer / dcatde:originator for the GeoDCAT-AP properties; the
    // deprecated ones are written there only in the compat profile
    const de3 = ctx.profile === 'dcat_ap_de_3'
    if (!de3 || ctx.compat) {
      this.agent(P.maintainer, 'maintainer', true)
      this.agent(P.originator, 'originator', false)
    }
    if (de3) {
      this.agent(P.custodian, 'maintainer', true)
      this.agent(P.geoOriginator, 'originator', false)
    }
    this.agent(P.contributor, 'contributor', false)

    // DCAT-AP.de specifics
    this.iriOrText(ds, P.contributorID, ctx.contributorId)
    this.iriObject(ds, P.qualityProcessURI, extra(pkg, 'qualityProcessURI'))
    for (const v of listValue(extra(pkg, 'legalbasisText'))) b.text(ds, P.legalBasis, v)
    for (const v of listValue(extra(pkg, 'geocodingText'))) b.text(ds, P.geocodingDescription, v)
    this.iriOrText(ds, P.granularity, extra(pkg, 'granularity'))
    this.iriOrText(ds, P.availability, extra(pkg, 'availability'), C.Concept)

    for (const res of pkg.resources ?? []) {
      if (res.state && res.state !== 'active') continue
      new DistributionExport(this, res).run()
    }
    return b.quads
  }
}

/** One active resource of a DatasetExport -> its dcat:Distribution. */
class DistributionExport {
  readonly b: QuadBuilder
  iri = ''
  dist: RDF.NamedNode | undefined

  constructor(
    readonly parent: DatasetExport,
    readonly res: ResourceDict,
  ) {
    this.b = parent.b
  }

  get(key: string): string | undefined {
    const v = this.res[key]
    return typeof v === 'number' ? String(v) : stringValue(v)
  }

  iriObject(p: string, value: string | undefined, ...types: string[]): void {
    if (value === undefined) return
    const clean = cleanIri(value)
    if (!clean) return this.parent.note(p, value, `distribution ${this.iri}: not an IRI`)
    this.b.add(this.dist!, p, nn(clean))
    if (types.length) this.b.type(nn(clean), ...types)
  }

  iriOrText(p: string, value: string | undefined, ...types: string[]): void {
    if (value === undefined) return
    const term = iriOrLiteral(value)
    this.b.add(this.dist!, p, term)
    if (term.termType === 'NamedNode' && types.length) this.b.type(term, ...types)
  }

  /** dcat:compressFormat / dcat:packageFormat: an IANA media type. */
  packaging(key: string, p: string): void {
    const v = this.get(key)
    if (!v) return
    const uri = mediaTypeUri(this.parent.vocab, v) ?? (isIri(v) ? v : undefined)
    if (uri) this.iriObject(p, uri, C.MediaType)
    else this.parent.note(p, v, `distribution ${this.iri}: not a media type, left out`)
  }

  run(): void {
    const { parent, res, b } = this
    const { pkg, ctx, vocab, ds } = parent
    const iri = resourceUri(res, pkg, ctx.baseUrl)
    const given = stringValue(res.uri)
    if (given !== undefined && given !== iri) parent.note(P.distribution, given, 'not an absolute http(s) IRI: the distribution has its own URI')
    this.iri = iri
    const dist = (this.dist = nn(iri))

    b.add(ds, P.distribution, dist)
    b.type(dist, C.Distribution)
    b.text(dist, P.title, res.name)
    b.text(dist, P.description, res.description)
    // dcat:accessURL is mandatory: access_url, else the CKAN url.
    this.iriObject(P.accessURL, this.get('access_url') ?? this.get('url'))
    this.iriObject(P.downloadURL, this.get('download_url'))

    const format = this.get('format')
    if (format) {
      const uri = formatUri(vocab, format) ?? (isIri(format) ? format : undefined)
      if (uri) this.iriObject(P.format, uri, C.MediaTypeOrExtent)
      else parent.note(P.format, format, `distribution ${iri}: not in the EU file-type vocabulary, left out`)
    }
    const mimetype = this.get('mimetype')
    if (mimetype) {
      const uri = mediaTypeUri(vocab, mimetype)
      if (uri) this.iriObject(P.mediaType, uri, C.MediaType, C.MediaTypeOrExtent)
      else parent.note(P.mediaType, mimetype, `distribution ${iri}: not an IANA media type, left out`)
    }
    this.packaging('compress_format', P.compressFormat)
    this.packaging('package_format', P.packageFormat)

    const license = this.get('license') ?? stringValue(pkg.license_id)
    if (license) this.iriObject(P.license, vocab.licenseToId(license), C.LicenseDocument)
    b.text(dist, P.licenseAttributionByText, this.get('licenseAttributionByText'))

    const size = res.size === null || res.size === undefined || res.size === '' ? NaN : Number(res.size)
    if (Number.isFinite(size) && size >= 0) {
      const lexical = String(Math.round(size))
      b.add(dist, P.byteSize, literal(lexical, xsd(ctx.profile === 'dcat_ap_de_3' ? 'nonNegativeInteger' : 'decimal')))
    }
    const hash = this.get('hash')
    if (hash) {
      const node = bn()
      b.add(dist, P.checksum, node)
      b.type(node, C.Checksum)
      b.add(node, P.checksumValue, literal(hash, xsd('hexBinary')))
      const algorithm = hashAlgorithmFor(ctx.profile, this.get('hash_algorithm'))
      if (algorithm) {
        const clean = cleanIri(algorithm)
        if (clean) b.add(node, P.algorithm, nn(clean))
        else parent.note(P.algorithm, algorithm, `distribution ${iri}: not an IRI`)
      }
    }

    const issued = this.get('issued') ?? this.get('created')
    if (issued) b.add(dist, P.issued, dateLiteral(issued))
    const modified = this.get('modified') ?? this.get('last_modified') ?? this.get('metadata_modified')
    if (modified) b.add(dist, P.modified, dateLiteral(modified))

    const rights = this.get('rights')
    if (rights) {
      if (isIri(rights)) {
        b.add(dist, P.rights, nn(rights))
        b.type(nn(rights), C.RightsStatement)
      } else {
        const node = bn()
        b.add(dist, P.rights, node)
        b.type(node, C.RightsStatement)
        b.add(node, P.label, literal(rights))
      }
    }
    for (const lang of listValue(res.language)) this.iriObject(P.language, vocab.languageToUri(lang), C.LinguisticSystem)
    for (const v of listValue(res.conforms_to)) this.iriOrText(P.conformsTo, v, C.Standard)
    for (const v of listValue(res.documentation)) this.iriObject(P.page, v, C.Document)
    this.iriOrText(P.status, this.get('status'), C.Concept)
    this.iriOrText(P.availability, this.get('availability'), C.Concept)
    this.iriOrText(P.plannedAvailability, this.get('plannedAvailability'), C.Concept)
  }
}

/**
 * The export's optimistic first mapping (context.ts checkedDatasetQuads): answers yes to every http(s) IRI the
 * mapping asks to describe and records it. The recorded IRIs are then checked against the catalog's dataset and
 * distribution URIs together, and the datasets are mapped again with only the free ones when any is taken; the
 * quads of this mapping are never written before that check.
 */
export class AskedIris implements DescribableCheck {
  readonly asked = new Set<string>()
  has(iri: string): boolean {
    this.asked.add(iri)
    return true
  }
}

/** The extras of the dict being exported, by key (first occurrence), while datasetToQuads runs. */
let exporting: { pkg: PackageDict; extras: KeyValue[] | undefined; byKey: Map<string, string | undefined> } | undefined

export function datasetToQuads(pkg: PackageDict, ctx: MappingContext): Quad[] {
  const byKey = new Map<string, string | undefined>()
  for (const e of pkg.extras ?? []) if (!byKey.has(e.key)) byKey.set(e.key, stringValue(e.value))
  const outer = exporting
  exporting = { pkg, extras: pkg.extras, byKey }
  try {
    return new DatasetExport(pkg, ctx).run()
  } finally {
    exporting = outer
  }
}

// ---------------------------------------------------------------------------------------------------
// Catalog node and Hydra paging

export interface CatalogInfo {
  title: string
  description: string
  homepage?: string
  /** A language code or EU language URI. */
  language?: string
  /** The last dataset modification (CKAN timestamp). */
  modified?: string
  datasetUris: string[]
  /** The catalog publisher (the GoDonu consortium). */
  publisher?: { uri?: string; name: string; homepage?: string; email?: string }
}

export const DEFAULT_CATALOG_PUBLISHER = { name: 'GoDonu – Verbund hessischer Kommunen für offene Daten' }

export function catalogQuads(ctx: Pick<MappingContext, 'baseUrl' | 'vocab'>, info: CatalogInfo): Quad[] {
  const b = new QuadBuilder()
  const cat = nn(catalogUri(ctx.baseUrl))
  b.type(cat, C.Catalog)
  b.text(cat, P.title, info.title)
  b.text(cat, P.description, info.description)
  const publisher: NonNullable<CatalogInfo['publisher']> = info.publisher ?? DEFAULT_CATALOG_PUBLISHER
  const pubIri = (publisher.uri ? cleanIri(publisher.uri) : undefined) ?? `${trimBase(ctx.baseUrl)}/publisher`
  const pub = nn(pubIri)
  b.add(cat, P.publisher, pub)
  b.type(pub, C.Agent, C.Organization)
  b.text(pub, P.name, publisher.name)
  const pubHome = stringValue(publisher.homepage)
  const pubHomeIri = pubHome ? cleanIri(pubHome) : undefined
  if (pubHomeIri) {
    b.add(pub, P.homepage, nn(pubHomeIri))
    b.type(nn(pubHomeIri), C.Document)
  }
  const pubEmail = stringValue(publisher.email)
  if (pubEmail) b.add(pub, P.mbox, iriOrLiteral(`mailto:${withoutMailto(pubEmail)}`))
  const homepage = cleanIri(info.homepage ?? ctx.baseUrl)
  if (homepage) {
    b.add(cat, P.homepage, nn(homepage))
    b.type(nn(homepage), C.Document)
  }
  if (info.language) {
    const lang = ctx.vocab.languageToUri(info.language)
    if (isIri(lang)) {
      b.add(cat, P.language, nn(lang))
      b.type(nn(lang), C.LinguisticSystem)
    }
  }
  if (info.modified) b.add(cat, P.modified, dateLiteral(info.modified))
  b.add(cat, P.themeTaxonomy, nn(VOCAB.dataThemeScheme))
  b.type(nn(VOCAB.dataThemeScheme), NS.skos + 'ConceptScheme')
  for (const uri of info.datasetUris) {
    const clean = cleanIri(uri)
    if (clean) b.add(cat, P.dataset, nn(clean))
  }
  return b.quads
}

export interface HydraPaging {
  totalItems: number
  itemsPerPage: number
  first: string
  last: string
  next?: string
  previous?: string
}

/**
 * `<page-url> a hydra:PagedCollection` as ckanext-dcat `_add_pagination_triples` writes it: the deprecated and the
 * current predicate for each page link, every value an rdflib `Literal(value)`, that is a plain literal for the page
 * URLs and an xsd:integer for the two counts (as in ckanext-dcatde examples/catalog-endpoint.rdf). Falsy values are
 * left out, as there.
 */
export function hydraQuads(pageUrl: string, paging: HydraPaging): Quad[] {
  const b = new QuadBuilder()
  const h = (local: string): string => NS.hydra + local
  const page = nn(pageUrl)
  b.type(page, h('PagedCollection'))
  const links: Array<[string | undefined, string[]]> = [
    [paging.next, ['nextPage', 'next']],
    [paging.previous, ['previousPage', 'previous']],
    [paging.first, ['firstPage', 'first']],
    [paging.last, ['lastPage', 'last']],
  ]
  for (const [value, predicates] of links) {
    if (!value) continue
    for (const p of predicates) b.add(page, h(p), literal(value))
  }
  if (paging.totalItems) b.add(page, h('totalItems'), literal(String(paging.totalItems), xsd('integer')))
  if (paging.itemsPerPage) b.add(page, h('itemsPerPage'), literal(String(paging.itemsPerPage), xsd('integer')))
  return b.quads
}

// ---------------------------------------------------------------------------------------------------
// Import: quads -> CKAN package inputs

type Node = RDF.Quad_Object

class Graph {
  readonly store: Store
  constructor(quads: Iterable<Quad>) {
    this.store = new Store()
    // Literal text as the export writes it (plainText: CRLF as LF, no NUL...), so that what is imported round-trips.
    for (const q of quads) {
      const o = q.object
      if (o.termType !== 'Literal' || plainText(o.value) === o.value) this.store.addQuad(q.subject, q.predicate, o)
      else this.store.addQuad(q.subject, q.predicate, literal(o.value, o.language || o.datatype))
    }
  }
  objects(s: Node, p: string): Node[] {
    if (s.termType !== 'NamedNode' && s.termType !== 'BlankNode') return []
    return this.store.getObjects(s, nn(p), null) as Node[]
  }
  /** Objects in a deterministic order (RDF has none): IRIs and literals by value, blank nodes last. */
  sorted(s: Node, p: string): Node[] {
    return this.objects(s, p).sort(compareTerms)
  }
  types(s: Node): Set<string> {
    return new Set(this.objects(s, P.type).map((t) => t.value))
  }
  /** The values of a DCAT-AP.de property, from the newest namespace that has any (ckanext-dcatde). */
  dcatde(s: Node, local: string): Node[] {
    const legacy10: Record<string, string> = { legalBasis: 'legalbasisText', geocodingDescription: 'geocodingText' }
    for (const ns of [NS.dcatde, DCATDE_1_0_1, DCATDE_1_0]) {
      const name = ns === DCATDE_1_0 ? (legacy10[local] ?? local) : local
      const found = this.objects(s, ns + name)
      if (found.length) return found.sort(compareTerms)
    }
    return []
  }
}

function compareTerms(a: Node, b: Node): number {
  const rank = (t: Node): number => (t.termType === 'BlankNode' ? 1 : 0)
  if (rank(a) !== rank(b)) return rank(a) - rank(b)
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0
}

const LANG_RANK: Record<string, number> = { de: 0, '': 1, en: 2 }
/** The one literal CKAN keeps: German, then untagged, then English, then any; ties by value. */
function pickText(objects: Node[]): string | undefined {
  const literals = objects.filter((o): o is RDF.Literal => o.termType === 'Literal' && o.value.trim() !== '')
  if (!literals.length) return undefined
  const rank = (l: RDF.Literal): number => LANG_RANK[l.language.toLowerCase().split('-')[0]!] ?? 3
  literals.sort((a, b) => rank(a) - rank(b) || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
  return literals[0]!.value.trim()
}

/** The string value of an IRI or literal object (blank nodes have none). */
function valueOf(o: Node | undefined): string | undefined {
  if (!o || o.termType === 'BlankNode') return undefined
  return stringValue(o.value)
}

/** A value that the export writes as an IRI only (landing page, homepage, page, URLs): cleaned as the export does. */
function urlOf(o: Node | undefined): string | undefined {
  const v = valueOf(o)
  return v === undefined ? undefined : cleanIri(v)
}

export interface ParseContext {
  vocab: Vocabularies
}

export function quadsToDatasets(quads: Iterable<Quad>, ctx: ParseContext): ParsedDataset[] {
  const g = new Graph(quads)
  const subjects = g.store.getSubjects(nn(P.type), nn(C.Dataset), null) as Node[]
  return subjects.sort(compareTerms).map((s) => parseDataset(g, s, ctx))
}

function parseDataset(g: Graph, ds: Node, ctx: ParseContext): ParsedDataset {
  const { vocab } = ctx
  const extras = new Map<string, string>()
  const set = (key: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') extras.set(key, value)
  }
  const setList = (key: string, values: Array<string | undefined>): void => {
    const clean = [...new Set(values.filter((v): v is string => !!v))].sort()
    if (clean.length) extras.set(key, JSON.stringify(clean))
  }
  const first = (p: string): string | undefined => valueOf(g.sorted(ds, p).find((o) => o.termType !== 'BlankNode'))
  const values = (p: string): string[] => g.sorted(ds, p).map(valueOf).filter((v): v is string => !!v)
  const urls = (p: string): string[] => g.sorted(ds, p).map(urlOf).filter((v): v is string => !!v)
  /** A statement: an IRI, a literal, or a node's rdfs:label. */
  const statementValue = (objects: Node[]): string | undefined => {
    for (const o of objects) {
      const direct = valueOf(o)
      if (direct) return direct
      const label = pickText(g.objects(o, P.label))
      if (label) return label
    }
    return undefined
  }

  const uri = ds.termType === 'NamedNode' ? ds.value : undefined
  const title = pickText(g.objects(ds, P.title)) ?? ''
  const notes = pickText(g.objects(ds, P.description))
  const identifier = pickText(g.objects(ds, P.identifier)) ?? first(P.identifier)

  set('identifier', identifier)
  set('issued', dateText(pickText(g.objects(ds, P.issued))))
  set('modified', dateText(pickText(g.objects(ds, P.modified))))
  set('version_notes', pickText(g.objects(ds, P.versionNotes)))
  set('frequency', frequencyUri(vocab, first(P.accrualPeriodicity)))
  set('provenance', statementValue(g.sorted(ds, P.provenance)))
  set('access_rights', statementValue(g.sorted(ds, P.accessRights)))
  set('dcat_type', first(P.dctType))
  setList('language', values(P.language).map((l) => vocab.languageToUri(l)).filter(isIri))

  const themeCodes: string[] = []
  const otherThemes: string[] = []
  for (const theme of urls(P.theme)) {
    if (theme.startsWith(VOCAB.dataTheme)) {
      const code = theme.slice(VOCAB.dataTheme.length).toUpperCase()
      const known = vocab.themes.find(code)
      if (known) {
        themeCodes.push(known.code)
        continue
      }
    }
    otherThemes.push(theme)
  }
  setList('theme', otherThemes)

  setList(
    'alternate_identifier',
    g.sorted(ds, P.admsIdentifier).map((o) => valueOf(o) ?? pickText(g.objects(o, P.notation)) ?? valueOf(g.sorted(o, P.notation)[0])),
  )
  setList('conforms_to', values(P.conformsTo))
  setList('documentation', urls(P.page))
  setList('related_resource', values(P.relation))
  setList('source', values(P.source))
  setList('has_version', values(P.hasVersion))
  setList('is_version_of', values(P.isVersionOf))
  setList('is_referenced_by', values(P.isReferencedBy))
  setList('sample', values(P.sample))
  setList('references', values(P.references))
  setList('applicable_legislation', urls(P.applicableLegislation))
  setList('hvd_category', urls(P.hvdCategory))

  // dct:temporal (DCAT 2 dcat:startDate, DCAT-AP 1 schema:startDate, or time:hasBeginning)
  const temporal = g.sorted(ds, P.temporal)[0]
  if (temporal) {
    const instant = (dcatP: string, schemaP: string, timeP: string): string | undefined => {
      const direct = pickText(g.objects(temporal, dcatP)) ?? pickText(g.objects(temporal, schemaP))
      if (direct) return direct
      for (const node of g.sorted(temporal, NS.time + timeP)) {
        const v = pickText(g.objects(node, NS.time + 'inXSDDateTimeStamp')) ??
          pickText(g.objects(node, NS.time + 'inXSDDateTime')) ??
          pickText(g.objects(node, NS.time + 'inXSDDate'))
        if (v) return v
      }
      return undefined
    }
    set('temporal_start', dateText(instant(P.startDate, P.schemaStartDate, 'hasBeginning')))
    set('temporal_end', dateText(instant(P.endDate, P.schemaEndDate, 'hasEnd')))
  }
  set('temporal_resolution', pickText(g.objects(ds, P.temporalResolution)))
  set('spatial_resolution_in_meters', pickText(g.objects(ds, P.spatialResolutionInMeters)))

  // dct:spatial: political geocoding IRIs (directly or as locn:adminUnitL2) join dcatde:politicalGeocodingURI.
  const geocoding = new Set(g.dcatde(ds, 'politicalGeocodingURI').map(valueOf).filter((v): v is string => !!v))
  const declared = new Set(geocoding)
  const isGeocoding = (v: string): boolean => v.startsWith(VOCAB.politicalGeocoding) || declared.has(v)
  const spatialUris: string[] = []
  const spatialTexts: Node[] = []
  const geometries: Node[] = []
  const bboxes: Node[] = []
  const centroids: Node[] = []
  for (const loc of g.sorted(ds, P.spatial)) {
    if (loc.termType === 'Literal') {
      spatialTexts.push(loc)
      continue
    }
    if (loc.termType === 'NamedNode' && isGeocoding(loc.value)) {
      geocoding.add(loc.value)
      continue
    }
    if (loc.termType === 'NamedNode') spatialUris.push(cleanIri(loc.value) ?? loc.value)
    for (const unit of g.objects(loc, P.adminUnitL2)) if (unit.termType === 'NamedNode' && isGeocoding(unit.value)) geocoding.add(unit.value)
    spatialTexts.push(...g.objects(loc, P.prefLabel), ...g.objects(loc, P.label), ...g.objects(loc, NS.locn + 'geographicName'))
    for (const geometry of g.objects(loc, P.geometry)) {
      // DCAT-AP 3.0: [ a locn:Geometry ; gsp:asGeoJSON / gsp:asWKT ... ]
      if (geometry.termType === 'Literal') geometries.push(geometry)
      else geometries.push(...g.objects(geometry, NS.gsp + 'asGeoJSON'), ...g.objects(geometry, NS.gsp + 'asWKT'))
    }
    bboxes.push(...g.objects(loc, P.bbox))
    centroids.push(...g.objects(loc, P.centroid))
  }
  set('spatial_uri', spatialUris.sort()[0])
  set('spatial_text', pickText(spatialTexts))
  set('spatial', pickGeometry(geometries))
  set('spatial_bbox', pickGeometry(bboxes))
  set('spatial_centroid', pickGeometry(centroids))
  setList('politicalGeocodingURI', [...geocoding].map((v) => cleanIri(v)))
  set('politicalGeocodingLevelURI', urlOf(g.dcatde(ds, 'politicalGeocodingLevelURI')[0]))
  set('qualityProcessURI', urlOf(g.dcatde(ds, 'qualityProcessURI')[0]))
  setList('contributorID', g.dcatde(ds, 'contributorID').map(valueOf))
  setList('legalbasisText', g.dcatde(ds, 'legalBasis').map(valueOf))
  setList('geocodingText', g.dcatde(ds, 'geocodingDescription').map(valueOf))
  set('granularity', first(P.granularity))
  set('availability', first(P.availability))

  // dcat:contactPoint -> contact_*
  const contact = pickNode(g, g.sorted(ds, P.contactPoint), (n) => pickText(g.objects(n, P.fn)) ?? pickText(g.objects(n, NS.vcard + 'hasFN')))
  if (contact) {
    if (contact.termType === 'NamedNode') set('contact_uri', cleanIri(contact.value))
    set('contact_name', pickText(g.objects(contact, P.fn)) ?? pickText(g.objects(contact, NS.vcard + 'hasFN')))
    const vcardValue = (p: string): string | undefined => {
      for (const o of g.sorted(contact, p)) {
        const v = valueOf(o) ?? valueOf(g.sorted(o, NS.vcard + 'hasValue')[0])
        if (v) return v
      }
      return undefined
    }
    const email = vcardValue(P.hasEmail)
    set('contact_email', email ? withoutMailto(email) : undefined)
    const url = vcardValue(P.hasURL)
    set('contact_url', url ? cleanIri(url) : undefined)
    const tel = vcardValue(P.hasTelephone)
    set('contact_tel', tel ? telephoneNumber(tel) : undefined)
    const address = g.sorted(contact, NS.vcard + 'hasAddress')[0] ?? contact
    const addr = (p: string, alt: string): string | undefined =>
      pickText(g.objects(contact, p)) ?? pickText(g.objects(address, p)) ?? pickText(g.objects(address, NS.vcard + alt))
    set('contact_street', addr(P.hasStreetAddress, 'street-address'))
    set('contact_city', addr(P.hasLocality, 'locality'))
    set('contact_zip', addr(P.hasPostalCode, 'postal-code'))
    set('contact_country', addr(P.hasCountryName, 'country-name'))
  }

  // dct:publisher -> publisher_*
  const publisher = pickNode(g, g.sorted(ds, P.publisher), (n) => pickText(g.objects(n, P.name)))
  if (publisher) {
    if (publisher.termType === 'NamedNode') set('publisher_uri', cleanIri(publisher.value))
    const pub = readAgent(g, publisher)
    set('publisher_name', pub.name)
    set('publisher_email', pub.email)
    set('publisher_url', pub.url)
    set('publisher_type', pub.type)
    set('publisher_identifier', pickText(g.objects(publisher, P.identifier)))
  }

  // ckanext-dcatde agents
  const agentOf = (objects: Node[]): AgentValues | undefined => {
    const node = pickNode(g, objects, (n) => readAgent(g, n).name)
    return node ? readAgent(g, node) : undefined
  }
  const author = agentOf(g.sorted(ds, P.creator))
  const maintainer = agentOf(g.dcatde(ds, 'maintainer')) ?? agentOf(g.objects(ds, P.custodian))
  const originator = agentOf(g.dcatde(ds, 'originator')) ?? agentOf(g.objects(ds, P.geoOriginator))
  const contributor = agentOf(g.sorted(ds, P.contributor))
  for (const [prefix, a, topLevel] of [
    ['author', author, true],
    ['maintainer', maintainer, true],
    ['originator', originator, false],
    ['contributor', contributor, false],
  ] as const) {
    if (!a) continue
    if (!topLevel) {
      set(`${prefix}_name`, a.name)
      set(`${prefix}_email`, a.email)
    }
    set(`${prefix}_url`, a.url)
    set(`${prefix}_type`, a.type)
    set(`${prefix}_contacttype`, a.contactType)
  }

  // Distributions
  const resources = g
    .sorted(ds, P.distribution)
    .map((d) => parseDistribution(g, d, ctx))
    .sort((a, b) => cmp(a.uri ?? '\uffff', b.uri ?? '\uffff') || cmp(a.access_url ?? '', b.access_url ?? '') || cmp(a.name ?? '', b.name ?? ''))
  const licensed = resources.find((r) => r.license)

  const tags = [...new Set(g.objects(ds, P.keyword).filter((o) => o.termType === 'Literal').map((o) => o.value.trim()).filter(Boolean))]
    .sort()
    .map((name) => ({ name }))

  const parsed: ParsedDataset = {
    ...(uri ? { uri } : {}),
    name: slugName(title, identifier, uri),
    title,
    tags,
    themeCodes: [...new Set(themeCodes)].sort(),
    extras: [...extras.entries()].sort(([a], [b]) => cmp(a, b)).map(([key, value]) => ({ key, value })),
    resources,
  }
  const optional: Partial<ParsedDataset> = {
    notes,
    url: urlOf(g.sorted(ds, P.landingPage).find((o) => o.termType !== 'BlankNode')),
    version: pickText(g.objects(ds, P.versionInfo)) ?? pickText(g.objects(ds, P.version)),
    author: author?.name,
    author_email: author?.email,
    maintainer: maintainer?.name,
    maintainer_email: maintainer?.email,
    license_id: licensed?.license,
  }
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (parsed as unknown as Record<string, unknown>)[k] = v
  return parsed
}

interface AgentValues {
  name?: string
  email?: string
  url?: string
  type?: string
  contactType?: 'Person' | 'Organization'
}

/** A foaf:Agent (or a bare literal name, which some portals write). */
function readAgent(g: Graph, node: Node): AgentValues {
  if (node.termType === 'Literal') return { name: stringValue(node.value) }
  const types = g.types(node)
  const email = valueOf(g.sorted(node, P.mbox)[0])
  return dropUndefined({
    name: pickText(g.objects(node, P.name)),
    email: email ? withoutMailto(email) : undefined,
    url: urlOf(g.sorted(node, P.homepage)[0]),
    type: valueOf(g.sorted(node, P.dctType)[0]),
    contactType: types.has(C.Person) ? ('Person' as const) : types.has(C.Organization) ? ('Organization' as const) : undefined,
  })
}

/** One node of several: named ones first, then by the given label. */
function pickNode(g: Graph, nodes: Node[], label: (n: Node) => string | undefined): Node | undefined {
  if (nodes.length <= 1) return nodes[0]
  return [...nodes].sort((a, b) => compareTerms(a, b) || cmp(label(a) ?? '', label(b) ?? ''))[0]
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** GeoJSON when a literal holds it, else a WKT literal converted. */
function pickGeometry(objects: Node[]): string | undefined {
  const literals = objects.filter((o): o is RDF.Literal => o.termType === 'Literal').sort((a, b) => cmp(a.value, b.value))
  const json = literals.find((l) => l.value.trim().startsWith('{'))
  if (json) return json.value.trim()
  for (const l of literals) {
    const converted = wktToGeoJson(l.value)
    if (converted) return converted
  }
  return undefined
}

function parseDistribution(g: Graph, d: Node, ctx: ParseContext): ParsedResource {
  const { vocab } = ctx
  const r: Partial<ParsedResource> = {}
  const first = (p: string): string | undefined => valueOf(g.sorted(d, p).find((o) => o.termType !== 'BlankNode'))
  const list = (p: string, map: (v: string) => string = (v) => v, keep: (v: string) => boolean = () => true): string | undefined => {
    const vs = [...new Set(g.sorted(d, p).map(valueOf).filter((v): v is string => !!v).map(map).filter(keep))].sort()
    return vs.length ? JSON.stringify(vs) : undefined
  }
  const firstUrl = (p: string): string | undefined => g.sorted(d, p).map(urlOf).find((v) => v !== undefined)
  if (d.termType === 'NamedNode') r.uri = cleanIri(d.value) ?? d.value
  r.name = pickText(g.objects(d, P.title))
  r.description = pickText(g.objects(d, P.description))
  r.download_url = firstUrl(P.downloadURL)
  // dcat:accessURL is mandatory; a distribution with only a download URL is reachable there.
  r.access_url = firstUrl(P.accessURL) ?? r.download_url

  // dct:format: the EU file-type code; an IANA media type there moves to mimetype (ckanext-dcat).
  let mimetype: string | undefined
  for (const f of g.sorted(d, P.format)) {
    const v = valueOf(f) ?? pickText(g.objects(f, P.label)) ?? valueOf(g.sorted(f, NS.rdf + 'value')[0])
    if (!v) continue
    const media = bareMediaType(v)
    if (media && !v.startsWith(VOCAB.fileType)) {
      mimetype ??= media
      continue
    }
    r.format = vocab.fileTypes.find(v)?.code ?? v
    break
  }
  for (const m of g.sorted(d, P.mediaType)) {
    const v = valueOf(m) ?? pickText(g.objects(m, P.label))
    if (!v) continue
    const media = bareMediaType(v)
    if (media) {
      mimetype = media
      break
    }
    // A file-type name in dcat:mediaType ("ZIP"): GovData data often has it; keep it as the format.
    const fileType = vocab.fileTypes.find(v)
    if (fileType && !r.format) r.format = fileType.code
    else if (!fileType) mimetype ??= v
  }
  r.mimetype = mimetype
  r.compress_format = first(P.compressFormat)
  r.package_format = first(P.packageFormat)

  // A licence is an IRI (dcat-ap.de ids, upgraded); a free-text licence that no alias resolves is not kept.
  const license = first(P.license)
  const licenseId = license ? vocab.licenseToId(license) : undefined
  r.license = licenseId && isIri(licenseId) ? licenseId : undefined
  r.licenseAttributionByText = pickText(g.dcatde(d, 'licenseAttributionByText'))
  r.plannedAvailability = valueOf(g.dcatde(d, 'plannedAvailability')[0])

  const size = pickText(g.objects(d, P.byteSize))
  if (size !== undefined && Number.isFinite(Number(size)) && Number(size) >= 0) r.size = Math.round(Number(size))

  const checksum = g.sorted(d, P.checksum)[0]
  if (checksum) {
    r.hash = pickText(g.objects(checksum, P.checksumValue))
    // An algorithm without a checksum value says nothing (and spdx:Checksum needs the value).
    if (r.hash) r.hash_algorithm = normaliseHashAlgorithm(valueOf(g.sorted(checksum, P.algorithm)[0]))
  }
  r.issued = dateText(pickText(g.objects(d, P.issued)))
  r.modified = dateText(pickText(g.objects(d, P.modified)))
  const rightsNode = g.sorted(d, P.rights)[0]
  r.rights = rightsNode ? (valueOf(rightsNode) ?? pickText(g.objects(rightsNode, P.label))) : undefined
  r.language = list(P.language, (l) => vocab.languageToUri(l), isIri)
  r.conforms_to = list(P.conformsTo)
  r.documentation = list(P.page, (v) => cleanIri(v) ?? '', Boolean)
  r.status = first(P.status)
  r.availability = first(P.availability)
  r.url = r.download_url ?? r.access_url ?? ''

  return dropUndefined(r) as ParsedResource
}

/** A date as the export writes it (`2012-05-10T21:04` gets its seconds). */
function dateText(v: string | undefined): string | undefined {
  return v === undefined ? undefined : dateLiteral(v).value
}

/** ISO 8601 repeating intervals (DCAT-US, Project Open Data) -> EU frequency codes. */
const ISO_FREQUENCIES: Record<string, string> = {
  'R/PT1S': 'CONT',
  'R/PT1H': 'HOURLY',
  'R/P1D': 'DAILY',
  'R/P0.5W': 'WEEKLY_2',
  'R/P1W': 'WEEKLY',
  'R/P2W': 'BIWEEKLY',
  'R/P0.5M': 'MONTHLY_2',
  'R/P1M': 'MONTHLY',
  'R/P2M': 'BIMONTHLY',
  'R/P3M': 'QUARTERLY',
  'R/P4M': 'ANNUAL_3',
  'R/P6M': 'ANNUAL_2',
  'R/P1Y': 'ANNUAL',
  'R/P2Y': 'BIENNIAL',
  'R/P3Y': 'TRIENNIAL',
  'R/P4Y': 'QUADRENNIAL',
  'R/P10Y': 'DECENNIAL',
  irregular: 'IRREG',
}

/** dct:accrualPeriodicity as an EU frequency URI (or another IRI); anything else is dropped (export writes IRIs only). */
function frequencyUri(vocab: Vocabularies, value: string | undefined): string | undefined {
  if (!value) return undefined
  const uri = vocab.frequencyToUri(ISO_FREQUENCIES[value] ?? value)
  return isIri(uri) ? uri : undefined
}

/** `text/csv` from `text/csv` or an IANA media-type URI; undefined for anything else. */
function bareMediaType(v: string): string | undefined {
  for (const base of [VOCAB.ianaMediaTypes, VOCAB.ianaMediaTypesHttp]) {
    if (v.startsWith(base)) return v.slice(base.length).toLowerCase()
  }
  return /^(application|audio|font|image|message|model|multipart|text|video)\/[a-z0-9!#$&^_.+-]+$/i.test(v) ? v.toLowerCase() : undefined
}

/** A CKAN name ([a-z0-9_-], 2-100 characters) from the title, else the identifier, else the URI. */
export function slugName(title: string, identifier?: string, uri?: string): string {
  const slug = (s: string): string =>
    s
      .toLowerCase()
      .replace(/ä/g, 'ae')
      .replace(/ö/g, 'oe')
      .replace(/ü/g, 'ue')
      .replace(/ß/g, 'ss')
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^[-_]+|[-_]+$/g, '')
      .slice(0, 100)
      .replace(/[-_]+$/, '')
  for (const candidate of [title, identifier]) {
    const s = candidate ? slug(candidate) : ''
    if (s.length >= 2) return s
  }
  return `dataset-${createHash('sha1').update(uri ?? identifier ?? title).digest('hex').slice(0, 12)}`
}

// ---------------------------------------------------------------------------------------------------
// ParsedDataset -> package dict (as package_show shows it), and the values the export fills in

export interface PackageDictOptions {
  vocab: Vocabularies
  id?: string
  now?: string
  organization?: OrganizationLike | null
}

/**
 * The package dict package_show would return after storing `parsed` (via the real write path,
 * buildPackageRecord + renderPackageDocument), with `organization`, `groups` and the dataset `uri` joined.
 */
export function parsedToPackageDict(parsed: ParsedDataset, opts: PackageDictOptions): PackageDict {
  const { vocab } = opts
  const id = opts.id ?? randomUUID()
  const now = opts.now ?? new Date().toISOString().replace('Z', '').padEnd(26, '0')
  const themes = parsed.themeCodes.map((code) => vocab.themes.find(code)).filter((t) => t !== undefined)
  const input: PackageInput = {
    id,
    name: parsed.name,
    title: parsed.title,
    notes: parsed.notes,
    url: parsed.url,
    version: parsed.version,
    author: parsed.author,
    author_email: parsed.author_email,
    maintainer: parsed.maintainer,
    maintainer_email: parsed.maintainer_email,
    license_id: parsed.license_id,
    owner_org: opts.organization?.id ?? null,
    uri: parsed.uri ?? null,
    tags: parsed.tags,
    themeIds: themes.map((t) => t.id),
    extras: parsed.extras,
    resources: parsed.resources.map((r, i): ResourceInput => ({
      ...r,
      id: createHash('sha1').update(`${id}:${i}:${r.uri ?? ''}`).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, '$1-$2-$3-$4-$5'),
    })),
  }
  const record = buildPackageRecord(input, { vocab, now, previousRevision: 0 })
  const dict = renderPackageDocument(record, vocab) as PackageDict
  if (parsed.uri) dict.uri = parsed.uri
  dict.organization = opts.organization ?? null
  dict.groups = themes.map((t) => ({ id: t.id, name: t.name, title: t.title_de, display_name: t.title_de, description: t.description_de, image_display_url: '' }))
  return dict
}

/**
 * What `quadsToDatasets(datasetToQuads(dict))` returns for a dict made from `parsed`: `parsed` plus the values the
 * export fills in (see the module comment). The contributorID extra becomes the configured one.
 */
export function applyExportDefaults(parsed: ParsedDataset, dict: PackageDict, ctx: MappingContext): ParsedDataset {
  const org = ctx.organization ?? dict.organization ?? null
  const out: ParsedDataset = structuredClone(parsed)
  const extras = new Map(out.extras.map((e) => [e.key, e.value]))
  const dsIri = datasetUri(dict, ctx.baseUrl)
  out.uri = dsIri
  if (!extras.has('identifier')) extras.set('identifier', dsIri)
  if (!extras.has('modified') && dict.metadata_modified) extras.set('modified', dateLiteral(dict.metadata_modified).value)
  if (!extras.has('issued') && dict.metadata_created) extras.set('issued', dateLiteral(dict.metadata_created).value)
  extras.set('contributorID', JSON.stringify([ctx.contributorId]))
  const contact = contactValues(dict, org)
  for (const [k, v] of Object.entries(contact ?? {})) extras.set(`contact_${k}`, k === 'email' ? withoutMailto(v) : k === 'tel' ? telephoneNumber(v) : v)
  const publisher = publisherValues(dict, org, ctx.baseUrl)
  for (const [k, v] of Object.entries(publisher ?? {})) extras.set(`publisher_${k}`, v)
  const geocoding = geocodingUris(dict, org)
  if (geocoding.length) extras.set('politicalGeocodingURI', JSON.stringify([...new Set(geocoding)].sort()))
  const level = geocodingLevelUri(dict, org)
  if (level) extras.set('politicalGeocodingLevelURI', level)
  out.extras = [...extras.entries()].sort(([a], [b]) => cmp(a, b)).map(([key, value]) => ({ key, value }))
  out.name = slugName(out.title, extras.get('identifier'), dsIri)

  const resources = (dict.resources ?? []).filter((r) => !r.state || r.state === 'active')
  out.resources = out.resources.map((r, i) => {
    const res = resources[i]
    if (!res) return r
    const copy: ParsedResource = { ...r }
    copy.uri = resourceUri(res, dict, ctx.baseUrl)
    copy.issued ??= stringValue(res.created) ? dateLiteral(String(res.created)).value : undefined
    copy.modified ??= (stringValue(res.last_modified) ?? stringValue(res.metadata_modified))
      ? dateLiteral(String(stringValue(res.last_modified) ?? res.metadata_modified)).value
      : undefined
    if (!copy.license && dict.license_id) copy.license = ctx.vocab.licenseToId(dict.license_id)
    // Values the export cannot write as the shapes want them are reported and left out (MappingNote).
    if (copy.format && !formatUri(ctx.vocab, copy.format) && !isIri(copy.format)) delete copy.format
    if (copy.mimetype && !mediaTypeUri(ctx.vocab, copy.mimetype)) delete copy.mimetype
    for (const key of ['compress_format', 'package_format'] as const) {
      const v = copy[key]
      if (v && !mediaTypeUri(ctx.vocab, v) && !isIri(v)) delete copy[key]
    }
    if (!copy.hash) delete copy.hash_algorithm
    return dropUndefined(copy)
  })
  out.resources.sort((a, b) => cmp(a.uri ?? '\uffff', b.uri ?? '\uffff') || cmp(a.access_url ?? '', b.access_url ?? '') || cmp(a.name ?? '', b.name ?? ''))
  // The parser takes license_id from the first licensed distribution (in its order).
  const licensed = out.resources.find((r) => r.license)
  if (licensed) out.license_id = licensed.license
  return out
}
