import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { Harvester } from '../../src/harvest/harvester.js'
import { emptyCounts, harvestDb } from '../../src/harvest/tables.js'
import { addSource, harvestNow, localServer, testHarvestConfig } from './support.js'

/**
 * The base of an incremental CKAN run is the last fully successful run (a finished run with failed datasets
 * is not); a DCAT dataset is recognised by its IRI or dct:identifier, never by its name (made from its title).
 */
await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const harvester = new Harvester(app.service, testHarvestConfig(backend.config))
  const db = harvestDb(backend.store.db)
  const fqs: string[] = []
  let title = 'Erster Titel'
  const { base } = await localServer(t, (req, res) => {
    const url = new URL(req.url!, 'http://x')
    if (url.pathname.startsWith('/ckan')) {
      fqs.push(url.searchParams.get('fq') ?? '')
      res.setHeader('content-type', 'application/json')
      return res.end(JSON.stringify({ success: true, result: { count: 0, results: [] } }))
    }
    res.setHeader('content-type', 'text/turtle')
    res.end(
      [
        '@prefix dcat: <http://www.w3.org/ns/dcat#> .',
        '@prefix dct: <http://purl.org/dc/terms/> .',
        // A blank-node dataset identified by dct:identifier only: its title (and so its name) changes.
        `[] a dcat:Dataset ; dct:identifier "kennung-1" ; dct:title "${title}" ; dct:description "B" ; dcat:distribution [ a dcat:Distribution ; dcat:accessURL <https://example.org/a.csv> ] .`,
        // One with neither IRI nor identifier: it cannot be recognised from run to run.
        `[] a dcat:Dataset ; dct:title "${title} ohne Kennung" ; dct:description "B" ; dcat:distribution [ a dcat:Distribution ; dcat:accessURL <https://example.org/b.csv> ] .`,
      ].join('\n'),
    )
  })

  await t.test('an incremental run starts from the last run without failures', async (t) => {
    const source = await addSource(harvester, app, {
      name: 'inkrementell',
      type: 'ckan',
      url: `${base}/ckan`,
      owner_org: 'marburg',
    })
    const clean = await harvestNow(harvester, source.id)
    t.equal(clean.status, 'finished')
    const cleanRow = await harvester.jobs.job(clean.job.id)
    // A later finished run in which a dataset failed to be written: its start is no base.
    await db
      .insertInto('harvest_job')
      .values({
        id: '00000000-0000-4000-8000-00000000f00d',
        source_id: source.id,
        active_source: null,
        status: 'finished',
        full_run: 0,
        confirm_withdrawals: 0,
        abort_requested: 0,
        claimed_by: null,
        lease_until: null,
        created: '2999-01-01T00:00:00.000000',
        started: '2999-01-01T00:00:00.000000',
        finished: '2999-01-01T00:00:01.000000',
        counts: JSON.stringify({ ...emptyCounts(), failed: 1, updated: 3 }),
        error: null,
      })
      .execute()
    fqs.length = 0
    const next = await harvestNow(harvester, source.id)
    t.equal(next.status, 'finished')
    t.equal(fqs.length, 1)
    t.match(fqs[0], /^metadata_modified:\[\d{4}-/, 'an incremental run')
    t.notMatch(fqs[0], /2999/, 'not from the run with a failed dataset')
    const since = /\[(\S+)Z TO/.exec(fqs[0])![1]
    t.ok(since < cleanRow!.started!, `from before the clean run's start (${since} < ${cleanRow!.started})`)
    await db.deleteFrom('harvest_job').where('id', '=', '00000000-0000-4000-8000-00000000f00d').execute()
  })

  await t.test('a DCAT dataset keeps its identity by dct:identifier when its title (and name) change', async (t) => {
    const source = await addSource(harvester, app, {
      name: 'kennung',
      type: 'dcat',
      url: `${base}/dcat`,
      owner_org: 'marburg',
    })
    const first = await harvestNow(harvester, source.id)
    t.match(first.counts, { added: 1, skipped: 1 }, JSON.stringify(first.counts))
    const errors = await harvester.jobs.logs(first.job.id, 50, 0, 'error')
    t.match(errors[0]?.message, /neither an IRI nor a dct:identifier/, 'the unidentifiable dataset is reported')
    const before = await db
      .selectFrom('harvest_object')
      .select(['package_id'])
      .where('source_id', '=', source.id)
      .execute()
    title = 'Zweiter Titel'
    const second = await harvestNow(harvester, source.id)
    t.match(second.counts, { added: 0, updated: 1, withdrawn: 0, skipped: 1 }, JSON.stringify(second.counts))
    const after = await db
      .selectFrom('harvest_object')
      .select(['package_id'])
      .where('source_id', '=', source.id)
      .execute()
    t.same(after, before, 'the same dataset, updated in place')
    const pkg = await backend.store.db
      .selectFrom('package')
      .select(['title', 'state'])
      .where('id', '=', before[0].package_id)
      .executeTakeFirst()
    t.same(pkg, { title: 'Zweiter Titel', state: 'active' })
  })
})
