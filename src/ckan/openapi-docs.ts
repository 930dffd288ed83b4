import { Type, type TSchema } from '@sinclair/typebox'
import type { FastifyDynamicSwaggerOptions, SwaggerTransform } from '@fastify/swagger'
import type { FastifySwaggerUiOptions } from '@fastify/swagger-ui'
import type { FastifySchema } from 'fastify'
import type { AppConfig } from '../config.js'
import type { ActionDefinition } from './action.js'
import { helpUrl } from './envelope.js'
import { ACTION_EXAMPLES } from './openapi-examples.js'
import { Envelope, ErrorEnvelope } from './schemas.js'

/**
 * How the API documents itself (OpenAPI at /docs/json, Swagger UI at /docs). Documentation only: what is
 * added here (examples, header parameters, error answers) never reaches a route's validation.
 */

/** The name of the security scheme of CKAN API tokens. */
export const API_TOKEN_SCHEME = 'ApiToken'

type SecurityRequirement = Record<string, string[]>
const TOKEN_REQUIRED: SecurityRequirement[] = [{ [API_TOKEN_SCHEME]: [] }]
/** The empty requirement first: anonymous calls are allowed, a token is sent when the user authorized. */
const TOKEN_OPTIONAL: SecurityRequirement[] = [{}, { [API_TOKEN_SCHEME]: [] }]

/**
 * Actions that read the dataset revision from `If-Match` (package_write.ts: writeDataset, package_delete);
 * for the resource actions it is the revision of the resource's dataset.
 */
export const IF_MATCH_ACTIONS: ReadonlySet<string> = new Set([
  'package_update',
  'package_patch',
  'package_delete',
  'resource_create',
  'resource_update',
  'resource_patch',
  'resource_delete',
  'package_resource_reorder',
])

/** Actions whose success answer carries the dataset revision as `ETag` (package_show, respondWithPackage). */
export const ETAG_ACTIONS: ReadonlySet<string> = new Set(['package_show', 'package_create', 'package_update', 'package_patch', 'resource_create', 'resource_update', 'resource_patch'])

/** Reads that refuse anonymous callers (every other read takes a token optionally). */
export const TOKEN_REQUIRED_READS: ReadonlySet<string> = new Set(['api_token_list'])

/** The method an action is documented under: one entry per action, as CKAN's side_effect_free decides. */
export function documentedMethod(action: ActionDefinition<any>): 'GET' | 'POST' {
  return action.sideEffectFree ? 'GET' : 'POST'
}

/** Options of @fastify/swagger: the document, the token scheme, and plain-text descriptions made Markdown-safe. */
export function openApiOptions(config: AppConfig, version: string): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'GoDonu Catalog API',
        description:
          'CKAN-compatible Action API v3 and DCAT-AP.de endpoints of the shared open-data catalog of Hessian Kommunen. ' +
          'Reads are open; writes need an API token (the Authorize button). Every action answers CKAN\'s envelope ' +
          '`{"help": ..., "success": true, "result": ...}`, errors `{"success": false, "error": {"__type": ..., "message": ...}}`.',
        version,
      },
      servers: [{ url: config.baseUrl }],
      components: {
        securitySchemes: {
          [API_TOKEN_SCHEME]: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description:
              'A CKAN API token (api_token_create), sent as it is or as `Bearer <token>` (`X-CKAN-API-Key: <token>` is accepted too). ' +
              'Writes need one; reads take one optionally and then answer with what its user may see (private and draft datasets of their Kommune).',
          },
        },
      },
    },
    transform: documentRoute,
    transformObject: ({ ...documentObject }) => {
      const document = 'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject
      markdownSafeDescriptions(document)
      return document
    },
  }
}

/**
 * Options of @fastify/swagger-ui. "Try it out" calls the server the page was loaded from (the path of
 * BASE_URL on the page's own origin), so that it works however the docs are reached (another host name, a
 * port of the machine, a proxy): a request to BASE_URL from another origin would be a CORS request, refused
 * for writes from origins not configured. BASE_URL stays listed as the second server.
 */
export function swaggerUiOptions(config: AppConfig): FastifySwaggerUiOptions {
  const ownServer = { url: new URL(config.baseUrl).pathname, description: 'The server these docs were loaded from' }
  return {
    routePrefix: '/docs',
    uiConfig: {
      docExpansion: 'list',
      deepLinking: true,
      filter: true,
      displayRequestDuration: true,
      // A token typed into Authorize is not kept in the browser's storage (shared computers in town halls).
      persistAuthorization: false,
    },
    transformSpecification: (document) => ({ ...document, servers: [ownServer, ...((document.servers as unknown[] | undefined) ?? [])] }),
  }
}

/** What `POST /api/validate` reads (validation/routes.ts): an RDF document by its Content-Type, or a CKAN dict. */
const VALIDATE_BODY_EXAMPLES: Record<string, { description: string; example: string | Record<string, unknown> }> = {
  'text/turtle': {
    description: 'A DCAT document in Turtle',
    example: [
      '@prefix dcat: <http://www.w3.org/ns/dcat#> .',
      '@prefix dct: <http://purl.org/dc/terms/> .',
      '',
      '<https://www.marburg.de/opendata/haushaltsplan-2025> a dcat:Dataset ;',
      '  dct:title "Haushaltsplan 2025 der Universitätsstadt Marburg"@de ;',
      '  dct:description "Ergebnis- und Finanzhaushalt für das Haushaltsjahr 2025."@de ;',
      '  dcat:distribution <https://www.marburg.de/opendata/haushaltsplan-2025.csv> .',
      '',
      '<https://www.marburg.de/opendata/haushaltsplan-2025.csv> a dcat:Distribution ;',
      '  dcat:accessURL <https://www.marburg.de/opendata/haushaltsplan-2025.csv> ;',
      '  dct:license <http://dcat-ap.de/def/licenses/dl-by-de/2.0> .',
      '',
    ].join('\n'),
  },
  'application/ld+json': {
    description: 'A DCAT document in JSON-LD',
    example: {
      '@context': { dcat: 'http://www.w3.org/ns/dcat#', dct: 'http://purl.org/dc/terms/' },
      '@id': 'https://www.marburg.de/opendata/haushaltsplan-2025',
      '@type': 'dcat:Dataset',
      'dct:title': { '@value': 'Haushaltsplan 2025 der Universitätsstadt Marburg', '@language': 'de' },
      'dct:description': { '@value': 'Ergebnis- und Finanzhaushalt für das Haushaltsjahr 2025.', '@language': 'de' },
    },
  },
  'application/rdf+xml': {
    description: 'A DCAT document in RDF/XML',
    example: [
      '<?xml version="1.0" encoding="utf-8"?>',
      '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">',
      '  <dcat:Dataset rdf:about="https://www.marburg.de/opendata/haushaltsplan-2025">',
      '    <dct:title xml:lang="de">Haushaltsplan 2025 der Universitätsstadt Marburg</dct:title>',
      '    <dct:description xml:lang="de">Ergebnis- und Finanzhaushalt für das Haushaltsjahr 2025.</dct:description>',
      '  </dcat:Dataset>',
      '</rdf:RDF>',
      '',
    ].join('\n'),
  },
  'application/n-triples': {
    description: 'A DCAT document in N-Triples',
    example: [
      '<https://www.marburg.de/opendata/haushaltsplan-2025> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Dataset> .',
      '<https://www.marburg.de/opendata/haushaltsplan-2025> <http://purl.org/dc/terms/title> "Haushaltsplan 2025 der Universitätsstadt Marburg"@de .',
      '',
    ].join('\n'),
  },
  'application/json': {
    description: 'A CKAN package dict, as package_create takes it (checked without being stored)',
    example: ACTION_EXAMPLES.package_create!.complete!.value,
  },
}

/** The content types `POST /api/validate` documents, in the order the Swagger UI offers them. */
export const VALIDATE_CONTENT_TYPES = Object.keys(VALIDATE_BODY_EXAMPLES)

function validateRequestBody(): FastifySchema['body'] {
  const content: Record<string, { schema: TSchema }> = {}
  for (const [type, { description, example }] of Object.entries(VALIDATE_BODY_EXAMPLES)) {
    content[type] = { schema: typeof example === 'string' ? Type.String({ description, examples: [example] }) : Type.Object({}, { additionalProperties: true, description, examples: [example] }) }
  }
  return { content }
}

/** The global transform: routes other than the actions (which document themselves, see actionDocs). */
const documentRoute: SwaggerTransform = ({ schema, url, route }) => {
  const methods = Array.isArray(route.method) ? route.method : [route.method]
  if (url === '/api/validate' && methods.includes('POST')) return { schema: { ...schema, body: validateRequestBody() }, url }
  return { schema, url }
}

type Example = { summary: string; description?: string; value: unknown }
type Examples = Record<string, Example>

/** An error answer: its schema (the envelope, or CKAN's bare string), what it means, and examples. */
function errorResponse(description: string, examples: Examples, bareString = false): TSchema {
  const schema = bareString
    ? Type.Union([ErrorEnvelope, Type.String({ description: 'Some request errors are a bare JSON string, as in CKAN' })])
    : ErrorEnvelope
  return { ...schema, 'x-response-description': description, 'x-examples': examples }
}

function envelopeOf(help: string, error: Record<string, unknown>) {
  return { help, success: false, error }
}

/** The example of a field error of a read: a parameter the action has, with the message it gets. */
function readFieldError(action: ActionDefinition<any>): Record<string, string[]> | undefined {
  const properties = (action.input.properties ?? {}) as Record<string, TSchema>
  const integer = Object.entries(properties).find(([, p]) => p.type === 'integer')
  if (integer) return { [integer[0]]: ['Invalid integer'] }
  if ('name_or_id' in properties) return { name_or_id: ['Missing value'] }
  if ('id' in properties) return { id: ['Missing value'] }
  const limited = Object.entries(properties).find(([, p]) => typeof p.maxLength === 'number')
  return limited ? { [limited[0]]: [`Must be at most ${limited[1].maxLength as number} characters long`] } : undefined
}

const DATASET_WRITE_ERRORS = {
  resources: [{ format: ['Unknown format "Tabelle": use an EU file-type code (CSV, JSON, XLSX, PDF, ...) or its URI (http://publications.europa.eu/resource/authority/file-type/CSV), or an IANA media type that names one (text/csv); other media types belong in mimetype'] }],
  dcat_ap_de: [
    {
      focusNode: 'http://localhost:3000/dataset/7c9e6679-7425-40de-944b-e07fc1f90ae7',
      path: 'http://purl.org/dc/terms/description',
      severity: 'violation',
      message: { de: 'Der Datensatz braucht eine Beschreibung (dct:description).', en: 'The dataset needs a description (dct:description).' },
      constraint: 'sh:MinCountConstraintComponent',
      sourceShape: 'urn:godonu:shapes:Dataset-description-required',
    },
  ],
}

/** The verb requireDatasetEditor names for a dataset write (package_write.ts). */
function datasetVerb(name: string): string {
  return name === 'package_create' ? 'create' : name === 'package_delete' ? 'delete' : 'update'
}

/** The error answers of an action, each status with an example of what CKAN sends. */
function errorResponses(action: ActionDefinition<any>, config: AppConfig): Record<string, TSchema> {
  const help = helpUrl(config.baseUrl, action.name)
  const write = documentedMethod(action) === 'POST'
  const datasetWrite = write && action.tags.includes('datasets (write)') && action.name !== 'dataset_purge'
  const responses: Record<string, TSchema> = {}

  const badRequest: Examples = {}
  if (action.inputErrors === 'search') {
    badRequest.searchQuery = {
      summary: 'Search Query Error: a parameter the search does not know',
      value: envelopeOf(help, { __type: 'Search Query Error', message: 'Search Query is invalid: "Invalid search parameters: [\'foo\']"' }),
    }
  }
  if (write) {
    badRequest.notAnObject = { summary: 'A body that is not a JSON object', value: 'Bad request - JSON Error: Request data JSON decoded to [] but it needs to be a dictionary.' }
    badRequest.get = { summary: 'A write sent as GET', value: 'Bad request - JSON Error: Invalid request. Please use POST method for your request' }
  }
  if (Object.keys(badRequest).length) responses['400'] = errorResponse('Bad Request', badRequest, write)

  const denied = !write
    ? 'Access denied: User anonymous not authorized to read package 7c9e6679-7425-40de-944b-e07fc1f90ae7'
    : datasetWrite
      ? `Access denied: User erika-mustermann not authorized to ${datasetVerb(action.name)} datasets of this organization`
      : `Access denied: User erika-mustermann not authorized to ${action.name}`
  responses['403'] = errorResponse(write ? 'Authorization Error: no valid token, or its user may not do this' : 'Authorization Error: the caller may not see this', {
    ...(write ? { noToken: { summary: 'Without a token', value: envelopeOf(help, { __type: 'Authorization Error', message: `Access denied: Action ${action.name} requires an authenticated user` }) } } : {}),
    denied: { summary: write ? 'A user without the needed role' : 'Not visible to the caller', value: envelopeOf(help, { __type: 'Authorization Error', message: denied }) },
  })

  responses['404'] = errorResponse('Not Found Error', { notFound: { summary: 'What the request names does not exist', value: envelopeOf(help, { __type: 'Not Found Error', message: 'Not found' }) } })

  const conflict: Examples = {}
  const fields = datasetWrite ? DATASET_WRITE_ERRORS : write ? { name: ['Missing value'] } : readFieldError(action)
  if (fields) {
    conflict.validation = {
      summary: datasetWrite ? 'Validation Error: every problem at once, the DCAT-AP.de findings under dcat_ap_de' : 'Validation Error: a field map of messages',
      value: envelopeOf(help, { ...fields, __type: 'Validation Error' }),
    }
  }
  if (IF_MATCH_ACTIONS.has(action.name)) {
    conflict.conflict = {
      summary: 'Conflict: the dataset changed since the If-Match revision',
      value: envelopeOf(help, { __type: 'Conflict', message: 'The dataset was changed by someone else since you read it (If-Match does not match its revision)' }),
    }
  }
  if (Object.keys(conflict).length) responses['409'] = errorResponse(IF_MATCH_ACTIONS.has(action.name) ? 'Validation Error, or Conflict (If-Match)' : 'Validation Error', conflict)

  if (write) {
    responses['413'] = errorResponse('Request Entity Too Large', {
      tooLarge: { summary: 'A body beyond the size limit', value: envelopeOf(help, { __type: 'Request Entity Too Large', message: `Request body is larger than ${config.bodyLimitBytes} bytes` }) },
    })
    responses['415'] = errorResponse('Unsupported Media Type: send application/json or a form', {
      mediaType: { summary: 'A body that is neither JSON nor a form', value: 'Bad request - JSON Error: unsupported content type text/xml' },
    }, true)
    responses['429'] = {
      ...errorResponse(`Rate Limit Error: more than ${config.writeRateLimitPerMinute} writes a minute by one user (or client address)`, {
        tooMany: { summary: 'Too many writes', value: envelopeOf(help, { __type: 'Rate Limit Error', message: 'Too many requests: retry in 1 minute' }) },
      }),
      headers: { 'Retry-After': { type: 'integer', description: 'Seconds until the next write is accepted' } },
    }
  }
  responses['500'] = errorResponse('Internal Server Error (logged; nothing was changed)', {
    internal: { summary: 'Internal Server Error', value: envelopeOf(help, { __type: 'Internal Server Error', message: 'Internal Server Error' }) },
  })
  return responses
}

const IF_MATCH_HEADER = Type.Object({
  'If-Match': Type.Optional(
    Type.String({
      description:
        'The `ETag` of package_show (of the resource\'s dataset for the resource actions): the write is refused with 409 Conflict, and nothing changes, when the dataset has changed since. Without it the last write wins, as in CKAN.',
      examples: ['"7c9e6679-7425-40de-944b-e07fc1f90ae7.3"'],
    }),
  ),
})

/** The answer headers of a success that carries the dataset revision. */
const ETAG_HEADERS = {
  ETag: { type: 'string', description: 'The dataset revision, `"<id>.<revision>"`: send it as `If-Match` to update without losing another editor\'s change' },
}

function methodNote(action: ActionDefinition<any>): string {
  if (documentedMethod(action) === 'GET') {
    const token = TOKEN_REQUIRED_READS.has(action.name)
      ? 'Needs an API token.'
      : 'An API token is optional: with one the answer includes what its user may see.'
    return `Also answers POST with the same parameters as a JSON object (or form) body, as CKAN does. ${token}`
  }
  const notes = ['POST only: a GET answers 400. Needs an API token (Authorize).']
  if (IF_MATCH_ACTIONS.has(action.name)) notes.push('Send `If-Match` with the `ETag` of package_show to be refused with 409 Conflict when the dataset changed since you read it.')
  if (ETAG_ACTIONS.has(action.name)) notes.push('The answer carries the new revision as `ETag`.')
  return notes.join(' ')
}

/**
 * The OpenAPI operation of an action, as the route-level swagger transform of its documented route: the
 * route's own schema (what validates the input) plus the documentation, which stays out of validation.
 */
export function actionDocs(action: ActionDefinition<any>, config: AppConfig): SwaggerTransform {
  const method = documentedMethod(action)
  const examples = ACTION_EXAMPLES[action.name]
  const success: TSchema = {
    ...Envelope(action.name, action.result),
    'x-response-description': 'Success',
    ...(ETAG_ACTIONS.has(action.name) ? { headers: ETAG_HEADERS } : {}),
  }
  const documentation: FastifySchema = {
    operationId: action.name,
    summary: action.summary,
    description: `${action.description}\n\n${methodNote(action)}`,
    tags: action.tags,
    security: method === 'POST' || TOKEN_REQUIRED_READS.has(action.name) ? TOKEN_REQUIRED : TOKEN_OPTIONAL,
    response: { 200: success, ...errorResponses(action, config) },
    ...(IF_MATCH_ACTIONS.has(action.name) ? { headers: IF_MATCH_HEADER } : {}),
  }
  return ({ schema, url }) => {
    const own = schema ?? {}
    const body = method === 'POST' && own.body && examples ? { ...(own.body as object), 'x-examples': examples } : own.body
    return { schema: { ...own, ...documentation, ...(body ? { body } : {}) }, url }
  }
}

// Descriptions are written as plain text with `code` spans. Markdown renderers (Swagger UI, Redoc) would
// read some of that text as markup: `*:*` becomes italics, `__type` bold, `<id>` an HTML tag. Such words go
// into code spans; everything else stays as written.

/** A word that Markdown would read as emphasis or HTML. */
const MARKUP_WORD = /[*<>]|(?:^|[^A-Za-z0-9])_|_(?:[^A-Za-z0-9]|$)/

/** Sentence punctuation after a word, left outside its code span. */
const TRAILING_PUNCTUATION = /[,.;:!?]+$/

function codeSpanIfMarkup(word: string): string {
  if (!MARKUP_WORD.test(word) || word.includes('`')) return word
  let end = word.length
  const trailing = TRAILING_PUNCTUATION.exec(word)
  // `*:*` ends in markup, not in punctuation: only punctuation after the last markup character is peeled.
  if (trailing && !/[*_<>]/.test(word.slice(trailing.index + 1))) end = trailing.index
  let start = 0
  const count = (text: string, char: string) => text.split(char).length - 1
  if (word[end - 1] === ')' && count(word.slice(0, end), ')') > count(word.slice(0, end), '(')) end--
  if (word[0] === '(' && count(word.slice(0, end), '(') > count(word.slice(0, end), ')')) start = 1
  return `${word.slice(0, start)}\`${word.slice(start, end)}\`${word.slice(end)}`
}

/** Text with its Markdown accidents put into code spans; existing code spans are kept as they are. */
export function markdownSafe(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/\S+/g, codeSpanIfMarkup)))
    .join('')
}

/** Values that are data, not prose: examples and defaults are shown as they are. */
const DATA_KEYS = new Set(['example', 'examples', 'default', 'enum', 'const'])

/** Every `description` of the document made Markdown-safe, in place. */
export function markdownSafeDescriptions(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) markdownSafeDescriptions(item)
    return
  }
  if (!node || typeof node !== 'object') return
  const record = node as Record<string, unknown>
  for (const [key, value] of Object.entries(record)) {
    if (DATA_KEYS.has(key)) continue
    if (key === 'description' && typeof value === 'string') record[key] = markdownSafe(value)
    else markdownSafeDescriptions(value)
  }
}
