import t from 'tap'
import { sharedDatabase, startGodonu } from '../helpers/servers.js'
import { mysqlUrl } from '../helpers/backends.js'
import { HarvestJobs } from '../../src/harvest/jobs.js'
import { localServer } from './support.js'

/**
 * A hostile source whose page exhausts memory when parsed (30 MB of JSON, 15 million array items) harvested
 * by `serve` with the scheduler on: the harvest runs in a process of its own (HARVEST_WORKER_MEMORY_MB), so
 * only that process dies; the job ends failed (its lease expires, the restarted harvest process fails it) and
 * the service answers throughout. The server itself runs with a small heap too (NODE_OPTIONS): a harvest in
 * the server's process would take it down.
 */
const hostileBody = Buffer.from(`{"success":true,"result":{"count":1,"results":[1${',1'.repeat(15_000_000)}]}}`)

for (const kind of ['sqlite', ...(mysqlUrl() ? ['mysql' as const] : [])] as const) {
  await t.test(kind, async (t) => {
    const shared = await sharedDatabase(kind, mysqlUrl())
    t.teardown(() => shared.cleanup())
    const { base } = await localServer(t, (req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(hostileBody)
    })
    const jobs = new HarvestJobs(shared.store)
    const org = await shared.store.db
      .selectFrom('organization')
      .select('id')
      .where('name', '=', 'marburg')
      .executeTakeFirstOrThrow()
    const source = await jobs.createSource({ name: 'feindlich', type: 'ckan', url: base, owner_org: org.id })
    const job = await jobs.createJob(source.id, { full: true })
    const server = await startGodonu(shared.url, {
      label: 'A',
      env: {
        WORKERS: '1',
        HARVEST_SCHEDULER: 'on',
        HARVEST_PRIVATE_ADDRESSES: 'allow',
        HARVEST_WORKER_MEMORY_MB: '64',
        HARVEST_LEASE_MS: '1000',
        HARVEST_RETRIES: '0',
        NODE_OPTIONS: '--max-old-space-size=128',
      },
    })
    t.teardown(() => server.stop())
    let answers = 0
    let refused = 0
    let status = 'new'
    for (let i = 0; i < 600 && (status === 'new' || status === 'running'); i++) {
      const res = await fetch(`${server.base}/api/3/action/status_show`)
      await res.arrayBuffer()
      if (res.status === 200) answers++
      else refused++
      await new Promise((r) => setTimeout(r, 200))
      status = (await jobs.job(job.id))?.status ?? 'gone'
    }
    t.equal(status, 'failed', 'the hostile job failed')
    t.equal(refused, 0, `the service answered every request while the job ran (${answers})`)
    const after = await fetch(`${server.base}/api/3/action/package_search?rows=0`)
    t.equal(after.status, 200, 'the service still answers after the harvest process died')
    // Whether the harvest process died (its heap) or failed the job cleanly, the server's output says:
    t.comment(
      /harvest process ended/.test(server.output())
        ? 'the harvest process died and was restarted'
        : 'the harvest process survived',
    )
  })
}
