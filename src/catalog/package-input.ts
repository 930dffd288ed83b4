import type { PackageInput, ResourceInput } from './package.js'
import type { ReferenceCache } from './reference.js'
import type { Vocabularies } from './vocabularies.js'

/** Bounds of one dataset write (besides the request body limit). */
export const LIMITS = { resources: 100, tags: 100, extras: 100, tagLength: 100, title: 500, text: 100_000, url: 2000, short: 255 }

const NAME_RE = /^[a-z0-9_-]+$/
const EMAIL_RE = /^[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]+$/
const TAG_RE = /^[\p{L}\p{N} _.\-]+$/u

export type FieldErrors = Record<string, unknown>

function add(errors: FieldErrors, field: string, message: string): void {
  const list = (errors[field] ??= []) as string[]
  if (!list.includes(message)) list.push(message)
}

/** Canonical UUIDs (lowercase, as randomUUID writes them): the only ids a caller may give. */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function isUuid(value: string): boolean {
  return UUID_RE.test(value)
}

/**
 * What RFC 3987 keeps out of every IRI (and Turtle's IRIREF out of `<...>`): C0 and C1 controls, space,
 * `<>"{}|^\`` and the backslash; with the `u` flag, \p{Cs} is a surrogate that is not half of a pair.
 */
const NOT_IN_IRI = /[\u0000-\u0020\u007f-\u009f<>"{}|^`\\]|\p{Cs}/u
export const NOT_AN_IRI = 'Must be an absolute http(s) IRI without spaces, control characters or any of <>"{}|^`\\'

/**
 * An absolute http(s) IRI that every RDF format can carry as it is: the IRIs of a dataset and its
 * distributions (the `uri` extra, a resource's uri, access_url and download_url) are written into RDF.
 */
export function isAbsoluteHttpIri(value: string): boolean {
  if (value.length > LIMITS.url || NOT_IN_IRI.test(value) || !/^https?:\/\//i.test(value)) return false
  try {
    return new URL(value).hostname.length > 0
  } catch {
    return false
  }
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

function optionalString(errors: FieldErrors, dict: Record<string, unknown>, field: string, max: number): string | undefined {
  const value = dict[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') {
    add(errors, field, 'Must be a string')
    return undefined
  }
  if (value.length > max) add(errors, field, `Must be at most ${max} characters long`)
  return value
}

/** Resource URLs may be http(s) or ftp; a bare host ("www.x.de/a.csv") is read as http:// like CKAN. */
function isResourceUrl(value: string): boolean {
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(value) ? value : `http://${value}`
  try {
    const url = new URL(withScheme)
    return ['http:', 'https:', 'ftp:'].includes(url.protocol) && url.hostname.length > 0 && !/[\s<>"]/.test(value)
  } catch {
    return false
  }
}

export interface DictContext {
  reference: ReferenceCache
  vocab: Vocabularies
  /**
   * Set for package_create. Only sysadmins may choose the id of a new dataset: CKAN's package schema has
   * `empty_if_not_sysadmin` on `id`, so an id from anyone else is refused ("The input field id was not
   * expected."), not ignored. Unset, `id` is that of the dataset being written, set by the action.
   */
  newDataset?: { mayChooseId: boolean }
  /** The ids of the dataset's stored resources: kept as they are, whatever their form (older data). */
  existingResourceIds?: ReadonlySet<string>
  /** The catalog's public base URL: URIs under `{base}/dataset/` are the catalog's to give, not a caller's. */
  baseUrl?: string
}

/** Options of resourceFromDict: which ids are already this dataset's, and whose URIs the catalog gives. */
export interface ResourceContext {
  existingResourceIds?: ReadonlySet<string>
  baseUrl?: string
  /** The id of the dataset the resource belongs to, when it is known (not before a create). */
  packageId?: string
}

/** The catalog's own namespace of dataset and distribution URIs (mapping.ts: `{base}/dataset/{id}[/resource/{id}]`). */
function catalogDatasetPrefix(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/dataset/`
}

/**
 * A dataset or distribution URI given by a caller: an absolute http(s) IRI, and none of the catalog's own
 * URIs but the one this very dataset or distribution would get anyway (another one is another dataset's).
 */
function checkUri(errors: FieldErrors, field: string, value: unknown, ownDefault: string | undefined, baseUrl: string | undefined): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string') {
    add(errors, field, 'Must be a string')
    return undefined
  }
  if (!isAbsoluteHttpIri(value)) {
    add(errors, field, NOT_AN_IRI)
    return undefined
  }
  if (baseUrl && value.startsWith(catalogDatasetPrefix(baseUrl)) && value !== ownDefault) {
    add(errors, field, `URIs under ${catalogDatasetPrefix(baseUrl)} are given by the catalog`)
    return undefined
  }
  return value
}

/**
 * CKAN's package schema in one pass: every problem of the dict is reported by field, as CKAN's
 * ValidationError does; a dict without errors becomes the input of a dataset write.
 */
export function packageFromDict(dict: Record<string, unknown>, ctx: DictContext): { input: PackageInput; errors: FieldErrors } {
  const errors: FieldErrors = {}
  const id = datasetId(errors, dict.id, ctx)
  const name = dict.name
  if (name === undefined || name === null || name === '') add(errors, 'name', 'Missing value')
  else if (typeof name !== 'string') add(errors, 'name', 'Must be a string')
  else {
    if (name.length < 2) add(errors, 'name', 'Must be at least 2 characters long')
    if (name.length > 100) add(errors, 'name', 'Name must be a maximum of 100 characters long')
    if (!NAME_RE.test(name)) add(errors, 'name', 'Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_')
  }
  const title = optionalString(errors, dict, 'title', LIMITS.title)
  const notes = optionalString(errors, dict, 'notes', LIMITS.text)
  const url = optionalString(errors, dict, 'url', LIMITS.url)
  if (url && !isHttpUrl(url)) add(errors, 'url', 'Please provide a valid URL')
  const version = optionalString(errors, dict, 'version', 100)
  const author = optionalString(errors, dict, 'author', LIMITS.short)
  const maintainer = optionalString(errors, dict, 'maintainer', LIMITS.short)
  const authorEmail = optionalString(errors, dict, 'author_email', LIMITS.short)
  const maintainerEmail = optionalString(errors, dict, 'maintainer_email', LIMITS.short)
  for (const [field, value] of [['author_email', authorEmail], ['maintainer_email', maintainerEmail]] as const) {
    if (value && !EMAIL_RE.test(value)) add(errors, field, `Email ${value.slice(0, 100)} is not a valid format`)
  }

  let licenseId: string | null = null
  const license = optionalString(errors, dict, 'license_id', LIMITS.short)
  if (license) {
    const known = ctx.vocab.licenses.find(license)
    if (!known) add(errors, 'license_id', 'License not found: use an id from license_list (a dcat-ap.de licence URI)')
    else licenseId = ctx.vocab.licenseToId(license)
  }

  let ownerOrg: string | null = null
  const org = dict.owner_org
  if (org === undefined || org === null || org === '') add(errors, 'owner_org', 'An organization must be provided')
  else if (typeof org !== 'string') add(errors, 'owner_org', 'Must be a string')
  else {
    const found = ctx.reference.organization(org)
    if (!found || found.state !== 'active') add(errors, 'owner_org', 'Organization does not exist')
    else ownerOrg = found.id
  }

  const privateValue = dict.private
  let isPrivate = false
  if (privateValue !== undefined && privateValue !== null) {
    if (typeof privateValue === 'boolean') isPrivate = privateValue
    else if (typeof privateValue === 'string' && /^(true|false)$/i.test(privateValue)) isPrivate = privateValue.toLowerCase() === 'true'
    else add(errors, 'private', 'Value must be one of: true, false')
  }
  const state = optionalString(errors, dict, 'state', 20)
  if (state && !['active', 'draft'].includes(state)) add(errors, 'state', 'Value must be one of: active, draft')

  const tags: Array<{ name: string }> = []
  if (dict.tags !== undefined && dict.tags !== null) {
    if (!Array.isArray(dict.tags)) add(errors, 'tags', 'Not a list')
    else {
      if (dict.tags.length > LIMITS.tags) add(errors, 'tags', `At most ${LIMITS.tags} tags`)
      for (const tag of dict.tags.slice(0, LIMITS.tags + 1)) {
        const tagName = tag && typeof tag === 'object' && !Array.isArray(tag) ? (tag as Record<string, unknown>).name : undefined
        if (!tag || typeof tag !== 'object' || Array.isArray(tag)) add(errors, 'tags', 'Each tag must be a dict like {"name": "verkehr"}')
        else if (typeof tagName !== 'string' || !tagName.trim()) add(errors, 'tags', 'Tag must have a name')
        else if (tagName.length > LIMITS.tagLength) add(errors, 'tags', `Tag "${tagName.slice(0, 30)}…" length is more than maximum ${LIMITS.tagLength}`)
        else if (!TAG_RE.test(tagName)) add(errors, 'tags', `Tag "${tagName.slice(0, 50)}" must be alphanumeric characters or symbols: -_.`)
        else tags.push({ name: tagName.trim() })
      }
    }
  }

  const themeIds: string[] = []
  if (dict.groups !== undefined && dict.groups !== null) {
    if (!Array.isArray(dict.groups)) add(errors, 'groups', 'Not a list')
    else {
      for (const group of dict.groups) {
        const ref = group && typeof group === 'object' ? ((group as Record<string, unknown>).id ?? (group as Record<string, unknown>).name) : group
        const theme = typeof ref === 'string' ? ctx.reference.theme(ref) : undefined
        if (!theme) add(errors, 'groups', 'That group name or ID does not exist.')
        else themeIds.push(theme.id)
      }
    }
  }

  const extras: Array<{ key: string; value: string }> = []
  if (dict.extras !== undefined && dict.extras !== null) {
    if (!Array.isArray(dict.extras)) add(errors, 'extras', 'Not a list')
    else {
      if (dict.extras.length > LIMITS.extras) add(errors, 'extras', `At most ${LIMITS.extras} extras`)
      const seen = new Set<string>()
      for (const extra of dict.extras) {
        const e = extra as Record<string, unknown> | null
        if (!e || typeof e !== 'object' || typeof e.key !== 'string' || !e.key || e.key.length > 100) {
          add(errors, 'extras', 'Each extra needs a key (a string of at most 100 characters)')
          continue
        }
        if (seen.has(e.key)) add(errors, 'extras', `Duplicate key "${e.key}"`)
        seen.add(e.key)
        if (e.value !== undefined && e.value !== null && typeof e.value !== 'string' && typeof e.value !== 'number' && typeof e.value !== 'boolean') {
          add(errors, 'extras', `The value of "${e.key}" must be a string`)
          continue
        }
        const value = e.value === undefined || e.value === null ? '' : String(e.value)
        if (value.length > LIMITS.text) add(errors, 'extras', `The value of "${e.key}" is too long`)
        else if (e.key === 'uri' && value && !checkUri(errors, 'uri', value, id && ctx.baseUrl ? `${catalogDatasetPrefix(ctx.baseUrl)}${id}` : undefined, ctx.baseUrl)) continue
        extras.push({ key: e.key, value })
      }
    }
  }

  const resources: ResourceInput[] = []
  if (dict.resources !== undefined && dict.resources !== null) {
    if (!Array.isArray(dict.resources)) add(errors, 'resources', 'Not a list')
    else {
      if (dict.resources.length > LIMITS.resources) add(errors, 'resources', `At most ${LIMITS.resources} resources`)
      const resourceContext: ResourceContext = { existingResourceIds: ctx.existingResourceIds, baseUrl: ctx.baseUrl, packageId: id }
      const seenIds = new Set<string>()
      dict.resources.slice(0, LIMITS.resources).forEach((raw, index) => {
        const { resource, errors: resourceErrors } = resourceFromDict(raw, resourceContext)
        if (resource.id !== undefined) {
          if (seenIds.has(resource.id)) add(resourceErrors, 'id', 'Duplicate resource id')
          seenIds.add(resource.id)
        }
        if (Object.keys(resourceErrors).length) {
          const list = (errors.resources ??= []) as unknown[]
          list[index] = resourceErrors
        } else resources.push(resource)
      })
      const list = errors.resources as unknown[] | undefined
      if (list) for (let i = 0; i < list.length; i++) list[i] ??= {}
    }
  }

  const input: PackageInput = {
    id,
    name: typeof name === 'string' ? name : '',
    title: title ?? (typeof name === 'string' ? name : ''),
    notes,
    url,
    version,
    author,
    author_email: authorEmail,
    maintainer,
    maintainer_email: maintainerEmail,
    license_id: licenseId,
    owner_org: ownerOrg,
    private: isPrivate,
    state: state ?? 'active',
    type: 'dataset',
    tags,
    themeIds,
    extras,
    resources,
  }
  return { input, errors }
}

/** `id` of the dict: checked on create (who may choose it, and its form), taken as it is otherwise. */
function datasetId(errors: FieldErrors, value: unknown, ctx: DictContext): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  if (!ctx.newDataset) return typeof value === 'string' ? value : undefined
  if (!ctx.newDataset.mayChooseId) add(errors, 'id', 'The input field id was not expected.')
  else if (typeof value !== 'string' || !isUuid(value)) add(errors, 'id', 'Must be a UUID (8-4-4-4-12 lowercase hexadecimal digits)')
  else return value
  return undefined
}

/** IRIs of a distribution that RDF carries as they are (mapping.ts: the subject, dcat:accessURL, dcat:downloadURL). */
const RESOURCE_IRI_FIELDS = ['access_url', 'download_url'] as const

const RESOURCE_STRING_FIELDS = ['name', 'description', 'format', 'mimetype', 'hash', 'created', 'last_modified'] as const

export function resourceFromDict(raw: unknown, ctx: ResourceContext = {}): { resource: ResourceInput; errors: FieldErrors } {
  const errors: FieldErrors = {}
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { resource: {}, errors: { __resource: ['Not a dict'] } }
  const dict = raw as Record<string, unknown>
  const resource: ResourceInput = {}
  const url = dict.url
  if (url === undefined || url === null || url === '') add(errors, 'url', 'Missing value')
  else if (typeof url !== 'string') add(errors, 'url', 'Must be a string')
  else if (url.length > LIMITS.url) add(errors, 'url', `Must be at most ${LIMITS.url} characters long`)
  else if (!isResourceUrl(url)) add(errors, 'url', 'Please provide a valid URL')
  else resource.url = url
  for (const field of RESOURCE_STRING_FIELDS) {
    const value = optionalString(errors, dict, field, field === 'description' ? LIMITS.text : LIMITS.short)
    if (value !== undefined) resource[field] = value
  }
  if (dict.size !== undefined && dict.size !== null && dict.size !== '') {
    const size = Number(dict.size)
    if (!Number.isInteger(size) || size < 0) add(errors, 'size', 'Invalid integer')
    else resource.size = size
  }
  const id = dict.id
  if (id !== undefined && id !== null && id !== '') {
    // A new resource's id from a caller must be a UUID; the stored resources keep theirs.
    if (typeof id !== 'string') add(errors, 'id', 'Must be a string')
    else if (!isUuid(id) && !ctx.existingResourceIds?.has(id)) add(errors, 'id', 'Must be a UUID (8-4-4-4-12 lowercase hexadecimal digits)')
    else resource.id = id
  }
  const ownUri = ctx.baseUrl && ctx.packageId && resource.id ? `${catalogDatasetPrefix(ctx.baseUrl)}${ctx.packageId}/resource/${resource.id}` : undefined
  const uri = checkUri(errors, 'uri', dict.uri, ownUri, ctx.baseUrl)
  if (uri !== undefined) resource.uri = uri
  for (const field of RESOURCE_IRI_FIELDS) {
    const value = dict[field]
    if (value === undefined || value === null || value === '') continue
    if (typeof value !== 'string') add(errors, field, 'Must be a string')
    else if (!isAbsoluteHttpIri(value)) add(errors, field, NOT_AN_IRI)
    else resource[field] = value
  }
  for (const [key, value] of Object.entries(dict)) {
    if (key in resource || key === 'url' || key === 'size' || key === 'id' || key === 'uri' || (RESOURCE_IRI_FIELDS as readonly string[]).includes(key) || value === undefined) continue
    if (['package_id', 'position', 'state', 'metadata_modified', 'url_type', 'revision_id', 'cache_url', 'cache_last_updated', 'mimetype_inner', 'resource_type', 'datastore_active'].includes(key)) continue
    if (key.length > 100) {
      add(errors, key.slice(0, 100), 'Key too long')
      continue
    }
    const serialized = typeof value === 'string' ? value : JSON.stringify(value)
    if (serialized && serialized.length > LIMITS.text) add(errors, key, 'Value too long')
    else resource[key] = value
  }
  return { resource, errors }
}
