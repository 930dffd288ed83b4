/**
 * Link check results reach the scores without a write of the dataset: the check records the change of health
 * (link_rescore_pending, in its own transaction), and the link scheduler's holder (or `godonu links check`)
 * rescores the datasets holding the URL in write transactions that also append to the change feed, so every
 * process's search index and caches take the new score up. Reads never score.
 */
import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startTwoServices } from '../helpers/app.js'
import { buildApp } from '../../src/app.js'
import { LinkChecker } from '../../src/links/checker.js'
import { syncJobs } from '../../src/links/jobs.js'
import { linksDb } from '../../src/links/tables.js'
import type { LinkCheckSettings } from '../../src/links/settings.js'
import { rescorePending, scoreUnscored } from '../../src/quality/backfill.js'
import { qualityDb } from '../../src/quality/recorder.js'
import { ckanNow } from '../../src/catalog/time.js'
import { startFixtureServer } from '../links/fixture-server.js'
import { testLinkSettings } from '../links/settings.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const settings = (extra: Partial<LinkCheckSettings> = {}) => testLinkSettings({ perHost: 4, ...extra })

function indicator(explanation: string, id: string): string {
  return (
    JSON.parse(explanation) as { portal: { indicators: Array<{ id: string; status: string }> } }
  ).portal.indicators.find((i) => i.id === id)!.status
}

await forEachBackend(t, async (t, backend) => {
  // B reads the change feed only when told (an hour's poll): what it knows of A's rescores comes from the feed.
  const [a, b] = await startTwoServices(t, backend, { changePollMs: 3_600_000 })
  const server = await startFixtureServer(t)
  const base = server.base
  const [linked, other] = await insertDatasets(a, [
    {
      name: 'rescore-linked',
      title: 'Verlinkt',
      owner_org: 'marburg',
      resources: [{ name: 'csv', url: `${base}/ok`, format: 'CSV', download_url: `${base}/file/a.csv` }],
    },
    {
      name: 'rescore-unrelated',
      title: 'Unverlinkt',
      owner_org: 'marburg',
      resources: [{ name: 'csv', url: 'https://example.invalid/never-checked.csv', format: 'CSV' }],
    },
  ])
  await b.service.catchUpChangeFeed()
  t.equal(await scoreUnscored(a.service), 2, 'both scored, links unknown')
  await b.service.catchUpChangeFeed()
  await b.search.warmIndex()
  const qdb = qualityDb(backend.store.db)
  const stored = (id: string) =>
    qdb.selectFrom('package_quality').selectAll().where('package_id', '=', id).executeTakeFirstOrThrow()
  const before = await stored(linked!)
  const unrelatedBefore = await stored(other!)
  t.equal(indicator(before.explanation, 'accessUrlStatusCode'), 'unknown')

  await t.test('a check records the change of health; reads do not score', async (t) => {
    const hashes = await syncJobs(a.store, { orgId: a.service.reference.organization('marburg')!.id })
    const summary = await new LinkChecker(a.store, settings()).runDue({ among: hashes })
    t.equal(summary.reachable, 2, 'url and download_url reachable')
    t.equal(summary.unreachable, 1, 'the .invalid host is not')
    const pending = await linksDb(a.store.db).selectFrom('link_rescore_pending').select('url_hash').execute()
    t.equal(pending.length, 3, 'each URL first checked: a change of health')
    const shown = await a.fastify.inject({ url: '/dataset/rescore-linked/quality' })
    t.equal(shown.statusCode, 200)
    t.equal(
      shown.json().indicators.find((i: { id: string }) => i.id === 'accessUrlStatusCode').status,
      'unknown',
      'a read shows the stored score: it never scores',
    )
    t.equal(Number((await stored(linked!)).score_portal), Number(before.score_portal))
  })

  await t.test('the pending datasets are rescored in write transactions with a change-feed row', async (t) => {
    const position = await a.service.changePosition()
    t.equal(await rescorePending(a.service), 2, 'both datasets hold a checked URL')
    const after = await stored(linked!)
    t.equal(indicator(after.explanation, 'accessUrlStatusCode'), 'earned')
    t.equal(indicator(after.explanation, 'downloadUrlStatusCode'), 'earned')
    t.equal(Number(after.score_portal), Number(before.score_portal) + 50 + 30, 'accessURL +50, downloadURL +30')
    t.equal(JSON.parse(after.explanation).compliance, JSON.parse(before.explanation).compliance, 'compliance kept')
    const unrelated = await stored(other!)
    t.equal(indicator(unrelated.explanation, 'accessUrlStatusCode'), 'missed', 'an unreachable link: missed')
    t.equal(Number(unrelated.score_portal), Number(unrelatedBefore.score_portal))

    const feed = await a.store.db.selectFrom('change_feed').selectAll().where('seq', '>', position).execute()
    t.ok(
      feed.some((row) => row.kind === 'datasets' && (JSON.parse(row.keys) as string[]).includes(linked!)),
      'the rescore is in the change feed',
    )
    const day = ckanNow().slice(0, 10)
    const history = await qdb
      .selectFrom('quality_history')
      .selectAll()
      .where('package_id', '=', linked!)
      .where('day', '=', day)
      .executeTakeFirstOrThrow()
    t.equal(Number(history.score_portal), Number(after.score_portal), "the dataset's row of the day")
    const marburg = a.service.reference.organization('marburg')!.id
    const org = await qdb
      .selectFrom('quality_history_org')
      .selectAll()
      .where('owner_org', '=', marburg)
      .where('day', '=', day)
      .executeTakeFirstOrThrow()
    const current = await qdb
      .selectFrom('package_quality')
      .select(['score_portal'])
      .where('owner_org', '=', marburg)
      .where('visible', '=', 1)
      .execute()
    t.equal(Number(org.dataset_count), current.length)
    t.equal(
      Number(org.score_portal_sum),
      current.reduce((s, r) => s + Number(r.score_portal), 0),
      "the Kommune's row of the day follows",
    )
    t.same(await linksDb(a.store.db).selectFrom('link_rescore_pending').select('id').execute(), [], 'handled')
    t.equal(await rescorePending(a.service), 0, 'nothing left')

    // Another process's search index learns the new score from the feed.
    const query = `/api/3/action/package_search?fq=${encodeURIComponent(`quality_score:[${Number(after.score_portal)} TO ${Number(after.score_portal)}]`)}`
    await b.service.catchUpChangeFeed()
    const found = (await b.fastify.inject({ url: query })).json().result
    t.ok(
      found.results.some((d: { id: string }) => d.id === linked),
      "the other process's index sorts and filters by the new score",
    )
  })

  await t.test('the background scheduler rescores after its checks', async (t) => {
    const [late] = await insertDatasets(a, [
      {
        name: 'rescore-background',
        title: 'Im Hintergrund',
        owner_org: 'kassel',
        resources: [{ name: 'csv', url: `${base}/file/b.csv`, format: 'CSV' }],
      },
    ])
    await scoreUnscored(a.service)
    t.equal(indicator((await stored(late!)).explanation, 'accessUrlStatusCode'), 'unknown')
    const scheduled = await buildApp(
      {
        ...backend.config,
        linkCheck: { ...settings(), scheduler: true, tickMs: 50 },
      },
      { store: backend.store, logger: false },
    )
    t.teardown(() => scheduled.fastify.close())
    let status = 'unknown'
    for (let i = 0; i < 400 && status === 'unknown'; i++) {
      await sleep(25)
      status = indicator((await stored(late!)).explanation, 'accessUrlStatusCode')
    }
    t.equal(status, 'earned', 'rescored by the scheduler, without a write of the dataset')
    await scheduled.fastify.close()
  })
})
