import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { Harvester } from '../../src/harvest/harvester.js'
import { harvestDb } from '../../src/harvest/tables.js'
import { addSource, harvestNow, localServer, testHarvestConfig } from './support.js'

/**
 * harvest_source_delete against a running job (refused, the job asked to stop) and on retry (a delete that
 * stopped after its first step is ended by the next call; a repeated call by id changes nothing).
 */
await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const admin = await userWithToken(app, 'marburg-admin', { org: 'marburg', role: 'admin' })
  let stall: (() => void) | undefined
  let stallReached: () => void = () => {}
  let stallArmed = false
  const { base } = await localServer(t, (req, res) => {
    const url = new URL(req.url!, 'http://x')
    const prefix = url.pathname.split('/')[1]
    const start = Number(url.searchParams.get('start'))
    const all = [0, 1, 2].map((i) => ({
      id: `${prefix}-${i}`,
      name: `${prefix}-${i}`,
      title: `${prefix} ${i}`,
      notes: 'Beschreibung',
      license_id: 'dl-by-de/2.0',
      resources: [{ url: `https://example.org/${prefix}/${i}.csv`, format: 'CSV' }],
    }))
    const body = JSON.stringify({ success: true, result: { count: 3, results: all.slice(start, start + 2) } })
    res.setHeader('content-type', 'application/json')
    if (start === 2 && stallArmed) {
      stallArmed = false
      stall = () => res.end(body)
      stallReached()
      return
    }
    res.end(body)
  })
  const harvester = new Harvester(app.service, testHarvestConfig(backend.config))
  const db = harvestDb(backend.store.db)

  await t.test('refused while a job runs (the job is asked to stop); deleted once it ended', async (t) => {
    const source = await addSource(harvester, app, {
      name: 'laufend',
      type: 'ckan',
      url: `${base}/laufend`,
      owner_org: 'marburg',
      config: { rows: 2 },
    })
    t.equal((await harvestNow(harvester, source.id)).status, 'finished')
    stallArmed = true
    const reached = new Promise<void>((resolve) => (stallReached = resolve))
    const running = harvestNow(harvester, source.id, { full: true })
    await reached
    const refused = await call(app, admin, 'harvest_source_delete', { id: 'laufend' })
    t.equal(refused.status, 409, JSON.stringify(refused.body))
    t.match(refused.body.error.message, /running/)
    t.equal((await harvester.jobs.source('laufend'))?.state, 'active', 'the source is unchanged')
    t.equal(
      (await db.selectFrom('harvest_object').select('id').where('source_id', '=', source.id).execute()).length,
      3,
      'no dataset was detached under the running job',
    )
    stall!()
    const ended = await running
    t.equal(ended.status, 'aborted', 'the running job stopped when asked')
    const done = await call(app, admin, 'harvest_source_delete', { id: 'laufend' })
    t.equal(done.status, 200, JSON.stringify(done.body))
    t.same(done.body.result, { detached: 3, deleted: 0 })
    t.equal((await db.selectFrom('harvest_object').select('id').where('source_id', '=', source.id).execute()).length, 0)
    t.equal(
      (await db.selectFrom('harvest_source').select('state').where('id', '=', source.id).executeTakeFirst())?.state,
      'deleted',
    )
  })

  await t.test('a delete that stopped after its first step is ended by a retry; repeats change nothing', async (t) => {
    const source = await addSource(harvester, app, {
      name: 'halb',
      type: 'ckan',
      url: `${base}/halb`,
      owner_org: 'marburg',
      config: { rows: 2 },
    })
    t.equal((await harvestNow(harvester, source.id)).status, 'finished')
    // The first call died after its first step (the source marked deleting, no dataset detached yet).
    await harvester.jobs.beginDeleteSource(source.id)
    t.equal(
      (await call(app, null, 'harvest_source_list', {})).body.result.some((s: { name: string }) => s.name === 'halb'),
      false,
      'hidden meanwhile',
    )
    await t.rejects(
      harvester.jobs
        .createJob(source.id)
        .then(() => harvester.claimAndRun())
        .then((r) => {
          if (r?.status !== 'failed') throw new Error(`a job of a deleting source ran: ${r?.status}`)
          throw new Error('failed as it must')
        }),
      /failed as it must/,
      'a job of a deleting source does not run',
    )
    const retry = await call(app, admin, 'harvest_source_delete', { id: 'halb', clear: true })
    t.equal(retry.status, 200, JSON.stringify(retry.body))
    t.same(retry.body.result, { detached: 0, deleted: 3 }, 'the retry by name ends the delete')
    const again = await call(app, admin, 'harvest_source_delete', { id: source.id, clear: true })
    t.equal(again.status, 200)
    t.same(again.body.result, { detached: 0, deleted: 0 }, 'a repeat by id has nothing left to do')
    t.equal((await call(app, admin, 'harvest_source_delete', { id: 'halb' })).status, 404, 'the name is free')
    const states = await backend.store.db
      .selectFrom('package')
      .select('state')
      .where('name', 'like', 'halb-%')
      .execute()
    t.ok(states.length === 3 && states.every((s) => s.state === 'deleted'))
  })
})
