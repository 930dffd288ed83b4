/**
 * The background graph for validation: SKOS data for the controlled vocabularies (built from
 * catalog/vocabularies/*.json, so the code lists exist only once) plus the small hand-written
 * Turtle files in catalog/vocabularies-rdf/ (class axioms, vocabularies we have no JSON for).
 *
 * SHACL checks such as `dct:format` "is in the EU file-type table" test `<value> skos:inScheme
 * <scheme>` in the DATA graph, and `sh:class` checks test `rdf:type`. So before validating, the
 * validator adds the background triples of every IRI the data refers to (and only those: merging
 * all ~450 concepts into every run would make every run slower and let shapes that target
 * skos:Concept etc. fire on vocabulary entries nobody used).
 */
import { readFileSync, readdirSync } from 'node:fs'
import { DataFactory, Parser } from 'n3'
import type { Quad, Term } from '@rdfjs/types'
import { EU_AUTHORITY, NS } from './namespaces.js'

const { namedNode, literal, quad } = DataFactory

/** The repository's catalog/ folder (reference data, shapes, vocabularies). */
export { CATALOG_DIR } from '../paths.js'
import { CATALOG_DIR } from '../paths.js'
export const VOCABULARY_JSON_DIR = `${CATALOG_DIR}/vocabularies`
export const VOCABULARY_RDF_DIR = `${CATALOG_DIR}/vocabularies-rdf`

/** Concept scheme IRIs, as the official shapes and the DCAT-AP.de specification write them. */
export const SCHEMES = {
  dataTheme: `${EU_AUTHORITY}data-theme`,
  fileType: `${EU_AUTHORITY}file-type`,
  frequency: `${EU_AUTHORITY}frequency`,
  language: `${EU_AUTHORITY}language`,
  accessRight: `${EU_AUTHORITY}access-right`,
  plannedAvailability: `${EU_AUTHORITY}planned-availability`,
  dcatdePlannedAvailability: 'http://dcat-ap.de/def/plannedAvailability',
  licenses: 'http://dcat-ap.de/def/licenses',
  contributors: 'http://dcat-ap.de/def/contributors',
  geocodingLevel: 'http://dcat-ap.de/def/politicalGeocoding/Level',
  /** not an official scheme: our name for "the IANA media-type registry" */
  ianaMediaTypes: `${NS.gsv}iana-media-types`,
} as const

/** dcat-ap.de political geocoding key schemes and the number of digits of their keys. */
export const GEOCODING_KEY_SCHEMES: Record<string, number> = {
  stateKey: 2,
  governmentDistrictKey: 3,
  districtKey: 5,
  municipalityKey: 8,
  municipalAssociationKey: 9,
  regionalKey: 12,
}
const GEOCODING_BASE = 'http://dcat-ap.de/def/politicalGeocoding/'
const IANA_BASE = 'https://www.iana.org/assignments/media-types/'

const RDF_TYPE = namedNode(`${NS.rdf}type`)
const IN_SCHEME = namedNode(`${NS.skos}inScheme`)
const PREF_LABEL = namedNode(`${NS.skos}prefLabel`)
const NOTATION = namedNode(`${NS.skos}notation`)
const DCT_TITLE = namedNode(`${NS.dct}title`)
const CONCEPT = namedNode(`${NS.skos}Concept`)
const CONCEPT_SCHEME = namedNode(`${NS.skos}ConceptScheme`)

interface Coded {
  code?: string
  id?: string
  uri?: string
  label?: string
  title?: string
  title_de?: string
  title_en?: string
  status?: string
  scheme?: string
  requires_attribution?: boolean
}

interface VocabularySource {
  file: string
  scheme: string
  schemeTitle: { de: string; en: string }
  /** extra rdf:type of each concept (range classes the DCAT-AP shapes check with sh:class) */
  types: string[]
  /** which JSON entries belong to the scheme (default: all) */
  filter?: (entry: Coded) => boolean
  uri?: (entry: Coded) => string
}

const SOURCES: VocabularySource[] = [
  {
    file: 'themes.json',
    scheme: SCHEMES.dataTheme,
    schemeTitle: { de: 'Datenthemen (EU)', en: 'Data theme (EU)' },
    types: [],
  },
  {
    file: 'file-types.json',
    scheme: SCHEMES.fileType,
    schemeTitle: { de: 'Dateitypen (EU)', en: 'File type (EU)' },
    types: [`${NS.dct}MediaTypeOrExtent`],
  },
  {
    file: 'frequencies.json',
    scheme: SCHEMES.frequency,
    schemeTitle: { de: 'Aktualisierungsfrequenzen (EU)', en: 'Frequency (EU)' },
    types: [`${NS.dct}Frequency`],
  },
  {
    file: 'languages.json',
    scheme: SCHEMES.language,
    schemeTitle: { de: 'Sprachen (EU)', en: 'Language (EU)' },
    types: [`${NS.dct}LinguisticSystem`],
  },
  {
    file: 'access-rights.json',
    scheme: SCHEMES.accessRight,
    schemeTitle: { de: 'Zugriffsrechte (EU)', en: 'Access right (EU)' },
    types: [`${NS.dct}RightsStatement`],
  },
  {
    file: 'planned-availability.json',
    scheme: SCHEMES.plannedAvailability,
    schemeTitle: { de: 'Geplante Verfügbarkeit (EU)', en: 'Planned availability (EU)' },
    types: [],
    filter: (e) => e.scheme === 'eu',
  },
  {
    file: 'planned-availability.json',
    scheme: SCHEMES.dcatdePlannedAvailability,
    schemeTitle: { de: 'Geplante Verfügbarkeit (DCAT-AP.de, veraltet)', en: 'Planned availability (DCAT-AP.de, deprecated)' },
    types: [],
    filter: (e) => e.scheme === 'dcatde',
  },
  {
    file: 'licenses.json',
    scheme: SCHEMES.licenses,
    schemeTitle: { de: 'Lizenzen (DCAT-AP.de)', en: 'Licences (DCAT-AP.de)' },
    types: [`${NS.dct}LicenseDocument`],
    // only the current list: the old ids (status "inactive") are not in the dcat-ap.de scheme
    filter: (e) => e.status === 'active',
    uri: (e) => e.id ?? '',
  },
  {
    file: 'contributors.json',
    scheme: SCHEMES.contributors,
    schemeTitle: { de: 'Datenbereitsteller-IDs (DCAT-AP.de)', en: 'Contributor IDs (DCAT-AP.de)' },
    types: [],
  },
  {
    file: 'geocoding-levels.json',
    scheme: SCHEMES.geocodingLevel,
    schemeTitle: { de: 'Ebenen der politischen Geokodierung', en: 'Political geocoding levels' },
    types: [],
  },
]

/** Background triples, indexed by the IRI they describe. */
export class VocabularyGraph {
  private readonly bySubject = new Map<string, Quad[]>()
  private readonly mediaTypes: Set<string>
  /** triples that every validation run needs (class axioms) */
  readonly always: Quad[] = []

  constructor(readonly catalogDir: string = CATALOG_DIR) {
    for (const source of SOURCES) this.addJsonVocabulary(source)
    this.mediaTypes = new Set(
      readJson<string[]>(`${catalogDir}/vocabularies/media-types.json`).map((m) => m.toLowerCase()),
    )
    this.addScheme(SCHEMES.ianaMediaTypes, { de: 'IANA-Medientypen', en: 'IANA media types' })
    for (const [name] of Object.entries(GEOCODING_KEY_SCHEMES)) {
      this.addScheme(`${GEOCODING_BASE}${name}`, { de: `Politische Geokodierung: ${name}`, en: `Political geocoding: ${name}` })
    }
    for (const quads of loadTurtleDir(`${catalogDir}/vocabularies-rdf`)) {
      for (const q of quads) {
        if (q.predicate.value === `${NS.rdfs}subClassOf` || q.predicate.value === `${NS.rdfs}subPropertyOf`) {
          this.always.push(q)
        } else {
          this.add(q)
        }
      }
    }
  }

  /** The subclass axioms (also put into every shapes graph: shacl-engine resolves sh:class there). */
  get classAxioms(): Quad[] {
    return this.always
  }

  /** Every stored triple (for inspection and tests). */
  allQuads(): Quad[] {
    return [...this.always, ...[...this.bySubject.values()].flat()]
  }

  /** Is this IRI described by the background graph (a concept, a scheme)? */
  describes(iri: string): boolean {
    return this.bySubject.has(iri) || this.generated(iri) !== null
  }

  /**
   * The background triples for the IRIs the data refers to. `terms` are the objects (and subjects)
   * of the data graph; each described IRI contributes its own triples and those of its scheme.
   */
  quadsFor(terms: Iterable<Term>): Quad[] {
    const out: Quad[] = [...this.always]
    const seen = new Set<string>()
    const visit = (iri: string) => {
      if (seen.has(iri)) return
      seen.add(iri)
      const quads = this.bySubject.get(iri) ?? this.generated(iri)
      if (!quads) return
      for (const q of quads) {
        out.push(q)
        if (q.predicate.equals(IN_SCHEME)) visit(q.object.value)
      }
    }
    for (const term of terms) if (term.termType === 'NamedNode') visit(term.value)
    return out
  }

  private add(q: Quad): void {
    const key = q.subject.value
    let list = this.bySubject.get(key)
    if (!list) this.bySubject.set(key, (list = []))
    list.push(q)
  }

  private addScheme(scheme: string, title: { de: string; en: string }): void {
    const s = namedNode(scheme)
    if (this.bySubject.has(scheme)) return
    this.add(quad(s, RDF_TYPE, CONCEPT_SCHEME))
    this.add(quad(s, DCT_TITLE, literal(title.de, 'de')))
    this.add(quad(s, DCT_TITLE, literal(title.en, 'en')))
    this.add(quad(s, PREF_LABEL, literal(title.de, 'de')))
  }

  private addJsonVocabulary(source: VocabularySource): void {
    const entries = readJson<Coded[]>(`${this.catalogDir}/vocabularies/${source.file}`)
    this.addScheme(source.scheme, source.schemeTitle)
    const scheme = namedNode(source.scheme)
    for (const entry of entries) {
      if (source.filter && !source.filter(entry)) continue
      const iri = source.uri ? source.uri(entry) : entry.uri
      if (!iri) continue
      const s = namedNode(iri)
      this.add(quad(s, RDF_TYPE, CONCEPT))
      for (const type of source.types) this.add(quad(s, RDF_TYPE, namedNode(type)))
      this.add(quad(s, IN_SCHEME, scheme))
      const de = entry.title_de ?? entry.label ?? entry.title ?? entry.code ?? iri
      const en = entry.title_en ?? entry.label ?? entry.title ?? entry.code ?? iri
      this.add(quad(s, PREF_LABEL, literal(de, 'de')))
      if (en !== de) this.add(quad(s, PREF_LABEL, literal(en, 'en')))
      if (entry.code) this.add(quad(s, NOTATION, literal(entry.code)))
      if (entry.requires_attribution) this.add(quad(s, namedNode(`${NS.gsv}requiresAttribution`), literal('true', namedNode(`${NS.xsd}boolean`))))
    }
  }

  /**
   * Triples for IRIs that follow a pattern instead of a shipped list: dcat-ap.de political
   * geocoding keys (`.../regionalKey/<12 digits>` and so on; the digits are checked, not the key
   * list) and IANA media types (checked against catalog/vocabularies/media-types.json).
   */
  private generated(iri: string): Quad[] | null {
    if (iri.startsWith(GEOCODING_BASE)) {
      const m = /^http:\/\/dcat-ap\.de\/def\/politicalGeocoding\/([A-Za-z]+)\/(\d+)$/.exec(iri)
      if (!m || GEOCODING_KEY_SCHEMES[m[1]] !== m[2].length) return null
      const s = namedNode(iri)
      return [
        quad(s, RDF_TYPE, CONCEPT),
        quad(s, RDF_TYPE, namedNode(`${NS.dct}Location`)),
        quad(s, IN_SCHEME, namedNode(`${GEOCODING_BASE}${m[1]}`)),
        quad(s, PREF_LABEL, literal(`${m[1]} ${m[2]}`)),
      ]
    }
    const bare = iri.replace(/^http:/, 'https:')
    if (bare.startsWith(IANA_BASE) && this.mediaTypes.has(bare.slice(IANA_BASE.length).toLowerCase())) {
      const s = namedNode(iri)
      return [
        quad(s, RDF_TYPE, namedNode(`${NS.dct}MediaType`)),
        quad(s, RDF_TYPE, namedNode(`${NS.dct}MediaTypeOrExtent`)),
        quad(s, IN_SCHEME, namedNode(SCHEMES.ianaMediaTypes)),
      ]
    }
    return null
  }
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T
}

/** Parses every `*.ttl` file of a folder (sorted by name); a missing folder yields nothing. */
export function loadTurtleDir(dir: string): Quad[][] {
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.ttl')).sort()
  } catch {
    return []
  }
  return names.map((n) => parseTurtleFile(`${dir}/${n}`))
}

export function parseTurtleFile(path: string): Quad[] {
  const text = readFileSync(path, 'utf8')
  try {
    return new Parser({ format: 'text/turtle', baseIRI: `file://${path}` }).parse(text) as Quad[]
  } catch (err) {
    throw new Error(`cannot parse ${path}: ${(err as Error).message}`)
  }
}

let shared: VocabularyGraph | undefined
/** The process-wide background graph, built on first use. */
export function vocabularyGraph(): VocabularyGraph {
  shared ??= new VocabularyGraph()
  return shared
}
