import type { PackageInput, ResourceInput } from './package.js'
import { inNamespace } from './uris.js'
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

/** Lists whose items are dicts: CKAN reports their errors item by item, `{"extras": [{}, {"value": ["Missing value"]}]}`. */
const ITEM_LISTS = new Set(['tags', 'extras', 'resources'])

/** Whether errors[list] holds item errors (or nothing yet), not a message about the list as a whole. */
function holdsItemErrors(errors: FieldErrors, list: string): boolean {
  const value = errors[list]
  return value === undefined || (Array.isArray(value) && value.every((item) => item !== null && typeof item === 'object'))
}

/** A message about one field of one item of a list: errors[list][index][field]. */
function addItem(errors: FieldErrors, list: string, index: number, field: string, message: string): void {
  if (!holdsItemErrors(errors, list)) return add(errors, list, `[${index}].${field}: ${message}`)
  const items = (errors[list] ??= []) as Array<FieldErrors | undefined>
  add((items[index] ??= {}), field, message)
}

/** Items without errors are `{}`, as in CKAN's answer: the list keeps its positions. */
function fillItemLists(errors: FieldErrors): void {
  for (const list of ITEM_LISTS) {
    const items = errors[list]
    if (Array.isArray(items) && holdsItemErrors(errors, list)) for (let i = 0; i < items.length; i++) items[i] ??= {}
  }
}

/**
 * What no stored text may hold, with why: NUL (cut short by C libraries and refused by RDF and XML), a
 * surrogate that is not half of a pair (no character at all; MariaDB and every RDF format refuse it), and
 * U+FFFD, which the body parsers leave where the request's bytes were not UTF-8.
 */
const TEXT_RULES: Array<[RegExp, string]> = [
  [/\u0000/, 'Must not contain NUL characters'],
  [/\p{Cs}/u, 'Must be valid Unicode: a lone surrogate is not a character'],
  [/\uFFFD/, 'Must be valid UTF-8: U+FFFD marks bytes that were not UTF-8'],
]
const BAD_TEXT = /[\u0000\uFFFD]|\p{Cs}/gu

function textMessage(value: string): string | undefined {
  for (const [rule, message] of TEXT_RULES) if (rule.test(value)) return message
  return undefined
}

export interface TextProblem {
  /** Keys and list indexes from the top of the dict to the value (or to the key) that is not text. */
  path: Array<string | number>
  message: string
}

/** A key that is not text, named in an answer with its bad characters escaped (`\u0000`). */
function printableKey(key: string): string {
  return key.replace(BAD_TEXT, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * Every string of a dict (keys and values, at any depth) that is not storable text, in one walk without
 * recursion; with a copy of the dict without those characters, from which the rest of a write is still
 * checked (so that one answer reports everything). The dict itself is left as it is.
 */
export function checkText(root: unknown): { problems: TextProblem[]; cleaned: unknown } {
  const problems: TextProblem[] = []
  const stack: Array<{ value: unknown; path: Array<string | number> }> = [{ value: root, path: [] }]
  while (stack.length) {
    const { value, path } = stack.pop()!
    if (typeof value === 'string') {
      const message = textMessage(value)
      if (message) problems.push({ path, message })
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] })
    } else if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value).reverse()) {
        const message = textMessage(key)
        if (message) problems.push({ path: [...path, printableKey(key)], message: `Field name: ${message}` })
        stack.push({ value: (value as Record<string, unknown>)[key], path: [...path, key] })
      }
    }
  }
  if (!problems.length) return { problems, cleaned: root }
  return { problems, cleaned: withoutBadText(root) }
}

/** A copy of a JSON value with the characters checkText refuses removed (and keys holding them dropped). */
function withoutBadText(root: unknown): unknown {
  const copy = structuredClone(root)
  const stack: unknown[] = [copy]
  while (stack.length) {
    const node = stack.pop()
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        if (typeof item === 'string') node[i] = item.replace(BAD_TEXT, '')
        else stack.push(item)
      })
    } else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>
      for (const key of Object.keys(record)) {
        const item = record[key]
        if (textMessage(key)) delete record[key]
        else if (typeof item === 'string') record[key] = item.replace(BAD_TEXT, '')
        else stack.push(item)
      }
    }
  }
  return copy
}

/** A text problem in CKAN's field map: an item field of tags, extras or resources, else the top-level field. */
export function addTextProblem(errors: FieldErrors, problem: TextProblem): void {
  const [top, index, field, ...rest] = problem.path
  const within = (parts: Array<string | number>) => parts.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '')
  if (typeof top === 'string' && ITEM_LISTS.has(top) && typeof index === 'number' && typeof field === 'string') {
    addItem(errors, top, index, field, rest.length ? `${within(rest)}: ${problem.message}` : problem.message)
  } else if (typeof top === 'string') {
    const nested = problem.path.slice(1)
    add(errors, top, nested.length ? `${within(nested)}: ${problem.message}` : problem.message)
  } else add(errors, '__body', problem.message)
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
  /** The vocabularies a resource's format, mimetype, licence and languages must come from (unchecked without). */
  vocab?: Vocabularies
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
  if (baseUrl && inNamespace(value, catalogDatasetPrefix(baseUrl)) && value !== ownDefault) {
    add(errors, field, `URIs under ${catalogDatasetPrefix(baseUrl)} are given by the catalog`)
    return undefined
  }
  return value
}

/**
 * CKAN's package schema in one pass: every problem of the dict is reported by field, as CKAN's
 * ValidationError does; a dict without errors becomes the input of a dataset write.
 */
export function packageFromDict(given: Record<string, unknown>, ctx: DictContext): { input: PackageInput; errors: FieldErrors } {
  const errors: FieldErrors = {}
  // Text that cannot be stored is reported once, here; the rest is checked on the dict without it.
  const { problems, cleaned } = checkText(given)
  const dict = cleaned as Record<string, unknown>
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
    const read = booleanValue(privateValue)
    if (read === undefined) add(errors, 'private', 'Value must be one of: true, false')
    else isPrivate = read
  }
  const state = optionalString(errors, dict, 'state', 20)
  if (state && !['active', 'draft'].includes(state)) add(errors, 'state', 'Value must be one of: active, draft')

  const tags: Array<{ name: string }> = []
  if (dict.tags !== undefined && dict.tags !== null) {
    if (!Array.isArray(dict.tags)) add(errors, 'tags', 'Not a list')
    else if (dict.tags.length > LIMITS.tags) add(errors, 'tags', `At most ${LIMITS.tags} tags`)
    else {
      dict.tags.forEach((tag, index) => {
        const tagName = tag && typeof tag === 'object' && !Array.isArray(tag) ? (tag as Record<string, unknown>).name : undefined
        if (!tag || typeof tag !== 'object' || Array.isArray(tag)) addItem(errors, 'tags', index, 'name', 'Each tag must be a dict like {"name": "verkehr"}')
        else if (typeof tagName !== 'string' || !tagName.trim()) addItem(errors, 'tags', index, 'name', 'Missing value')
        else if (tagName.length > LIMITS.tagLength) addItem(errors, 'tags', index, 'name', `Tag "${tagName.slice(0, 30)}…" length is more than maximum ${LIMITS.tagLength}`)
        else if (!TAG_RE.test(tagName)) addItem(errors, 'tags', index, 'name', `Tag "${tagName.slice(0, 50)}" must be alphanumeric characters or symbols: -_.`)
        else tags.push({ name: tagName.trim() })
      })
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
    else if (dict.extras.length > LIMITS.extras) add(errors, 'extras', `At most ${LIMITS.extras} extras`)
    else {
      const seen = new Set<string>()
      dict.extras.forEach((extra, index) => {
        const e = extra as Record<string, unknown> | null
        if (!e || typeof e !== 'object' || Array.isArray(e)) return addItem(errors, 'extras', index, 'key', 'Each extra must be a dict like {"key": "frequency", "value": "ANNUAL"}')
        // CKAN's extras schema: key not_empty, value not_missing.
        let keyOk = true
        if (e.key === undefined || e.key === null || e.key === '') addItem(errors, 'extras', index, 'key', 'Missing value')
        else if (typeof e.key !== 'string') addItem(errors, 'extras', index, 'key', 'Must be a string')
        else if (e.key.length > 100) addItem(errors, 'extras', index, 'key', 'Must be at most 100 characters long')
        else if (seen.has(e.key)) addItem(errors, 'extras', index, 'key', `Duplicate key "${e.key}"`)
        if (typeof e.key !== 'string' || !e.key || e.key.length > 100) keyOk = false
        else seen.add(e.key)
        let value: string | undefined
        if (e.value === undefined || e.value === null) addItem(errors, 'extras', index, 'value', 'Missing value')
        else if (typeof e.value !== 'string' && typeof e.value !== 'number' && typeof e.value !== 'boolean') addItem(errors, 'extras', index, 'value', 'Must be a string')
        else if (String(e.value).length > LIMITS.text) addItem(errors, 'extras', index, 'value', `Must be at most ${LIMITS.text} characters long`)
        else value = String(e.value)
        if (!keyOk || value === undefined) return
        const key = e.key as string
        if (key === 'uri' && value && !checkUri(errors, 'uri', value, id && ctx.baseUrl ? `${catalogDatasetPrefix(ctx.baseUrl)}${id}` : undefined, ctx.baseUrl)) return
        const unknown = value ? unknownTerm(ctx.vocab, key, value, 'extra') : undefined
        if (unknown) return addItem(errors, 'extras', index, 'value', unknown)
        extras.push({ key, value })
      })
    }
  }

  const resources: ResourceInput[] = []
  if (dict.resources !== undefined && dict.resources !== null) {
    if (!Array.isArray(dict.resources)) add(errors, 'resources', 'Not a list')
    else {
      if (dict.resources.length > LIMITS.resources) add(errors, 'resources', `At most ${LIMITS.resources} resources`)
      else {
        const resourceContext: ResourceContext = { existingResourceIds: ctx.existingResourceIds, baseUrl: ctx.baseUrl, packageId: id, vocab: ctx.vocab }
        const seenIds = new Set<string>()
        dict.resources.forEach((raw, index) => {
          const { resource, errors: resourceErrors } = resourceFromDict(raw, resourceContext)
          if (resource.id !== undefined) {
            if (seenIds.has(resource.id)) add(resourceErrors, 'id', 'Duplicate resource id')
            seenIds.add(resource.id)
          }
          for (const [field, messages] of Object.entries(resourceErrors)) for (const message of messages as string[]) addItem(errors, 'resources', index, field, message)
          // With errors, what could be read of the resource still goes to the DCAT-AP.de rules (nothing is stored).
          if (raw && typeof raw === 'object' && !Array.isArray(raw)) resources.push(resource)
        })
      }
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
  for (const problem of problems) {
    // The `uri` extra is the dataset's URI: its errors are named `uri`, as checkUri names them.
    const [list, index, field] = problem.path
    const extra = list === 'extras' && typeof index === 'number' && field === 'value' ? (given.extras as Array<Record<string, unknown>>)[index] : undefined
    if (extra?.key === 'uri') add(errors, 'uri', problem.message)
    else addTextProblem(errors, problem)
  }
  fillItemLists(errors)
  return { input, errors }
}

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1', 't', 'y'])
const FALSE_WORDS = new Set(['false', 'no', 'off', '0', 'f', 'n'])

/** CKAN's boolean_validator: a boolean, or one of its words in any case; undefined for anything else. */
function booleanValue(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (typeof value !== 'string') return undefined
  const word = value.trim().toLowerCase()
  return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : undefined
}

const EU_LANGUAGE_URI = /^http:\/\/publications\.europa\.eu\/resource\/authority\/language\/[A-Z]{3}$/

/** The items of a list-valued field as the export reads them (mapping.ts listValue): a list, a JSON list or one value. */
function listItems(value: unknown): unknown[] {
  if (Array.isArray(value)) return value
  if (typeof value === 'string' && value.trim().startsWith('[')) {
    try {
      const parsed = JSON.parse(value) as unknown
      if (Array.isArray(parsed)) return parsed
    } catch {
      // not JSON: one value
    }
  }
  return [value]
}

/** Dataset extras holding language lists are also given comma-separated (package.ts normaliseExtraValue). */
function extraLanguageItems(value: string): unknown[] {
  const items = listItems(value)
  return items.length === 1 && typeof items[0] === 'string' && !value.trim().startsWith('[') ? items[0].split(',').map((s) => s.trim()).filter(Boolean) : items
}

/**
 * Why a value of a vocabulary field is refused, or undefined: the RDF export writes only terms of the
 * vocabularies (EU languages and frequencies, dcat-ap.de licences), so an unknown one is refused here
 * instead of being stored and left out of the RDF.
 */
function unknownTerm(vocab: Vocabularies, field: string, value: unknown, where: 'extra' | 'resource'): string | undefined {
  if (field === 'language') {
    const items = where === 'extra' && typeof value === 'string' ? extraLanguageItems(value) : listItems(value)
    const unknown = items.filter((item) => typeof item !== 'string' || (!vocab.languages.find(item) && !EU_LANGUAGE_URI.test(item.trim())))
    if (unknown.length) return `Unknown language ${unknown.map((u) => JSON.stringify(u)?.slice(0, 60)).join(', ')}: use ISO 639-1 codes (de), EU language codes (DEU) or EU language URIs (http://publications.europa.eu/resource/authority/language/DEU)`
  }
  if (field === 'frequency' && (typeof value !== 'string' || !vocab.frequencies.find(value))) {
    return `Unknown frequency ${JSON.stringify(value)?.slice(0, 60)}: use an EU frequency code (ANNUAL, MONTHLY, DAILY, IRREG, ...) or its URI`
  }
  if (field === 'license' && (typeof value !== 'string' || !vocab.licenses.find(value))) {
    return 'License not found: use an id from license_list (a dcat-ap.de licence URI)'
  }
  return undefined
}

/** A resource format the export can write as dct:format: a term of the EU file-type vocabulary (code, alias such as text/csv, or URI). */
function unknownFormat(vocab: Vocabularies, value: string): string | undefined {
  if (vocab.fileTypes.find(value)) return undefined
  return `Unknown format "${value.slice(0, 60)}": use an EU file-type code (CSV, JSON, XLSX, PDF, ...) or its URI (http://publications.europa.eu/resource/authority/file-type/CSV), or an IANA media type that names one (text/csv); other media types belong in mimetype`
}

/** A mimetype the export can write as dcat:mediaType: an IANA media type (type/subtype) or its IANA URI. */
const MEDIA_TYPE = /^[a-z]+\/[a-z0-9!#$&^_.+-]+$/i
const IANA_URI = /^https?:\/\/www\.iana\.org\/assignments\/media-types\/[a-z]+\/[a-z0-9!#$&^_.+-]+$/i

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
    if (value === undefined) continue
    const unknown = !ctx.vocab || !value.trim() ? undefined
      : field === 'format' ? unknownFormat(ctx.vocab, value)
      : field === 'mimetype' && !MEDIA_TYPE.test(value.trim()) && !IANA_URI.test(value.trim()) ? 'Not an IANA media type: use type/subtype (text/csv) or its IANA URI'
      : undefined
    if (unknown) add(errors, field, unknown)
    else resource[field] = value
  }
  for (const field of ['license', 'language'] as const) {
    const value = dict[field]
    if (!ctx.vocab || value === undefined || value === null || value === '') continue
    const unknown = unknownTerm(ctx.vocab, field, value, 'resource')
    if (unknown) add(errors, field, unknown)
  }
  if (dict.size !== undefined && dict.size !== null && dict.size !== '') {
    // CKAN's int_validator: an integer, or its decimal digits as text.
    const size = typeof dict.size === 'string' && /^\s*[+-]?\d+\s*$/.test(dict.size) ? Number(dict.size) : dict.size
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) add(errors, 'size', 'Invalid integer')
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
    if (Object.hasOwn(errors, key)) continue
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
