import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { Harvester } from '../../src/harvest/harvester.js'
import { DatasetValidation } from '../../src/validation/dataset-validation.js'
import { datasetRules } from '../../src/catalog/dataset-rules.js'
import { localServer, testHarvestConfig } from './support.js'

/** The harvest actions: who may manage sources and jobs, one job per source, abort, reports, detaching. */
await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const sysadmin = await userWithToken(app, 'root', { sysadmin: true })
  const admin = await userWithToken(app, 'marburg-admin', { org: 'marburg', role: 'admin' })
  const editor = await userWithToken(app, 'marburg-editor', { org: 'marburg', role: 'editor' })
  const otherAdmin = await userWithToken(app, 'kassel-admin', { org: 'kassel', role: 'admin' })
  // A tiny CKAN source of two datasets, one of which has a title CKAN's rules refuse (too long).
  const { base } = await localServer(t, (req, res) => {
    const url = new URL(req.url!, 'http://x')
    const start = Number(url.searchParams.get('start'))
    const rows = Number(url.searchParams.get('rows'))
    const all = [
      {
        id: 'a1',
        name: 'gut',
        title: 'Gut',
        notes: 'Beschreibung',
        license_id: 'dl-by-de/2.0',
        resources: [{ url: 'https://example.org/a.csv', format: 'CSV', license: 'dl-by-de/2.0' }],
        extras: [{ key: 'frequency', value: 'NONSENSE' }],
      },
      { id: 'a2', name: 'schlecht', title: 'x'.repeat(600), resources: [] },
    ]
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ success: true, result: { count: all.length, results: all.slice(start, start + rows) } }))
  })
  const body = { name: 'quelle', title: 'Quelle', source_type: 'ckan', url: base, owner_org: 'marburg' }

  await t.test('who may add a source', async (t) => {
    t.equal((await call(app, null, 'harvest_source_create', body)).status, 403, 'anonymous')
    t.equal((await call(app, editor, 'harvest_source_create', body)).status, 403, 'an editor')
    t.equal((await call(app, otherAdmin, 'harvest_source_create', body)).status, 403, "another Kommune's admin")
    const bad = await call(app, admin, 'harvest_source_create', { ...body, url: 'file:///etc/passwd', name: 'X Y' })
    t.equal(bad.status, 409)
    t.ok(bad.body.error.url && bad.body.error.name, 'the URL and the name are refused')
    const ok = await call(app, admin, 'harvest_source_create', body)
    t.equal(ok.status, 200, JSON.stringify(ok.body))
    t.equal((await call(app, sysadmin, 'harvest_source_create', body)).status, 409, 'a name in use')
    t.equal((await call(app, null, 'harvest_source_list', {})).body.result.length, 1, 'sources are public')
    t.equal(
      (await call(app, admin, 'harvest_source_patch', { id: 'quelle', frequency_hours: 6, config: { rows: 1 } })).body
        .result.frequency_hours,
      6,
    )
    t.equal((await call(app, otherAdmin, 'harvest_source_patch', { id: 'quelle', frequency_hours: 1 })).status, 403)
  })

  await t.test('one job per source; abort; the report', async (t) => {
    const job = await call(app, admin, 'harvest_job_create', { source_id: 'quelle' })
    t.equal(job.status, 200)
    t.equal(job.body.result.status, 'new')
    const again = await call(app, admin, 'harvest_job_create', { source_id: 'quelle' })
    t.equal(again.status, 409)
    t.match(again.body.error.message, /already waiting or running/)
    const aborted = await call(app, admin, 'harvest_job_abort', { source_id: 'quelle' })
    t.equal(aborted.body.result.status, 'aborted')
    const validation = new DatasetValidation(app.service, backend.config)
    const harvester = new Harvester(app.service, testHarvestConfig(backend.config), {
      datasetRules: datasetRules(validation),
    })
    const next = await call(app, admin, 'harvest_job_create', { source_id: 'quelle' })
    t.equal(next.status, 200, 'after the abort a new job may be queued')
    const result = await harvester.claimAndRun()
    t.equal(result?.job.id, next.body.result.id, 'the scheduler side claims the queued job')
    t.equal(result?.status, 'finished')
    t.match(result?.counts, { added: 1, skipped: 1, pages: 2 })
    const shown = await call(app, null, 'harvest_job_show', { id: next.body.result.id })
    t.match(shown.body.result.stats, { added: 1, skipped: 1 })
    const errors = await call(app, null, 'harvest_log_list', { job_id: next.body.result.id, level: 'error' })
    t.equal(errors.body.result.length, 1, 'the skipped dataset is reported')
    t.match(errors.body.result[0], { guid: `${base}/dataset/a2`, message: /title/ })
    const warnings = await call(app, null, 'harvest_log_list', { job_id: next.body.result.id, level: 'warning' })
    t.match(warnings.body.result[0]?.message, /frequency/, 'a refused vocabulary value is left out and reported')
    // The harvested dataset's score carries the validator's compliance (the write API's rules), not "unchecked".
    const quality = await call(app, null, 'package_quality_show', { id: 'gut' })
    t.equal(quality.status, 200)
    const violated = warnings.body.result.some((w: { message: string }) => /DCAT-AP\.de findings/.test(w.message))
    t.equal(
      quality.body.result.dcat_ap_compliance,
      violated ? 'failed' : 'passed',
      `compliance as the validator found (${violated ? 'violations' : 'none'})`,
    )
    const listed = await call(app, null, 'harvest_job_list', { source_id: 'quelle' })
    t.same(
      listed.body.result.map((j: { status: string }) => j.status),
      ['finished', 'aborted'],
    )
  })

  await t.test('deleting the source detaches its datasets: editors may edit them then', async (t) => {
    t.equal((await call(app, editor, 'package_patch', { id: 'gut', title: 'Neu' })).status, 409)
    t.equal((await call(app, editor, 'harvest_source_delete', { id: 'quelle' })).status, 403)
    const deleted = await call(app, admin, 'harvest_source_delete', { id: 'quelle' })
    t.same(deleted.body.result, { detached: 1, deleted: 0 })
    const patched = await call(app, editor, 'package_patch', { id: 'gut', title: 'Neu' })
    t.equal(patched.status, 200, JSON.stringify(patched.body).slice(0, 300))
    t.notOk(
      patched.body.result.extras.some((e: { key: string }) => e.key.startsWith('harvest_')),
      'the harvest extras are gone',
    )
    t.equal((await call(app, null, 'harvest_source_show', { id: 'quelle' })).status, 404)
  })
})
