import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import type { App } from '../../src/app.js'

/** One action called the three ways a CKAN client sends parameters: a JSON body, a form body and a query string. */
async function threeWays(app: App, action: string, params: Record<string, string>) {
  const json = await app.fastify.inject({ method: 'POST', url: `/api/3/action/${action}`, payload: params, headers: { 'content-type': 'application/json' } })
  const form = await app.fastify.inject({ method: 'POST', url: `/api/3/action/${action}`, payload: new URLSearchParams(params).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  const query = await app.fastify.inject({ method: 'GET', url: `/api/3/action/${action}?${new URLSearchParams(params).toString()}` })
  return { json: { status: json.statusCode, body: json.json() }, form: { status: form.statusCode, body: form.json() }, query: { status: query.statusCode, body: query.json() } }
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  await insertDatasets(app, ['a', 'b', 'c'].map((x) => ({ name: `haushalt-${x}`, title: `Haushalt ${x}`, notes: 'Haushaltsplan', owner_org: 'marburg', groups: ['gove'], tags: [{ name: 'haushalt' }] })))

  await t.test('numbers given as text, as ckanapi sends them ({"rows": "2"}), in JSON, form and query alike', async (t) => {
    const cases: Array<[string, Record<string, string>, (result: any) => void]> = [
      ['package_search', { q: 'Haushalt', rows: '2', start: '1' }, (r) => { t.equal(r.count, 3); t.equal(r.results.length, 2) }],
      ['package_search', { q: 'Haushalt', rows: ' +2 ', 'facet.limit': '-1', 'facet.field': '["tags"]', include_private: 'True' }, (r) => t.equal(r.results.length, 2)],
      ['package_list', { limit: '2', offset: '1' }, (r) => t.same(r, ['haushalt-b', 'haushalt-c'])],
      ['current_package_list_with_resources', { limit: '1', offset: '0' }, (r) => t.equal(r.length, 1)],
      ['organization_list', { limit: '2', offset: '1', all_fields: 'true' }, (r) => { t.equal(r.length, 2); t.type(r[0], 'object') }],
      ['organization_list', { all_fields: 'false', limit: '1' }, (r) => t.type(r[0], 'string')],
      ['group_list', { limit: '3', offset: '2', all_fields: 'yes' }, (r) => { t.equal(r.length, 3); t.ok(r[0].name) }],
    ]
    for (const [action, params, check] of cases) {
      const answers = await threeWays(app, action, params)
      for (const [way, answer] of Object.entries(answers)) {
        t.equal(answer.status, 200, `${action} ${JSON.stringify(params)} as ${way}: ${JSON.stringify(answer.body.error ?? '')}`)
        check(answer.body.result)
      }
    }
  })

  await t.test('a blank number means not given, as CKAN reads it', async (t) => {
    const answers = await threeWays(app, 'package_search', { q: 'Haushalt', rows: '' })
    for (const answer of Object.values(answers)) t.equal(answer.body.result.results.length, 3, 'the default rows')
  })

  await t.test('text that is not a number gets CKAN’s errors, in every way', async (t) => {
    const cases: Array<[string, Record<string, string>, Record<string, string[]>]> = [
      ['package_search', { rows: 'zwei' }, { rows: ['Invalid integer'] }],
      ['package_search', { rows: '2.5' }, { rows: ['Invalid integer'] }],
      ['package_search', { start: '-1' }, { start: ['Must be a natural number'] }],
      ['package_list', { limit: 'viele' }, { limit: ['Invalid integer'] }],
      ['organization_list', { offset: '0x10' }, { offset: ['Invalid integer'] }],
      ['group_list', { all_fields: 'vielleicht' }, { all_fields: ['Value must be one of: true, false'] }],
      ['current_package_list_with_resources', { limit: '1e3' }, { limit: ['Invalid integer'] }],
    ]
    for (const [action, params, fields] of cases) {
      const answers = await threeWays(app, action, params)
      for (const [way, answer] of Object.entries(answers)) {
        t.equal(answer.status, 409, `${action} ${JSON.stringify(params)} as ${way}`)
        t.equal(answer.body.error.__type, 'Validation Error')
        t.match(answer.body.error, fields)
      }
    }
  })

  await t.test('real JSON numbers and booleans are taken as they are', async (t) => {
    const answer = await app.fastify.inject({ method: 'POST', url: '/api/3/action/organization_list', payload: { limit: 1, all_fields: true } })
    t.equal(answer.statusCode, 200)
    t.equal(answer.json().result.length, 1)
    const wrong = await app.fastify.inject({ method: 'POST', url: '/api/3/action/package_list', payload: { limit: [1] } })
    t.equal(wrong.statusCode, 409, 'a list is not a number')
    t.same(wrong.json().error.limit, ['Invalid integer'])
  })
})
