/** Namespace IRIs used by the DCAT-AP.de mapping, the serializers and the validator. */

export const NS = {
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  owl: 'http://www.w3.org/2002/07/owl#',
  skos: 'http://www.w3.org/2004/02/skos/core#',
  dcat: 'http://www.w3.org/ns/dcat#',
  dct: 'http://purl.org/dc/terms/',
  dcatde: 'http://dcat-ap.de/def/dcatde/',
  dcatap: 'http://data.europa.eu/r5r/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  vcard: 'http://www.w3.org/2006/vcard/ns#',
  adms: 'http://www.w3.org/ns/adms#',
  spdx: 'http://spdx.org/rdf/terms#',
  schema: 'http://schema.org/',
  locn: 'http://www.w3.org/ns/locn#',
  gsp: 'http://www.opengis.net/ont/geosparql#',
  hydra: 'http://www.w3.org/ns/hydra/core#',
  time: 'http://www.w3.org/2006/time#',
  prov: 'http://www.w3.org/ns/prov#',
} as const

export type Prefix = keyof typeof NS

/** Older DCAT-AP.de namespaces that the parser still reads (newest wins when several are present). */
export const DCATDE_1_0 = 'http://dcat-ap.de/def/dcatde/1_0/'
export const DCATDE_1_0_1 = 'http://dcat-ap.de/def/dcatde/1.0.1/'

/** Prefixes written into Turtle / RDF/XML output (hydra only where paging is written, harmless elsewhere). */
export const DEFAULT_PREFIXES: Record<string, string> = {
  rdf: NS.rdf,
  rdfs: NS.rdfs,
  xsd: NS.xsd,
  owl: NS.owl,
  skos: NS.skos,
  dcat: NS.dcat,
  dct: NS.dct,
  dcatde: NS.dcatde,
  dcatap: NS.dcatap,
  foaf: NS.foaf,
  vcard: NS.vcard,
  adms: NS.adms,
  spdx: NS.spdx,
  schema: NS.schema,
  locn: NS.locn,
  gsp: NS.gsp,
  hydra: NS.hydra,
}

/** Controlled-vocabulary bases. */
export const VOCAB = {
  dataTheme: 'http://publications.europa.eu/resource/authority/data-theme/',
  dataThemeScheme: 'http://publications.europa.eu/resource/authority/data-theme',
  fileType: 'http://publications.europa.eu/resource/authority/file-type/',
  language: 'http://publications.europa.eu/resource/authority/language/',
  frequency: 'http://publications.europa.eu/resource/authority/frequency/',
  ianaMediaTypes: 'https://www.iana.org/assignments/media-types/',
  ianaMediaTypesHttp: 'http://www.iana.org/assignments/media-types/',
  politicalGeocoding: 'http://dcat-ap.de/def/politicalGeocoding/',
  contributors: 'http://dcat-ap.de/def/contributors/',
  licenses: 'http://dcat-ap.de/def/licenses/',
  geoJsonLiteral: 'https://www.iana.org/assignments/media-types/application/vnd.geo+json',
} as const

/** `ns('dcat', 'Dataset')` -> the full IRI. */
export function iri(prefix: Prefix, local: string): string {
  return NS[prefix] + local
}
