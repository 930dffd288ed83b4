import { readFileSync } from 'node:fs'

/** Reference data shipped in catalog/: loaded once, read-only, shared by every request. */
export { CATALOG_DIR } from '../paths.js'
import { CATALOG_DIR } from '../paths.js'

export interface Kommune {
  id: string
  name: string
  title: string
  description: string
  image_url: string
  homepage: string
  email: string
  regional_key: string
  municipality_key: string | null
  district_key: string
  political_geocoding_uri: string
  political_geocoding_level_uri: string
  contributor_id: string | null
  state_key_uri: string
}

export interface License {
  id: string
  title: string
  url: string
  status: string
  od_conformance: string
  osd_conformance: string
  family: string
  maintainer: string
  domain_content: boolean
  domain_data: boolean
  domain_software: boolean
  is_generic: boolean
  is_open: boolean
  requires_attribution: boolean
  aliases: string[]
  eu_uri: string | null
  replaced_by?: string
}

export interface Theme {
  id: string
  code: string
  name: string
  uri: string
  title_de: string
  title_en: string
  description_de: string
}

export interface FileType {
  code: string
  uri: string
  label: string
  media_type: string | null
  machine_readable: boolean
  non_proprietary: boolean
  aliases: string[]
}

export interface CodedTerm {
  code: string
  uri: string
  title_de: string
  title_en: string
  iso639_1?: string
}

export interface Contributor {
  id: string
  uri: string
  label: string
}

export const IANA_MEDIA_TYPE_BASE = 'https://www.iana.org/assignments/media-types/'

function readJson<T>(relative: string): T {
  return JSON.parse(readFileSync(`${CATALOG_DIR}/${relative}`, 'utf8')) as T
}

/** Looks a value up by code, URI or alias, case-insensitively. */
class TermIndex<T extends { uri: string }> {
  private readonly byKey = new Map<string, T>()
  private readonly byUri = new Map<string, T>()
  constructor(readonly all: T[], keys: (term: T) => Array<string | null | undefined>) {
    for (const term of all) {
      this.byUri.set(term.uri, term)
      for (const key of keys(term)) if (key) this.byKey.set(key.toLowerCase(), term)
    }
  }
  byUriExact(uri: string): T | undefined {
    return this.byUri.get(uri)
  }
  find(value: string): T | undefined {
    const trimmed = value.trim()
    return this.byUri.get(trimmed) ?? this.byKey.get(trimmed.toLowerCase())
  }
}

export class Vocabularies {
  readonly kommunen: Kommune[]
  readonly licenses: TermIndex<License & { uri: string }>
  readonly themes: TermIndex<Theme>
  readonly fileTypes: TermIndex<FileType>
  readonly frequencies: TermIndex<CodedTerm>
  readonly languages: TermIndex<CodedTerm>
  readonly geocodingLevels: TermIndex<CodedTerm>
  readonly contributors: TermIndex<Contributor>
  private readonly mediaTypes: Set<string>

  constructor() {
    this.kommunen = readJson<Kommune[]>('kommunen.json')
    const licenses = readJson<License[]>('vocabularies/licenses.json').map((l) => ({ ...l, uri: l.id }))
    this.licenses = new TermIndex(licenses, (l) => [l.id, ...l.aliases, l.eu_uri])
    this.themes = new TermIndex(readJson<Theme[]>('vocabularies/themes.json'), (t) => [t.code, t.name, t.id])
    this.fileTypes = new TermIndex(readJson<FileType[]>('vocabularies/file-types.json'), (f) => [f.code, ...f.aliases])
    this.frequencies = new TermIndex(readJson<CodedTerm[]>('vocabularies/frequencies.json'), (f) => [f.code])
    this.languages = new TermIndex(readJson<CodedTerm[]>('vocabularies/languages.json'), (l) => [l.code, l.iso639_1])
    this.geocodingLevels = new TermIndex(readJson<CodedTerm[]>('vocabularies/geocoding-levels.json'), (l) => [l.code])
    this.contributors = new TermIndex(readJson<Contributor[]>('vocabularies/contributors.json'), (c) => [c.id])
    this.mediaTypes = new Set(readJson<string[]>('vocabularies/media-types.json').map((m) => m.toLowerCase()))
  }

  /** `CSV`, `csv`, `text/csv` or the EU URI -> the EU file-type URI; unknown values stay as given. */
  formatToUri(value: string): string {
    if (!value) return ''
    return this.fileTypes.find(value)?.uri ?? value.trim()
  }

  /** The CKAN display value (`CSV`) of a stored format. */
  formatLabel(stored: string): string {
    return this.fileTypes.byUriExact(stored)?.code ?? stored
  }

  /** `text/csv` or its IANA URI -> the IANA URI; unknown values stay as given. */
  mediaTypeToUri(value: string): string {
    const trimmed = value.trim()
    if (!trimmed) return ''
    const bare = trimmed.startsWith(IANA_MEDIA_TYPE_BASE) ? trimmed.slice(IANA_MEDIA_TYPE_BASE.length) : trimmed
    return this.mediaTypes.has(bare.toLowerCase()) ? IANA_MEDIA_TYPE_BASE + bare.toLowerCase() : trimmed
  }

  mediaTypeLabel(stored: string): string {
    return stored.startsWith(IANA_MEDIA_TYPE_BASE) ? stored.slice(IANA_MEDIA_TYPE_BASE.length) : stored
  }

  licenseToId(value: string): string {
    const license = this.licenses.find(value)
    if (!license) return value.trim()
    if (license.replaced_by) return license.replaced_by
    return license.id
  }

  languageToUri(value: string): string {
    return this.languages.find(value)?.uri ?? value.trim()
  }

  frequencyToUri(value: string): string {
    return this.frequencies.find(value)?.uri ?? value.trim()
  }
}

let shared: Vocabularies | undefined
/** The process-wide vocabularies, read from catalog/ on first use. */
export function vocabularies(): Vocabularies {
  shared ??= new Vocabularies()
  return shared
}
