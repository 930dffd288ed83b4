import { readFileSync } from 'node:fs'
import t from 'tap'
import { OPENAPI_PATH, renderOpenApi } from '../src/cli/openapi.js'
import { allActions } from '../src/ckan/registry.js'
import { ETAG_ACTIONS, IF_MATCH_ACTIONS, TOKEN_REQUIRED_READS, VALIDATE_CONTENT_TYPES, markdownSafe } from '../src/ckan/openapi-docs.js'

type Operation = Record<string, any>

/** Every `description` of the document that is prose (examples and defaults are data). */
function descriptions(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) descriptions(item, found)
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (['example', 'examples', 'default', 'enum'].includes(key)) continue
      if (key === 'description' && typeof value === 'string') found.push(value)
      else descriptions(value, found)
    }
  }
  return found
}

t.test('openapi/openapi.json is the document the running service generates', async (t) => {
  const committed = readFileSync(OPENAPI_PATH, 'utf8')
  const generated = await renderOpenApi()
  t.ok(committed === generated, 'openapi/ is out of date: run `npm run openapi` and commit the result')
  const doc = JSON.parse(generated)
  t.equal(doc.openapi, '3.0.3')
  for (const action of allActions()) {
    const path = doc.paths[`/api/3/action/${action.name}`]
    const documented = action.sideEffectFree ? 'get' : 'post'
    const other = action.sideEffectFree ? 'post' : 'get'
    t.ok(path?.[documented], `${action.name} is documented for ${documented.toUpperCase()}`)
    t.notOk(path?.[other], `${action.name} is documented once, not for ${other.toUpperCase()} too`)
    const operation: Operation = path[documented]
    t.equal(operation.operationId, action.name)
    t.ok(operation.responses['200'], `${action.name} documents its success envelope`)
    t.match(operation.description, action.sideEffectFree ? /Also answers POST/ : /POST only: a GET answers 400/, `${action.name} names the other method`)
  }
  t.notOk(Object.keys(doc.paths).some((p) => p.startsWith('/api/action/')), 'the /api/action alias is not documented twice')
  const search = doc.paths['/api/3/action/package_search'].get
  const names = search.parameters.map((p: { name: string }) => p.name)
  t.ok(names.includes('fq') && names.includes('facet.field') && names.includes('rows'), 'package_search parameters come from its schema')
})

t.test('the API token scheme: required by every write, optional on reads', async (t) => {
  const doc = JSON.parse(await renderOpenApi())
  t.same(doc.components.securitySchemes.ApiToken, { type: 'apiKey', in: 'header', name: 'Authorization', description: doc.components.securitySchemes.ApiToken.description })
  t.match(doc.components.securitySchemes.ApiToken.description, /Bearer/)
  for (const action of allActions()) {
    const operation: Operation = doc.paths[`/api/3/action/${action.name}`][action.sideEffectFree ? 'get' : 'post']
    if (!action.sideEffectFree || TOKEN_REQUIRED_READS.has(action.name)) t.same(operation.security, [{ ApiToken: [] }], `${action.name} needs a token`)
    else t.same(operation.security, [{}, { ApiToken: [] }], `${action.name} takes a token optionally`)
  }
})

t.test('If-Match and ETag are documented where the actions use them', async (t) => {
  const doc = JSON.parse(await renderOpenApi())
  for (const name of ['package_update', 'package_patch', 'package_delete']) t.ok(IF_MATCH_ACTIONS.has(name), `${name} honours If-Match`)
  for (const action of allActions()) {
    const operation: Operation = doc.paths[`/api/3/action/${action.name}`][action.sideEffectFree ? 'get' : 'post']
    const ifMatch = (operation.parameters ?? []).find((p: { name: string }) => p.name === 'If-Match')
    if (IF_MATCH_ACTIONS.has(action.name)) {
      t.match(ifMatch, { in: 'header', required: false, schema: { type: 'string' } }, `${action.name} declares If-Match`)
      t.ok(operation.responses['409'].content['application/json'].examples.conflict, `${action.name} shows the 409 Conflict`)
    } else t.notOk(ifMatch, `${action.name} declares no If-Match`)
    const etag = operation.responses['200'].headers?.ETag
    if (ETAG_ACTIONS.has(action.name)) t.match(etag, { schema: { type: 'string' } }, `${action.name} documents its ETag`)
    else t.notOk(etag, `${action.name} documents no ETag`)
  }
  t.ok(doc.paths['/api/3/action/package_show'].get.responses['200'].headers.ETag)
})

t.test('every write has an example body; POST /api/validate documents what it reads', async (t) => {
  const doc = JSON.parse(await renderOpenApi())
  for (const action of allActions().filter((a) => !a.sideEffectFree)) {
    const examples = doc.paths[`/api/3/action/${action.name}`].post.requestBody.content['application/json'].examples
    t.ok(examples && Object.keys(examples).length > 0, `${action.name} has an example body`)
    for (const example of Object.values(examples ?? {}) as Array<{ summary: string; value: unknown }>) {
      t.ok(example.summary && example.value && typeof example.value === 'object', `${action.name}: "${example.summary}" is a named JSON object`)
    }
  }
  const content = doc.paths['/api/validate'].post.requestBody.content
  t.same(Object.keys(content), VALIDATE_CONTENT_TYPES)
  t.same(VALIDATE_CONTENT_TYPES.slice().sort(), ['application/json', 'application/ld+json', 'application/n-triples', 'application/rdf+xml', 'text/turtle'])
  for (const type of VALIDATE_CONTENT_TYPES) t.ok(content[type].example, `${type} has an example`)
})

t.test('error answers: one example per status, of the kind that status has', async (t) => {
  const doc = JSON.parse(await renderOpenApi())
  const typeFor: Record<string, RegExp> = {
    '400': /^(Search Query Error)$|^Bad request - JSON Error/,
    '403': /^Authorization Error$/,
    '404': /^Not Found Error$/,
    '409': /^(Validation Error|Conflict)$/,
    '413': /^Request Entity Too Large$/,
    '415': /^Bad request - JSON Error: unsupported content type/,
    '429': /^Rate Limit Error$/,
    '500': /^Internal Server Error$/,
  }
  for (const action of allActions()) {
    const operation: Operation = doc.paths[`/api/3/action/${action.name}`][action.sideEffectFree ? 'get' : 'post']
    const statuses = Object.keys(operation.responses).filter((s) => s !== '200')
    t.notOk(statuses.some((s) => /xx$/i.test(s)), `${action.name} documents statuses, not ranges`)
    for (const required of action.sideEffectFree ? ['403', '404', '500'] : ['400', '403', '404', '409', '413', '415', '429', '500']) {
      t.ok(statuses.includes(required), `${action.name} documents ${required}`)
    }
    for (const status of statuses) {
      const examples = Object.values(operation.responses[status].content['application/json'].examples ?? {}) as Array<{ value: any }>
      t.ok(examples.length > 0, `${action.name} ${status} has an example`)
      for (const { value } of examples) {
        const kind = typeof value === 'string' ? value : value.error.__type
        t.match(kind, typeFor[status]!, `${action.name} ${status}: ${kind}`)
      }
    }
  }
  const validation = doc.paths['/api/3/action/package_create'].post.responses['409'].content['application/json'].examples.validation.value.error
  t.ok(Array.isArray(validation.dcat_ap_de) && validation.resources, 'the 409 of a dataset write shows the field map with the DCAT-AP.de findings')
})

t.test('descriptions are Markdown-safe', async (t) => {
  t.equal(markdownSafe('Query, default *:*'), 'Query, default `*:*`')
  t.equal(markdownSafe('sits beside __type: here'), 'sits beside `__type`: here')
  t.equal(markdownSafe('start=offset (or (page-1)*limit), default sort.'), 'start=offset (or `(page-1)*limit`), default sort.')
  t.equal(markdownSafe('send `If-Match: <ETag>` as owner_org and a-z, 0-9, - and _.'), 'send `If-Match: <ETag>` as owner_org and a-z, 0-9, - and `_`.')
  t.equal(markdownSafe('Give <id> or *name*'), 'Give `<id>` or `*name*`')
  const doc = JSON.parse(await renderOpenApi())
  const all = descriptions(doc)
  t.ok(all.length > 100, 'the document has descriptions')
  for (const text of all) t.equal(markdownSafe(text), text, `no Markdown accident in "${text.slice(0, 60)}"`)
  const q = doc.paths['/api/3/action/package_search'].get.parameters.find((p: { name: string }) => p.name === 'q')
  t.equal(q.description, 'Query, default `*:*`')
})

t.test('Swagger UI is served at /docs', async (t) => {
  const { buildApp } = await import('../src/app.js')
  const { loadConfig } = await import('../src/config.js')
  const app = await buildApp(loadConfig({ DATABASE_URL: 'sqlite::memory:' }), { logger: false })
  t.teardown(() => app.fastify.close())
  const page = await app.fastify.inject({ url: '/docs/' })
  t.equal(page.statusCode, 200)
  t.match(page.body, /swagger-ui/i)
  const json = await app.fastify.inject({ url: '/docs/json' })
  t.equal(json.statusCode, 200)
  t.ok(json.json().paths['/api/3/action/package_show'])
})
