import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call } from '../helpers/users.js'
import { openStore } from '../../src/db/connect.js'
import { HarvestJobs, LeaseLostError } from '../../src/harvest/jobs.js'
import { Harvester } from '../../src/harvest/harvester.js'
import { harvestDb } from '../../src/harvest/tables.js'
import { addSource, testHarvestConfig } from './support.js'

/**
 * A job's report lines are fenced by its lease like its other writes: a claimer whose lease expired (the job
 * failed by whoever looked next, the source taken over by a new job) cannot append to it any more.
 */
await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const harvester = new Harvester(app.service, testHarvestConfig(backend.config))
  const source = await addSource(harvester, app, {
    name: 'zaunlog',
    type: 'ckan',
    url: 'http://quelle.example.org/',
    owner_org: 'marburg',
  })
  const db = harvestDb(backend.store.db)
  const messages = async (jobId: string) => {
    const res = await call(app, null, 'harvest_log_list', { job_id: jobId })
    if (res.status !== 200) throw new Error(`harvest_log_list answered ${res.status}`)
    return (res.body.result as Array<{ message: string }>).map((r) => r.message)
  }

  await t.test('the old holder is refused once its lease expired and the job was taken over', async (t) => {
    // Two processes: each claimer on its own connection.
    const [oldStore, newStore] = await Promise.all([
      openStore(backend.config.database),
      openStore(backend.config.database),
    ])
    t.teardown(() => Promise.all([oldStore.close(), newStore.close()]))
    const oldJobs = new HarvestJobs(oldStore)
    const newJobs = new HarvestJobs(newStore)

    const job = await oldJobs.createJob(source.id)
    const claimed = await oldJobs.claim('alt', 60_000, job.id)
    t.ok(claimed?.claimed_by, 'claimed')
    const oldToken = claimed!.claimed_by!
    await oldJobs.log(job.id, oldToken, 'info', 'vor dem Ablauf')
    t.same(await messages(job.id), ['vor dem Ablauf'], 'the holder of the lease writes its report')
    await t.rejects(
      oldJobs.log(job.id, 'alt#00000000-0000-0000-0000-000000000000', 'info', 'fremd'),
      LeaseLostError,
      'a token not the claim of the job is refused',
    )

    // The lease runs out (by the database's clock, stamped in the past); the next claimer fails the job and
    // takes the source over with a job of its own.
    await db
      .updateTable('harvest_job')
      .set({ lease_until: '2000-01-01T00:00:00.000000' })
      .where('id', '=', job.id)
      .execute()
    const next = await newJobs.createJob(source.id)
    t.equal((await newJobs.job(job.id))?.status, 'failed', 'the expired job was failed')
    const taken = await newJobs.claim('neu', 60_000, next.id)
    t.ok(taken?.claimed_by, 'the new job is claimed')

    await t.rejects(
      oldJobs.log(job.id, oldToken, 'error', 'withdrew 3 datasets that vanished from the source'),
      LeaseLostError,
      "the old holder's log line is refused",
    )
    await t.rejects(
      oldJobs.log(next.id, oldToken, 'error', 'in den fremden Bericht'),
      LeaseLostError,
      "nor can it write into the new job's report",
    )
    await newJobs.log(next.id, taken!.claimed_by!, 'info', 'vom neuen Halter', 'guid-1')

    t.same(await messages(job.id), ['vor dem Ablauf'], 'no line of the old holder after its lease was lost')
    t.same(await messages(next.id), ['vom neuen Halter'], "the new holder's lines appear in its job")

    // An ended job takes no more lines either, from anyone.
    t.ok(await newJobs.finish(next.id, taken!.claimed_by!, 'finished', JSON.parse(taken!.counts), null))
    await t.rejects(newJobs.log(next.id, taken!.claimed_by!, 'info', 'danach'), LeaseLostError)
    t.same(await messages(next.id), ['vom neuen Halter'])
  })

  await t.test('an abort asked for does not silence the report (the job says why it stopped)', async (t) => {
    const job = await harvester.jobs.createJob(source.id)
    const claimed = await harvester.jobs.claim('abbruch', 60_000, job.id)
    await harvester.jobs.abort(job.id)
    await harvester.jobs.log(job.id, claimed!.claimed_by!, 'error', 'the job was aborted')
    t.same(await messages(job.id), ['the job was aborted'])
    t.ok(await harvester.jobs.finish(job.id, claimed!.claimed_by!, 'aborted', JSON.parse(claimed!.counts), 'aborted'))
  })
})
