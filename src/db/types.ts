import type { Generated } from 'kysely'

/**
 * Table types: the single source of truth for the schema that migrations/ creates.
 * Timestamps are CHAR(26) strings in CKAN's naive-UTC form `YYYY-MM-DDTHH:MM:SS.ffffff`:
 * they compare correctly as strings on both dialects, exactly as harvesters compare them.
 * Booleans are 0/1 integers so that SQLite and MySQL store them alike.
 */
export interface OrganizationTable {
  id: string
  name: string
  title: string
  description: string
  image_url: string
  state: string
  approval_status: string
  created: string
  homepage: string
  email: string
  regional_key: string | null
  political_geocoding_uri: string | null
  political_geocoding_level_uri: string | null
  contributor_id: string | null
  /** JSON object text: extra key/value pairs shown as CKAN `extras`. */
  extras: string
}

export interface ThemeTable {
  id: string
  name: string
  code: string
  uri: string
  title: string
  title_en: string
  description: string
  image_url: string
  state: string
  created: string
}

export interface LicenseTable {
  id: string
  title: string
  url: string
  status: string
  od_conformance: string
  osd_conformance: string
  family: string
  maintainer: string
  is_open: number
  domain_content: number
  domain_data: number
  domain_software: number
  is_generic: number
}

export interface PackageTable {
  id: string
  name: string
  title: string
  notes: string
  url: string
  version: string
  author: string
  author_email: string
  maintainer: string
  maintainer_email: string
  license_id: string | null
  owner_org: string | null
  private: number
  state: string
  type: string
  creator_user_id: string | null
  metadata_created: string
  metadata_modified: string
  revision: number
  num_resources: number
  num_tags: number
  /** The dataset URI when it came from elsewhere (harvest), else null: {base}/dataset/{id}. */
  uri: string | null
  /** 1 when anonymous callers see the dataset (active, public, type dataset): the searches' index key. */
  visible: number
}

/** The rendered dataset, apart from the narrow rows that searches scan. */
export interface PackageDocumentTable {
  package_id: string
  /** JSON list of the dataset's theme (group) ids, so that package_show is one query. */
  theme_ids: string
  /** The rendered CKAN package dict (without organization and groups), JSON text. */
  document: string
}

export interface PackageExtraTable {
  package_id: string
  key: string
  value: string
}

export interface ResourceTable {
  id: string
  package_id: string
  position: number
  url: string
  name: string
  description: string
  /** EU file-type URI when known, else the literal as given. */
  format: string
  /** IANA media-type URI when known, else the literal as given. */
  mimetype: string
  size: number | null
  hash: string
  state: string
  created: string
  last_modified: string | null
  metadata_modified: string
  /** JSON object text: the resource's further keys (access_url, license, ...). */
  extras: string
}

export interface TagTable {
  id: string
  name: string
}

export interface PackageTagTable {
  package_id: string
  tag_id: string
}

export interface PackageThemeTable {
  package_id: string
  theme_id: string
}

export interface PackageTextTable {
  text_id: Generated<number>
  package_id: string
  title: string
  tags: string
  body: string
}

/** The inverted index: one row per (term, dataset), weight = bits of the fields the term is in (title 4, tags 2, body 1). */
export interface SearchTermTable {
  term: string
  package_id: string
  weight: number
}

export interface UserTable {
  id: string
  name: string
  fullname: string
  email: string
  sysadmin: number
  state: string
  created: string
}

export interface ApiTokenTable {
  id: string
  user_id: string
  name: string
  /** sha256 of the token secret, hex: the secret itself is never stored. */
  secret_hash: string
  created: string
  expires_at: string | null
  last_access: string | null
  revoked: number
}

export interface MemberTable {
  user_id: string
  organization_id: string
  /** 'admin' | 'editor' | 'member' */
  capacity: string
}

export interface ActivityTable {
  id: string
  timestamp: string
  user_id: string | null
  object_id: string
  organization_id: string | null
  activity_type: string
  /** JSON: {package: <dict after the change>, diff: [...]} */
  data: string
}

/** One committed write, numbered by the database (catalog/change-feed.ts). */
export interface ChangeFeedTable {
  seq: Generated<number>
  /** 'datasets' | 'reference' | 'all' */
  kind: string
  /** JSON list of the changed datasets' ids and names. */
  keys: string
}

/** Feed rows below `below` were removed (retention): a tailer that had not read them reloads. */
export interface ChangeFeedPrunedTable {
  id: number
  below: number
}

/** An explicit dataset or resource URI, unique across the catalog (by its hash: URIs outgrow index keys). */
export interface PackageUriTable {
  uri_hash: string
  uri: string
  package_id: string
  resource_id: string | null
}

export interface Database {
  organization: OrganizationTable
  theme: ThemeTable
  license: LicenseTable
  package: PackageTable
  package_extra: PackageExtraTable
  resource: ResourceTable
  tag: TagTable
  package_tag: PackageTagTable
  package_theme: PackageThemeTable
  package_text: PackageTextTable
  search_term: SearchTermTable
  package_document: PackageDocumentTable
  app_user: UserTable
  api_token: ApiTokenTable
  member: MemberTable
  activity: ActivityTable
  change_feed: ChangeFeedTable
  change_feed_pruned: ChangeFeedPrunedTable
  package_uri: PackageUriTable
}

export type { Generated }
