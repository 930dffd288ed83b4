import { createHash, randomUUID } from 'node:crypto'
import type { PackageDocumentTable, PackageTable, ResourceTable } from '../db/types.js'
import type { Vocabularies } from './vocabularies.js'
import { indexText } from '../search/text.js'

/** A dataset as a CKAN client sends it (package_create body), and as the seeder and harvester produce it. */
export interface PackageInput {
  id?: string
  name: string
  title?: string
  notes?: string
  url?: string
  version?: string
  author?: string
  author_email?: string
  maintainer?: string
  maintainer_email?: string
  license_id?: string | null
  /** Organization id (already resolved from a name by the service). */
  owner_org?: string | null
  private?: boolean
  state?: string
  type?: string
  creator_user_id?: string | null
  uri?: string | null
  tags?: Array<{ name: string }>
  /** Theme ids (already resolved). */
  themeIds?: string[]
  extras?: Array<{ key: string; value: string }>
  resources?: ResourceInput[]
}

export interface ResourceInput {
  id?: string
  url?: string
  name?: string
  description?: string
  format?: string
  mimetype?: string
  size?: number | null
  hash?: string
  state?: string
  created?: string
  last_modified?: string | null
  [extra: string]: unknown
}

/** Everything one dataset write stores: the rows of every table plus the rendered document. */
export interface PackageRecord {
  row: PackageTable
  extras: Array<{ key: string; value: string }>
  resources: ResourceTable[]
  tagNames: string[]
  themeIds: string[]
  /** The full-text document (folded), written beside the dataset. */
  text: { title: string; tags: string; body: string }
  /** The rendered package dict, stored beside the dataset row. */
  document: PackageDocumentTable
}

const RESOURCE_CORE = new Set([
  'id', 'package_id', 'url', 'name', 'description', 'format', 'mimetype', 'size', 'hash', 'state', 'created',
  'last_modified', 'metadata_modified', 'position', 'mimetype_inner', 'resource_type', 'url_type', 'cache_url',
  'cache_last_updated', 'datastore_active', 'revision_id',
])

/** Extras whose values are vocabulary terms: normalised to their URIs on write. */
const JSON_LIST_URI_EXTRAS: Record<string, (v: Vocabularies, value: string) => string> = {
  language: (v, value) => v.languageToUri(value),
}

function normaliseExtraValue(vocab: Vocabularies, key: string, value: string): string {
  if (key === 'frequency') return vocab.frequencyToUri(value)
  const mapper = JSON_LIST_URI_EXTRAS[key]
  if (!mapper) return value
  let list: unknown
  try {
    list = JSON.parse(value)
  } catch {
    list = value.split(',').map((s) => s.trim()).filter(Boolean)
  }
  if (!Array.isArray(list)) list = [String(list)]
  return JSON.stringify((list as unknown[]).map((item) => mapper(vocab, String(item))))
}

export interface RecordContext {
  vocab: Vocabularies
  now: string
  /** Previous revision when updating, 0 for a new dataset. */
  previousRevision: number
  metadataCreated?: string
  /** Indexed with the dataset so that a search for the Kommune's or theme's name finds it. */
  organizationTitle?: string
  themeTitles?: string[]
}

export function buildPackageRecord(input: PackageInput, ctx: RecordContext): PackageRecord {
  const { vocab, now } = ctx
  const id = input.id ?? randomUUID()
  const tagNames = [...new Set((input.tags ?? []).map((t) => t.name.trim()).filter(Boolean))]
  const extras = (input.extras ?? [])
    .filter((e) => e.key)
    .map((e) => ({ key: e.key, value: normaliseExtraValue(vocab, e.key, String(e.value ?? '')) }))
  const resources: ResourceTable[] = (input.resources ?? []).map((res, position) => {
    const extra: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(res)) {
      if (RESOURCE_CORE.has(key) || value === undefined) continue
      extra[key] = key === 'license' && typeof value === 'string' ? vocab.licenseToId(value) : value
    }
    return {
      id: res.id ?? randomUUID(),
      package_id: id,
      position,
      url: res.url ?? '',
      name: res.name ?? '',
      description: res.description ?? '',
      format: vocab.formatToUri(res.format ?? ''),
      mimetype: vocab.mediaTypeToUri(res.mimetype ?? ''),
      size: res.size === undefined || res.size === null ? null : Number(res.size),
      hash: res.hash ?? '',
      state: res.state ?? 'active',
      created: res.created ?? now,
      last_modified: res.last_modified ?? null,
      metadata_modified: now,
      extras: JSON.stringify(extra),
    }
  })
  const row: PackageTable = {
    id,
    name: input.name,
    title: input.title ?? '',
    notes: input.notes ?? '',
    url: input.url ?? '',
    version: input.version ?? '',
    author: input.author ?? '',
    author_email: input.author_email ?? '',
    maintainer: input.maintainer ?? '',
    maintainer_email: input.maintainer_email ?? '',
    license_id: input.license_id ? vocab.licenseToId(input.license_id) : null,
    owner_org: input.owner_org ?? null,
    private: input.private ? 1 : 0,
    state: input.state ?? 'active',
    type: input.type ?? 'dataset',
    creator_user_id: input.creator_user_id ?? null,
    metadata_created: ctx.metadataCreated ?? now,
    metadata_modified: now,
    revision: ctx.previousRevision + 1,
    num_resources: resources.filter((r) => r.state === 'active').length,
    num_tags: tagNames.length,
    uri: input.uri ?? null,
    visible: 0,
  }
  row.visible = row.state === 'active' && row.private === 0 && row.type === 'dataset' ? 1 : 0
  const text = {
    title: indexText(row.title, row.name),
    tags: indexText(...tagNames),
    body: indexText(
      row.notes,
      ctx.organizationTitle,
      ...(ctx.themeTitles ?? []),
      ...resources.filter((r) => r.state === 'active').flatMap((r) => [r.name, r.description]),
    ),
  }
  const themeIds = [...new Set(input.themeIds ?? [])]
  const record: PackageRecord = { row, extras, resources, tagNames, themeIds, text, document: { package_id: id, theme_ids: JSON.stringify(themeIds), document: '' } }
  record.document.document = JSON.stringify(renderPackageDocument(record, vocab))
  return record
}

/**
 * The CKAN package dict of a record, without `organization` and `groups` (joined at read time from the
 * in-memory reference cache, so renaming an organization needs no dataset rewrite).
 */
export function renderPackageDocument(record: PackageRecord, vocab: Vocabularies): Record<string, unknown> {
  const { row } = record
  const license = row.license_id ? vocab.licenses.byUriExact(row.license_id) : undefined
  const dict: Record<string, unknown> = {
    author: row.author || null,
    author_email: row.author_email || null,
    creator_user_id: row.creator_user_id,
    id: row.id,
    isopen: license?.is_open ?? false,
    license_id: row.license_id,
    license_title: license?.title ?? row.license_id,
    maintainer: row.maintainer || null,
    maintainer_email: row.maintainer_email || null,
    metadata_created: row.metadata_created,
    metadata_modified: row.metadata_modified,
    name: row.name,
    notes: row.notes || null,
    num_resources: row.num_resources,
    num_tags: row.num_tags,
    owner_org: row.owner_org,
    private: row.private === 1,
    state: row.state,
    title: row.title,
    type: row.type,
    url: row.url || null,
    version: row.version || null,
    extras: record.extras.map((e) => ({ key: e.key, value: e.value })),
    resources: record.resources
      .filter((r) => r.state === 'active')
      .map((r, position) => renderResource(r, position, vocab)),
    tags: record.tagNames.map((name) => ({
      display_name: name,
      id: tagId(name),
      name,
      state: 'active',
      vocabulary_id: null,
    })),
    relationships_as_object: [],
    relationships_as_subject: [],
  }
  if (license?.url) dict.license_url = license.url
  return dict
}

export function renderResource(r: ResourceTable, position: number, vocab: Vocabularies): Record<string, unknown> {
  const extras = JSON.parse(r.extras) as Record<string, unknown>
  return {
    cache_last_updated: null,
    cache_url: null,
    created: r.created,
    description: r.description,
    format: vocab.formatLabel(r.format),
    hash: r.hash,
    id: r.id,
    last_modified: r.last_modified,
    metadata_modified: r.metadata_modified,
    mimetype: r.mimetype ? vocab.mediaTypeLabel(r.mimetype) : null,
    mimetype_inner: null,
    name: r.name,
    package_id: r.package_id,
    position,
    resource_type: null,
    size: r.size === null ? null : Number(r.size),
    state: r.state,
    url: normaliseResourceUrl(r.url),
    url_type: null,
    ...extras,
  }
}

/** CKAN returns a URL without a scheme as http://... */
function normaliseResourceUrl(url: string): string {
  if (!url) return ''
  return /^[a-z][a-z0-9+.-]*:/i.test(url) ? url : `http://${url}`
}

/** Tag ids are derived from the name, so every store and every process agrees on them. */
export function tagId(name: string): string {
  const h = createHash('sha1').update(`tag:${name}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`
}
