/**
 * The data.europa.eu Metadata Quality Assessment (MQA) indicators with their official points (piveau's default
 * score values; ../shared/reference/quality-and-peers.md section 1.2): 23 indicators in five dimensions, 405
 * points in all. Each indicator has its one fix: the concrete thing an editor does to earn it, in German and
 * English, and the indicators that fix earns (a licence from the dcat-ap.de list earns both licence indicators).
 */

export type Dimension = 'findability' | 'accessibility' | 'interoperability' | 'reusability' | 'contextuality'
export type Level = 'dataset' | 'distribution'
export type Lang = 'de' | 'en'

export type IndicatorId =
  | 'keywordAvailability'
  | 'categoryAvailability'
  | 'spatialAvailability'
  | 'temporalAvailability'
  | 'accessUrlStatusCode'
  | 'downloadUrlAvailability'
  | 'downloadUrlStatusCode'
  | 'formatAvailability'
  | 'mediaTypeAvailability'
  | 'formatMediaTypeVocabularyAlignment'
  | 'formatMediaTypeNonProprietary'
  | 'formatMediaTypeMachineInterpretable'
  | 'dcatApCompliance'
  | 'licenceAvailability'
  | 'knownLicence'
  | 'accessRightsAvailability'
  | 'accessRightsVocabularyAlignment'
  | 'contactPointAvailability'
  | 'publisherAvailability'
  | 'rightsAvailability'
  | 'byteSizeAvailability'
  | 'dateIssuedAvailability'
  | 'dateModifiedAvailability'

export interface Fix {
  /** Stable id of the fix (the same fix may answer several misses). */
  id: string
  text: Record<Lang, string>
  /** The indicators this fix earns when done. */
  earns: IndicatorId[]
}

export interface Indicator {
  id: IndicatorId
  dimension: Dimension
  level: Level
  points: number
  /** The property checked, as data.europa.eu names it. */
  property: string
  label: Record<Lang, string>
  /** The fix when the indicator is missed (a licence missing altogether: see fixFor). */
  fix: Fix
}

const fix = (id: string, de: string, en: string, ...earns: IndicatorId[]): Fix => ({ id, text: { de, en }, earns })

export const INDICATORS: readonly Indicator[] = [
  {
    id: 'keywordAvailability',
    dimension: 'findability',
    level: 'dataset',
    points: 30,
    property: 'dcat:keyword',
    label: { de: 'Schlagwörter vorhanden', en: 'Keywords given' },
    fix: fix(
      'add-keywords',
      'Mindestens ein Schlagwort (Tag) angeben',
      'Add at least one keyword (tag)',
      'keywordAvailability',
    ),
  },
  {
    id: 'categoryAvailability',
    dimension: 'findability',
    level: 'dataset',
    points: 30,
    property: 'dcat:theme',
    label: { de: 'Kategorie (Thema) vorhanden', en: 'Category (theme) given' },
    fix: fix(
      'add-theme',
      'Eine EU-Datenkategorie (Gruppe) zuordnen',
      'Assign an EU data theme (group)',
      'categoryAvailability',
    ),
  },
  {
    id: 'spatialAvailability',
    dimension: 'findability',
    level: 'dataset',
    points: 20,
    property: 'dct:spatial',
    label: { de: 'Räumliche Abdeckung vorhanden', en: 'Spatial coverage given' },
    fix: fix(
      'add-spatial',
      'Räumliche Abdeckung angeben (politicalGeocodingURI oder spatial_uri)',
      'Give the spatial coverage (politicalGeocodingURI or spatial_uri)',
      'spatialAvailability',
    ),
  },
  {
    id: 'temporalAvailability',
    dimension: 'findability',
    level: 'dataset',
    points: 20,
    property: 'dct:temporal',
    label: { de: 'Zeitliche Abdeckung vorhanden', en: 'Temporal coverage given' },
    fix: fix(
      'add-temporal',
      'Zeitliche Abdeckung angeben (temporal_start und/oder temporal_end)',
      'Give the temporal coverage (temporal_start and/or temporal_end)',
      'temporalAvailability',
    ),
  },
  {
    id: 'accessUrlStatusCode',
    dimension: 'accessibility',
    level: 'distribution',
    points: 50,
    property: 'dcat:accessURL',
    label: { de: 'Zugriffs-URL erreichbar', en: 'Access URL reachable' },
    fix: fix(
      'fix-access-url',
      'Die Zugriffs-URL (url/access_url) der Distribution erreichbar machen oder korrigieren',
      "Make the distribution's access URL (url/access_url) reachable or correct it",
      'accessUrlStatusCode',
    ),
  },
  {
    id: 'downloadUrlAvailability',
    dimension: 'accessibility',
    level: 'distribution',
    points: 20,
    property: 'dcat:downloadURL',
    label: { de: 'Download-URL vorhanden', en: 'Download URL given' },
    fix: fix(
      'add-download-url',
      'Eine direkte Download-URL (download_url) für die Distribution angeben',
      'Give a direct download URL (download_url) for the distribution',
      'downloadUrlAvailability',
    ),
  },
  {
    id: 'downloadUrlStatusCode',
    dimension: 'accessibility',
    level: 'distribution',
    points: 30,
    property: 'dcat:downloadURL',
    label: { de: 'Download-URL erreichbar', en: 'Download URL reachable' },
    fix: fix(
      'fix-download-url',
      'Eine erreichbare Download-URL (download_url) angeben',
      'Give a download URL (download_url) that answers',
      'downloadUrlStatusCode',
    ),
  },
  {
    id: 'formatAvailability',
    dimension: 'interoperability',
    level: 'distribution',
    points: 20,
    property: 'dct:format',
    label: { de: 'Format vorhanden', en: 'Format given' },
    fix: fix(
      'add-format',
      'Das Dateiformat der Distribution angeben (EU-Dateityp, z. B. CSV)',
      "Give the distribution's file format (EU file type, e.g. CSV)",
      'formatAvailability',
      'formatMediaTypeVocabularyAlignment',
    ),
  },
  {
    id: 'mediaTypeAvailability',
    dimension: 'interoperability',
    level: 'distribution',
    points: 10,
    property: 'dcat:mediaType',
    label: { de: 'Medientyp vorhanden', en: 'Media type given' },
    fix: fix(
      'add-media-type',
      'Den IANA-Medientyp (mimetype, z. B. text/csv) angeben',
      'Give the IANA media type (mimetype, e.g. text/csv)',
      'mediaTypeAvailability',
    ),
  },
  {
    id: 'formatMediaTypeVocabularyAlignment',
    dimension: 'interoperability',
    level: 'distribution',
    points: 10,
    property: 'dct:format / dcat:mediaType',
    label: { de: 'Format/Medientyp aus dem Vokabular', en: 'Format/media type from the vocabulary' },
    fix: fix(
      'vocabulary-format',
      'Format aus der EU-Dateityp-Liste oder Medientyp aus der IANA-Liste wählen',
      'Choose the format from the EU file-type list or the media type from the IANA list',
      'formatMediaTypeVocabularyAlignment',
    ),
  },
  {
    id: 'formatMediaTypeNonProprietary',
    dimension: 'interoperability',
    level: 'distribution',
    points: 20,
    property: 'dct:format',
    label: { de: 'Offenes (nicht proprietäres) Format', en: 'Non-proprietary format' },
    fix: fix(
      'open-format',
      'Die Daten zusätzlich in einem offenen Format anbieten (z. B. CSV statt XLSX)',
      'Also offer the data in an open format (e.g. CSV instead of XLSX)',
      'formatMediaTypeNonProprietary',
    ),
  },
  {
    id: 'formatMediaTypeMachineInterpretable',
    dimension: 'interoperability',
    level: 'distribution',
    points: 20,
    property: 'dct:format',
    label: { de: 'Maschinenlesbares Format', en: 'Machine-readable format' },
    fix: fix(
      'machine-readable-format',
      'Die Daten zusätzlich in einem maschinenlesbaren Format anbieten (z. B. CSV, JSON statt PDF)',
      'Also offer the data in a machine-readable format (e.g. CSV, JSON instead of PDF)',
      'formatMediaTypeMachineInterpretable',
    ),
  },
  {
    id: 'dcatApCompliance',
    dimension: 'interoperability',
    level: 'dataset',
    points: 30,
    property: 'DCAT-AP.de (SHACL)',
    label: { de: 'DCAT-AP.de-konform', en: 'DCAT-AP.de compliant' },
    fix: fix(
      'dcat-ap-compliance',
      'Die Befunde der DCAT-AP.de-Prüfung beheben und den Datensatz veröffentlicht (nicht als Entwurf) speichern',
      'Fix the DCAT-AP.de findings and save the dataset as published (not as a draft)',
      'dcatApCompliance',
    ),
  },
  {
    id: 'licenceAvailability',
    dimension: 'reusability',
    level: 'distribution',
    points: 20,
    property: 'dct:license',
    label: { de: 'Lizenz vorhanden', en: 'Licence given' },
    fix: fix(
      'add-licence',
      'Lizenz aus der dcat-ap.de-Liste angeben',
      'Give a licence from the dcat-ap.de list',
      'licenceAvailability',
      'knownLicence',
    ),
  },
  {
    id: 'knownLicence',
    dimension: 'reusability',
    level: 'distribution',
    points: 10,
    property: 'dct:license',
    label: { de: 'Lizenz aus dem Vokabular', en: 'Licence from the vocabulary' },
    fix: fix(
      'known-licence',
      'Die Lizenz durch eine aus der dcat-ap.de-Liste ersetzen',
      'Replace the licence with one from the dcat-ap.de list',
      'knownLicence',
    ),
  },
  {
    id: 'accessRightsAvailability',
    dimension: 'reusability',
    level: 'dataset',
    points: 10,
    property: 'dct:accessRights',
    label: { de: 'Zugangsrechte vorhanden', en: 'Access rights given' },
    fix: fix(
      'add-access-rights',
      'Zugangsrechte aus der EU-Liste angeben (access_rights, z. B. PUBLIC)',
      'Give access rights from the EU list (access_rights, e.g. PUBLIC)',
      'accessRightsAvailability',
      'accessRightsVocabularyAlignment',
    ),
  },
  {
    id: 'accessRightsVocabularyAlignment',
    dimension: 'reusability',
    level: 'dataset',
    points: 5,
    property: 'dct:accessRights',
    label: { de: 'Zugangsrechte aus dem EU-Vokabular', en: 'Access rights from the EU vocabulary' },
    fix: fix(
      'vocabulary-access-rights',
      'Zugangsrechte als URI der EU-Liste angeben (…/access-right/PUBLIC)',
      'Give the access rights as a URI of the EU list (…/access-right/PUBLIC)',
      'accessRightsVocabularyAlignment',
    ),
  },
  {
    id: 'contactPointAvailability',
    dimension: 'reusability',
    level: 'dataset',
    points: 20,
    property: 'dcat:contactPoint',
    label: { de: 'Kontaktstelle vorhanden', en: 'Contact point given' },
    fix: fix(
      'add-contact',
      'Eine Kontaktstelle angeben (maintainer und maintainer_email)',
      'Give a contact point (maintainer and maintainer_email)',
      'contactPointAvailability',
    ),
  },
  {
    id: 'publisherAvailability',
    dimension: 'reusability',
    level: 'dataset',
    points: 10,
    property: 'dct:publisher',
    label: { de: 'Veröffentlichende Stelle vorhanden', en: 'Publisher given' },
    fix: fix(
      'add-publisher',
      'Den Datensatz einer Kommune zuordnen oder eine veröffentlichende Stelle angeben',
      'Assign the dataset to a Kommune or give a publisher',
      'publisherAvailability',
    ),
  },
  {
    id: 'rightsAvailability',
    dimension: 'contextuality',
    level: 'distribution',
    points: 5,
    property: 'dct:rights',
    label: { de: 'Rechtehinweis vorhanden', en: 'Rights statement given' },
    fix: fix(
      'add-rights',
      'Einen Rechtehinweis (rights) für die Distribution angeben',
      'Give a rights statement (rights) for the distribution',
      'rightsAvailability',
    ),
  },
  {
    id: 'byteSizeAvailability',
    dimension: 'contextuality',
    level: 'distribution',
    points: 5,
    property: 'dcat:byteSize',
    label: { de: 'Dateigröße vorhanden', en: 'File size given' },
    fix: fix(
      'add-byte-size',
      'Die Dateigröße in Bytes (size) angeben',
      'Give the file size in bytes (size)',
      'byteSizeAvailability',
    ),
  },
  {
    id: 'dateIssuedAvailability',
    dimension: 'contextuality',
    level: 'distribution',
    points: 5,
    property: 'dct:issued',
    label: { de: 'Veröffentlichungsdatum vorhanden', en: 'Issue date given' },
    fix: fix(
      'add-issued',
      'Das Veröffentlichungsdatum (issued) angeben',
      'Give the issue date (issued)',
      'dateIssuedAvailability',
    ),
  },
  {
    id: 'dateModifiedAvailability',
    dimension: 'contextuality',
    level: 'distribution',
    points: 5,
    property: 'dct:modified',
    label: { de: 'Änderungsdatum vorhanden', en: 'Modification date given' },
    fix: fix(
      'add-modified',
      'Das Änderungsdatum (modified) angeben',
      'Give the modification date (modified)',
      'dateModifiedAvailability',
    ),
  },
]

export const INDICATOR_BY_ID: ReadonlyMap<IndicatorId, Indicator> = new Map(INDICATORS.map((i) => [i.id, i]))

export const MAX_SCORE = INDICATORS.reduce((sum, i) => sum + i.points, 0)

export const DIMENSIONS: readonly Dimension[] = [
  'findability',
  'accessibility',
  'interoperability',
  'reusability',
  'contextuality',
]

export type Band = 'excellent' | 'good' | 'sufficient' | 'bad'
export const BANDS: readonly Band[] = ['excellent', 'good', 'sufficient', 'bad']

/**
 * The MQA rating of a score: excellent 351–405, good 221–350, sufficient 121–220, bad 0–120. A proportional
 * score has decimals: it takes the band whose lower bound it reaches (220.5 is sufficient, 221 good).
 */
export function bandOf(score: number): Band {
  if (score >= 351) return 'excellent'
  if (score >= 221) return 'good'
  if (score >= 121) return 'sufficient'
  return 'bad'
}

export const BAND_LABEL: Record<Band, Record<Lang, string>> = {
  excellent: { de: 'ausgezeichnet', en: 'excellent' },
  good: { de: 'gut', en: 'good' },
  sufficient: { de: 'ausreichend', en: 'sufficient' },
  bad: { de: 'mangelhaft', en: 'bad' },
}

/** "+30 Punkte" / "+30 points" (proportional worths keep up to two decimals). */
export function worthText(points: number, lang: Lang): string {
  const n = Math.round(points * 100) / 100
  const text = lang === 'de' ? String(n).replace('.', ',') : String(n)
  return lang === 'de' ? `+${text} ${n === 1 ? 'Punkt' : 'Punkte'}` : `+${text} ${n === 1 ? 'point' : 'points'}`
}
