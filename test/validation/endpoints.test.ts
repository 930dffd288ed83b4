import t from 'tap'
import { readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { SAMPLE_DATASETS } from '../helpers/datasets.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { tempDir } from '../helpers/temp.js'

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  await insertDatasets(app, SAMPLE_DATASETS)

  await t.test('GET /dataset/{id}/validation reports a stored dataset', async (t) => {
    const response = await app.fastify.inject({ url: '/dataset/haltestellen-fulda/validation' })
    t.equal(response.statusCode, 200)
    const report = response.json()
    t.equal(report.conforms, true)
    t.equal(report.profile, 'dcat_ap_de_2')
    t.ok(report.findings.every((f: { message: { de: string; en: string } }) => f.message.de && f.message.en), 'every finding speaks German and English')
    const v3 = await app.fastify.inject({ url: '/dataset/haltestellen-fulda/validation?profiles=dcat_ap_de_3' })
    t.equal(v3.json().profile, 'dcat_ap_de_3')
    t.equal((await app.fastify.inject({ url: '/dataset/interne-liste-kassel/validation' })).statusCode, 403)
    t.equal((await app.fastify.inject({ url: '/dataset/nope/validation' })).statusCode, 404)
  })

  await t.test('POST /api/validate takes RDF and CKAN dicts', async (t) => {
    const turtle = (await app.fastify.inject({ url: '/dataset/haltestellen-fulda.ttl' })).body
    const ok = await app.fastify.inject({ method: 'POST', url: '/api/validate', payload: turtle, headers: { 'content-type': 'text/turtle' } })
    t.equal(ok.statusCode, 200)
    t.equal(ok.json().conforms, true)
    const broken = turtle.replace(/dct:title "[^"]*";/, '')
    const bad = (await app.fastify.inject({ method: 'POST', url: '/api/validate', payload: broken, headers: { 'content-type': 'text/turtle' } })).json()
    t.equal(bad.conforms, false)
    const title = bad.findings.find((f: { path: string; severity: string }) => f.path === 'http://purl.org/dc/terms/title' && f.severity === 'violation')
    t.ok(title, 'the missing title is reported on its path')
    t.match(title.focusNode, /\/dataset\//)
    t.match(title.message.de, /Titel/)
    t.match(title.message.en, /title/)
    const rdfxml = (await app.fastify.inject({ url: '/dataset/haltestellen-fulda.rdf' })).body
    const xml = await app.fastify.inject({ method: 'POST', url: '/api/validate', payload: rdfxml, headers: { 'content-type': 'application/rdf+xml' } })
    t.equal(xml.json().conforms, true)
    const dict = await app.fastify.inject({ method: 'POST', url: '/api/validate', payload: validDataset('marburg'), headers: { 'content-type': 'application/json' } })
    t.equal(dict.statusCode, 200)
    t.equal(dict.json().conforms, true)
    const garbage = await app.fastify.inject({ method: 'POST', url: '/api/validate', payload: '<<<not turtle', headers: { 'content-type': 'text/turtle' } })
    t.equal(garbage.statusCode, 400)
    t.equal(garbage.json().error.__type, 'RDF Parse Error')
    const unsupported = await app.fastify.inject({ method: 'POST', url: '/api/validate', payload: 'x', headers: { 'content-type': 'image/png' } })
    t.ok(unsupported.statusCode === 415, 'an unknown content type is refused')
  })

  await t.test('writes that break DCAT-AP.de are refused with the findings; drafts may be incomplete', async (t) => {
    const editor = await userWithToken(app, 'validierende', { org: 'marburg', role: 'editor' })
    const incomplete = validDataset('marburg', { notes: '', resources: [] })
    const refused = await call(app, editor, 'package_create', incomplete)
    t.equal(refused.status, 409)
    t.equal(refused.body.error.__type, 'Validation Error')
    const findings = refused.body.error.dcat_ap_de as Array<{ path: string; message: { de: string } }>
    t.ok(findings.some((f) => f.path === 'http://purl.org/dc/terms/description'), 'the missing description is named')
    t.ok(findings.every((f) => f.message.de), 'with German messages')
    const draft = await call(app, editor, 'package_create', { ...incomplete, state: 'draft' })
    t.equal(draft.status, 200, 'a draft may be incomplete')
    const publish = await call(app, editor, 'package_patch', { id: draft.body.result.id, state: 'active' })
    t.equal(publish.status, 409, 'but cannot become active before it is complete')
  })
})

t.test('godonu validate FILE', async (t) => {
  const fixture = 'test/validation/fixtures/valid-dataset.ttl'
  let text: string
  try {
    text = readFileSync(fixture, 'utf8')
  } catch {
    t.fail(`fixture ${fixture} missing`)
    return
  }
  const good = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'validate', fixture], { encoding: 'utf8' })
  t.equal(good.status, 0, good.stderr)
  t.match(good.stdout, /conforms|konform/i)
  const broken = `${text}\n<http://example.org/kaputt> a <http://www.w3.org/ns/dcat#Dataset> .\n`
  const file = join(tempDir(t, 'godonu-validate-'), 'broken.ttl')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(file, broken)
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'validate', file], { encoding: 'utf8' })
  t.equal(bad.status, 1, 'exit code 1 when there are violations (2 is for unusable input)')
  t.match(bad.stdout, /dct:title|title/)
})
