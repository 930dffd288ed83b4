/**
 * A Kommune's edit reaches its datasets' stored scores without a write of the datasets: a dataset without a
 * contact of its own takes its Kommune's e-mail as contact point (quality/facts.ts), so organization_patch
 * removing the e-mail queues the Kommune (org_rescore_pending, in the edit's transaction) and the background
 * step (rescorePending, what quality/rescorer.ts runs) rescores its datasets in write transactions with a
 * change-feed row: stored score, day history, search index and stats follow. A read never scores; an edit of
 * something no score reads queues nothing.
 */
import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { rescorePending } from '../../src/quality/backfill.js'
import { qualityDb } from '../../src/quality/recorder.js'
import { ckanNow } from '../../src/catalog/time.js'
import type { App } from '../../src/app.js'

const KOMMUNE = 'rescore-kommune'
/** contactPointAvailability's points (src/quality/indicators.ts). */
const CONTACT_POINTS = 20

async function quality(app: App, name: string): Promise<{ score: number; contact: string }> {
  const r = await app.fastify.inject({ url: `/dataset/${name}/quality` })
  if (r.statusCode !== 200) throw new Error(`quality of ${name}: ${r.statusCode}`)
  const body = r.json<{ score: number; indicators: Array<{ id: string; status: string }> }>()
  return { score: body.score, contact: body.indicators.find((i) => i.id === 'contactPointAvailability')!.status }
}

async function search(app: App, params: Record<string, string>): Promise<string[]> {
  const query = new URLSearchParams({ fq: `organization:${KOMMUNE}`, ...params })
  const r = await app.fastify.inject({ url: `/api/3/action/package_search?${query}` })
  return (r.json().result.results as Array<{ name: string }>).map((d) => d.name)
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const db = qualityDb(app.store.db)
  const sysadmin = await userWithToken(app, 'org-rescore-admin', { sysadmin: true })
  const pending = async () =>
    (await db.selectFrom('org_rescore_pending').select('owner_org').execute()).map((r) => r.owner_org)
  const created = await call(app, sysadmin, 'organization_create', {
    name: KOMMUNE,
    title: 'Rescore-Gemeinde',
    email: 'open-data@rescore.example',
  })
  t.equal(created.status, 200)
  const orgId = created.body.result.id as string
  // One dataset takes the Kommune's e-mail as contact point, the other names a contact of its own.
  const ids: string[] = []
  for (const body of [
    validDataset(KOMMUNE, { name: 'org-rescore-fallback' }),
    validDataset(KOMMUNE, {
      name: 'org-rescore-own',
      maintainer: 'Team Rescore',
      maintainer_email: 'team@rescore.example',
    }),
  ]) {
    const r = await call(app, sysadmin, 'package_create', body)
    t.equal(r.status, 200, JSON.stringify(r.body.error ?? ''))
    ids.push(r.body.result.id as string)
  }
  const id = ids[0]
  const storedScore = async () =>
    Number(
      (
        await db
          .selectFrom('package_quality')
          .select('score_portal')
          .where('package_id', '=', id)
          .executeTakeFirstOrThrow()
      ).score_portal,
    )
  const fallback = await quality(app, 'org-rescore-fallback')
  const own = await quality(app, 'org-rescore-own')
  t.equal(fallback.contact, 'earned', "the Kommune's e-mail is the contact point")
  t.equal(own.contact, 'earned')
  t.equal(fallback.score, own.score, 'both score the same while the Kommune has an e-mail')
  const stats = async () => {
    await app.service.catchUpChangeFeed()
    t.ok(await app.fastify.stats.refresh(), 'the stats refresh got the lease')
    const r = await app.fastify.inject({ url: `/api/stats/kommunen/${KOMMUNE}` })
    return r.json<{ score_mean_portal: number }>().score_mean_portal
  }
  t.equal(await stats(), fallback.score)

  await t.test('an edit of something no score reads queues nothing', async (t) => {
    const r = await call(app, sysadmin, 'organization_patch', {
      id: KOMMUNE,
      description: 'Neu beschrieben',
      title: 'Rescore-Gemeinde (neu)',
    })
    t.equal(r.status, 200)
    t.same(await pending(), [], 'nothing queued')
    t.equal(await rescorePending(app.service), 0, 'nothing to rescore')
  })

  await t.test('removing the e-mail queues the Kommune; a read does not rescore', async (t) => {
    const r = await call(app, sysadmin, 'organization_patch', { id: KOMMUNE, email: '' })
    t.equal(r.status, 200)
    t.same(await pending(), [orgId], 'the Kommune is queued, in the edit itself')
    t.same(await quality(app, 'org-rescore-fallback'), fallback, 'a read shows the stored score: it never scores')
    t.equal(await storedScore(), fallback.score, 'stored score unchanged before the step runs')
  })

  await t.test('the rescoring step stores the new scores; history, search and stats follow', async (t) => {
    const position = await app.service.changePosition()
    t.equal(await rescorePending(app.service), 2, "the Kommune's two datasets")
    t.same(await pending(), [], 'handled')
    const after = await quality(app, 'org-rescore-fallback')
    t.equal(after.contact, 'missed')
    t.equal(after.score, fallback.score - CONTACT_POINTS, 'the contact point indicator is lost')
    t.same(await quality(app, 'org-rescore-own'), own, 'a contact of its own keeps its score')
    t.equal(await storedScore(), after.score)
    const feed = await app.store.db.selectFrom('change_feed').selectAll().where('seq', '>', position).execute()
    t.ok(
      feed.some((row) => row.kind === 'datasets' && (JSON.parse(row.keys) as string[]).includes(id)),
      'the rescore is in the change feed',
    )
    const history = await db
      .selectFrom('quality_history')
      .select('score_portal')
      .where('package_id', '=', id)
      .where('day', '=', ckanNow().slice(0, 10))
      .executeTakeFirstOrThrow()
    t.equal(Number(history.score_portal), after.score, "the dataset's row of the day")

    t.same(
      await search(app, { sort: 'quality_score desc' }),
      ['org-rescore-own', 'org-rescore-fallback'],
      'sorted by the new score',
    )
    t.same(await search(app, { sort: 'quality_score asc' }), ['org-rescore-fallback', 'org-rescore-own'])
    const exact = `quality_score:[${after.score} TO ${after.score}]`
    const r = await app.fastify.inject({ url: `/api/3/action/package_search?${new URLSearchParams({ fq: exact })}` })
    t.ok(
      (r.json().result.results as Array<{ name: string }>).some((d) => d.name === 'org-rescore-fallback'),
      'filtered by the new score',
    )
    t.equal(await stats(), (after.score + own.score) / 2, "the Kommune's mean in the stats")
  })

  await t.test(
    'organization_update giving the e-mail back queues the Kommune again; the score comes back',
    async (t) => {
      // organization_update replaces the whole Kommune (what it is not given is emptied): the e-mail counts.
      const r = await call(app, sysadmin, 'organization_update', {
        id: KOMMUNE,
        title: 'Rescore-Gemeinde',
        email: 'open-data@rescore.example',
      })
      t.equal(r.status, 200)
      t.same(await pending(), [orgId])
      t.equal(await rescorePending(app.service), 2)
      t.same(await quality(app, 'org-rescore-fallback'), fallback, 'the score is back')
    },
  )
})
