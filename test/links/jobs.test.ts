import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp, insertDatasets } from '../helpers/app.js'
import { openStore } from '../../src/db/connect.js'
import { LinkChecker } from '../../src/links/checker.js'
import { claimJobs, completeJob, makeDue, syncJobs } from '../../src/links/jobs.js'
import { linkHealthSource } from '../../src/links/health-source.js'
import { linksDb, urlHash } from '../../src/links/tables.js'
import { checkUrl } from '../../src/links/check.js'
import { startFixtureServer } from './fixture-server.js'
import { testLinkSettings } from './settings.js'

const HOUR = 3_600_000

const settings = testLinkSettings

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const server = await startFixtureServer(t, { holdMs: 60 })
  const b = server.base
  const held = Array.from({ length: 24 }, (_, i) => `${b}/held/${i}`)
  await insertDatasets(app, [
    {
      name: 'links-marburg',
      title: 'Links Marburg',
      owner_org: 'marburg',
      resources: [
        ...held.slice(0, 12).map((url, i) => ({ name: `r${i}`, url, format: 'CSV' })),
        { name: 'wrong', url: `${b}/html`, format: 'CSV', access_url: `${b}/html`, download_url: `${b}/file/x.csv` },
        { name: 'gone', url: `${b}/missing`, format: 'CSV' },
      ],
    },
    {
      name: 'links-fulda-private',
      title: 'Privat',
      owner_org: 'fulda',
      private: true,
      resources: held.slice(12).map((url, i) => ({ name: `p${i}`, url, format: 'CSV' })),
    },
  ])
  const db = linksDb(app.store.db)

  await t.test('the job list holds every distinct URL of the datasets, private ones too', async (t) => {
    const hashes = await syncJobs(app.store, { prune: true })
    t.equal(hashes.length, 24 + 3, 'url, access_url and download_url, each URL once')
    const jobs = await db.selectFrom('link_check_job').selectAll().execute()
    t.equal(jobs.length, 27)
    t.equal(
      jobs.find((j) => j.url === `${b}/html`)?.declared_media_type,
      'text/csv',
      'declared media type from the format',
    )
    const marburg = app.service.reference.organization('marburg')!
    t.equal((await syncJobs(app.store, { orgId: marburg.id })).length, 15, "one Kommune's URLs")
    t.equal((await syncJobs(app.store, { prune: true })).length, 27, 'syncing again adds nothing')
    t.equal((await db.selectFrom('link_check_job').select('url_hash').execute()).length, 27)
  })

  await t.test('two checkers on one database never check the same job twice', async (t) => {
    const other = await openStore(backend.config.database)
    t.teardown(() => other.close())
    const first = new LinkChecker(app.store, settings({ perHost: 4 }), 'first')
    const second = new LinkChecker(other, settings({ perHost: 4 }), 'second')
    const [a, c] = await Promise.all([first.runDue(), second.runDue()])
    t.equal(a.checked + c.checked, 27, `every job checked once (${a.checked} + ${c.checked})`)
    for (const url of held) t.equal(server.hits.get(`HEAD ${new URL(url).pathname}`), 1, `${url} asked once`)
    t.equal(server.hits.get('HEAD /html'), 1)
    const results = await db.selectFrom('link_check').selectAll().execute()
    t.equal(results.length, 27)
    t.equal((await db.selectFrom('link_check_history').select('id').execute()).length, 27, 'one history row per check')
    const wrong = results.find((r) => r.url === `${b}/html`)!
    t.match(wrong, {
      status: 'reachable',
      http_status: 200,
      content_type: 'text/html',
      declared_media_type: 'text/csv',
      media_type_mismatch: 1,
      consecutive_failures: 0,
    })
    const gone = results.find((r) => r.url === `${b}/missing`)!
    t.match(gone, { status: 'unreachable', http_status: 404, error_code: 'http_error', consecutive_failures: 1 })
    t.equal(
      Date.parse(gone.next_check_at) - Date.parse(gone.checked_at),
      HOUR,
      'a failing URL is re-checked after the retry time',
    )
    const okRow = results.find((r) => r.url === held[0])!
    t.equal(
      Date.parse(okRow.next_check_at) - Date.parse(okRow.checked_at),
      168 * HOUR,
      'a reachable URL after the interval',
    )
    const jobs = await db.selectFrom('link_check_job').selectAll().execute()
    t.ok(
      jobs.every((j) => j.claimed_by === null && j.lease_until === null),
      'every job released',
    )

    const again = await first.runDue()
    t.equal(again.checked, 0, 'nothing is due right after')
    t.equal(server.hits.get(`HEAD /held/0`), 1)
  })

  await t.test('backoff: failures in a row double the wait', async (t) => {
    const hash = urlHash(`${b}/missing`)
    await makeDue(app.store, [hash])
    const checker = new LinkChecker(app.store, settings())
    t.equal((await checker.runDue({ among: [hash] })).checked, 1, 'only the URL asked for')
    const row = await db.selectFrom('link_check').selectAll().where('url_hash', '=', hash).executeTakeFirstOrThrow()
    t.equal(row.consecutive_failures, 2)
    t.equal(Date.parse(row.next_check_at) - Date.parse(row.checked_at), 2 * HOUR)
    const history = await db
      .selectFrom('link_check_history')
      .selectAll()
      .where('url_hash', '=', hash)
      .orderBy('id')
      .execute()
    t.equal(history.length, 2, 'history per URL')
    t.ok(history.every((h) => h.status === 'unreachable' && h.http_status === 404))
  })

  await t.test('a claim whose lease ran out records nothing', async (t) => {
    const hash = urlHash(held[1])
    await makeDue(app.store, [hash])
    // Leases run by the database's clock: a short one, waited out.
    const stale = await claimJobs(app.store, 'stale', { limit: 10, leaseMs: 300, among: [hash] })
    t.equal(stale.jobs.length, 1)
    const blocked = await claimJobs(app.store, 'early', { limit: 10, leaseMs: 1000, among: [hash] })
    t.equal(blocked.jobs.length, 0, 'a leased job is not claimed again')
    await new Promise((resolve) => setTimeout(resolve, 400))
    const fresh = await claimJobs(app.store, 'fresh', { limit: 10, leaseMs: 60_000, among: [hash] })
    t.equal(fresh.jobs.length, 1, 'after the lease it can be claimed')
    const result = await checkUrl(held[1], {
      timeoutMs: 2000,
      maxRedirects: 5,
      userAgent: 'x',
      allowPrivateAddresses: true,
    })
    const before = (await db.selectFrom('link_check_history').select('id').where('url_hash', '=', hash).execute())
      .length
    t.equal(
      await completeJob(app.store, stale, stale.jobs[0], result, settings()),
      false,
      'the stale claim records nothing',
    )
    t.equal(
      (await db.selectFrom('link_check_history').select('id').where('url_hash', '=', hash).execute()).length,
      before,
    )
    t.equal(await completeJob(app.store, fresh, fresh.jobs[0], result, settings()), true)
    t.equal(
      (await db.selectFrom('link_check_history').select('id').where('url_hash', '=', hash).execute()).length,
      before + 1,
    )
  })

  await t.test('LinkHealthSource: latest results, unknown until checked', async (t) => {
    const health = await linkHealthSource(app.store.db).lookup([
      held[0],
      `${b}/missing`,
      `${b}/never-checked`,
      held[0],
      `${b}/HTML`,
    ])
    t.same(Object.fromEntries(health), {
      [held[0]]: 'reachable',
      [`${b}/missing`]: 'unreachable',
      [`${b}/never-checked`]: 'unknown',
      [`${b}/HTML`]: 'unknown',
    })
    t.same(await linkHealthSource(app.store.db).lookup([]), new Map())
  })

  await t.test('politeness: per-host concurrency observed by the server stays within the limit', async (t) => {
    const polite = await startFixtureServer(t, { holdMs: 80 })
    const urls = Array.from({ length: 16 }, (_, i) => `${polite.base}/held/p${i}`)
    await insertDatasets(app, [
      {
        name: 'links-polite',
        title: 'Polite',
        owner_org: 'giessen',
        resources: urls.map((url, i) => ({ name: `q${i}`, url, format: 'CSV' })),
      },
    ])
    const hashes = await syncJobs(app.store, { orgId: app.service.reference.organization('giessen')!.id })
    // No host delay: with one, a host gets one request at a time, the next after the answer and the delay
    // (host-delay.test.ts), so the per-host limit is reached only without it.
    const checker = new LinkChecker(app.store, settings({ concurrency: 8, perHost: 2, hostDelayMs: 0 }))
    const summary = await checker.runDue({ among: hashes })
    t.equal(summary.checked, 16)
    t.ok(polite.maxInFlight() <= 2, `at most 2 at once against the host (saw ${polite.maxInFlight()})`)
    t.equal(polite.maxInFlight(), 2, 'and the limit was used')
  })
})
