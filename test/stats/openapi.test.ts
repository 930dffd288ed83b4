import { readFileSync } from 'node:fs'
import t from 'tap'
import { OPENAPI_PATH } from '../../src/cli/openapi.js'
import { KommuneStats } from '../../src/stats/schemas.js'

t.test('the stats endpoints are documented in openapi/openapi.json with their response shapes', async (t) => {
  const doc = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'))
  const list = doc.paths['/api/stats/kommunen']?.get
  t.ok(list, 'GET /api/stats/kommunen')
  const listSchema = list.responses['200'].content['application/json'].schema
  t.ok(list.responses['200'].content['text/csv'], 'the CSV form is documented')
  t.same(
    Object.keys(listSchema.properties.kommunen.items.properties).sort(),
    Object.keys(KommuneStats.properties).sort(),
    'every field of a Kommune is documented',
  )
  t.ok(list.parameters.some((p: { name: string }) => p.name === 'sort'))
  t.ok(list.parameters.some((p: { name: string }) => p.name === 'format'))
  const detail = doc.paths['/api/stats/kommunen/{name}']?.get
  t.ok(detail?.responses['404'], 'the detail documents its 404')
  const detailSchema = JSON.stringify(detail.responses['200'])
  for (const field of ['lowest_scoring', 'top_fixes', 'indicators']) t.match(detailSchema, field)
  const history = doc.paths['/api/stats/history']?.get
  t.same(history.parameters.map((p: { name: string }) => p.name).sort(), ['from', 'kommune', 'to'])
  t.ok(history.responses['400'] && history.responses['404'])
  for (const op of [list, detail, history]) t.ok(op.responses['503'], 'the 503 before the first refresh is documented')
})
