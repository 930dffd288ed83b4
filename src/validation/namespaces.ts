/** Namespace IRIs used by the validator, and a helper that writes IRIs as `prefix:local`. */

export const NS = {
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  owl: 'http://www.w3.org/2002/07/owl#',
  sh: 'http://www.w3.org/ns/shacl#',
  skos: 'http://www.w3.org/2004/02/skos/core#',
  dct: 'http://purl.org/dc/terms/',
  dc: 'http://purl.org/dc/elements/1.1/',
  dcat: 'http://www.w3.org/ns/dcat#',
  dcatap: 'http://data.europa.eu/r5r/',
  dcatde: 'http://dcat-ap.de/def/dcatde/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  vcard: 'http://www.w3.org/2006/vcard/ns#',
  adms: 'http://www.w3.org/ns/adms#',
  spdx: 'http://spdx.org/rdf/terms#',
  prov: 'http://www.w3.org/ns/prov#',
  odrl: 'http://www.w3.org/ns/odrl/2/',
  locn: 'http://www.w3.org/ns/locn#',
  schema: 'http://schema.org/',
  time: 'http://www.w3.org/2006/time#',
  org: 'http://www.w3.org/ns/org#',
  geodcatap: 'http://data.europa.eu/930/',
  eli: 'http://data.europa.eu/eli/ontology#',
  gsv: 'urn:godonu:vocab:',
  gs: 'urn:godonu:shapes:',
} as const

// `dcatap:` is written both with and without `#` (DCAT-AP 2.x uses http://data.europa.eu/r5r#)
const EXTRA_PREFIXES: Array<[string, string]> = [['dcatap', 'http://data.europa.eu/r5r#']]

const PREFIXES: Array<[string, string]> = [...Object.entries(NS), ...EXTRA_PREFIXES].sort(
  (a, b) => b[1].length - a[1].length,
)

/** `http://purl.org/dc/terms/title` -> `dct:title`; IRIs outside the known namespaces stay as they are. */
export function compact(iri: string): string {
  for (const [prefix, base] of PREFIXES) {
    if (iri.startsWith(base) && iri.length > base.length) {
      const local = iri.slice(base.length)
      if (/^[A-Za-z_][\w.-]*$/.test(local)) return `${prefix}:${local}`
    }
  }
  return iri
}

export const sh = (local: string): string => NS.sh + local
export const EU_AUTHORITY = 'http://publications.europa.eu/resource/authority/'
