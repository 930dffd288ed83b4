import { readFileSync } from 'node:fs'
import t from 'tap'
import { OPENAPI_PATH, renderOpenApi } from '../src/cli/openapi.js'
import { allActions } from '../src/ckan/registry.js'

t.test('openapi/openapi.json is the document the running service generates', async (t) => {
  const committed = readFileSync(OPENAPI_PATH, 'utf8')
  const generated = await renderOpenApi()
  t.ok(committed === generated, 'openapi/ is out of date: run `npm run openapi` and commit the result')
  const doc = JSON.parse(generated)
  t.equal(doc.openapi, '3.0.3')
  for (const action of allActions()) {
    const path = doc.paths[`/api/3/action/${action.name}`]
    t.ok(path?.post, `${action.name} is documented for POST`)
    if (action.sideEffectFree) t.ok(path?.get, `${action.name} is documented for GET`)
    t.ok(path.post.responses['200'], `${action.name} documents its success envelope`)
  }
  t.notOk(Object.keys(doc.paths).some((p) => p.startsWith('/api/action/')), 'the /api/action alias is not documented twice')
  const search = doc.paths['/api/3/action/package_search'].get
  const names = search.parameters.map((p: { name: string }) => p.name)
  t.ok(names.includes('fq') && names.includes('facet.field') && names.includes('rows'), 'package_search parameters come from its schema')
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
