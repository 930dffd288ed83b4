import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { seedDatasets } from '../../src/catalog/seed.js'
import { rescoreDatasets, scoreUnscored } from '../../src/quality/backfill.js'
import { qualityDb } from '../../src/quality/recorder.js'

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  await seedDatasets(backend.store, app.service.vocab, { count: 120, seed: 3 })
  const db = qualityDb(backend.store.db)

  await t.test("datasets stored past the service are scored once, with their Kommunen's rows", async (t) => {
    const total = Number(
      (
        await db
          .selectFrom('package')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )
    const progress: number[] = []
    t.equal(await scoreUnscored(app.service, (n) => progress.push(n)), total)
    t.equal(progress.at(-1), total)
    t.equal(await scoreUnscored(app.service), 0, 'a second run finds nothing to do')
    const scores = await db
      .selectFrom('package_quality')
      .select(['owner_org', 'visible', 'score_portal', 'explanation'])
      .execute()
    t.equal(scores.length, total)
    t.ok(
      scores.every((s) => JSON.parse(s.explanation).compliance === 'unchecked'),
      'not validated: unchecked',
    )
    const latest = await db.selectFrom('quality_history_org').selectAll().execute()
    for (const org of new Set(scores.filter((s) => s.visible === 1).map((s) => s.owner_org!))) {
      const of = scores.filter((s) => s.owner_org === org && s.visible === 1)
      const row = latest.find((r) => r.owner_org === org)!
      t.equal(Number(row.dataset_count), of.length, `${org}: count`)
      t.equal(
        Number(row.score_portal_sum),
        of.reduce((s, r) => s + Number(r.score_portal), 0),
        `${org}: sum`,
      )
    }
    // And the search finds them by band.
    const facet = await app.fastify.inject({
      url: `/api/3/action/package_search?rows=0&facet.field=${encodeURIComponent('["quality_band"]')}`,
    })
    const counts = facet.json().result.facets.quality_band as Record<string, number>
    t.equal(
      Object.values(counts).reduce((a, b) => a + b, 0),
      scores.filter((s) => s.visible === 1).length,
    )
  })

  await t.test('new link-check results rescore datasets without a write, compliance kept', async (t) => {
    const one = await db
      .selectFrom('package_quality')
      .select(['package_id', 'score_portal'])
      .where('visible', '=', 1)
      .limit(1)
      .executeTakeFirstOrThrow()
    const before = JSON.parse(
      (
        await db
          .selectFrom('package_quality')
          .select('explanation')
          .where('package_id', '=', one.package_id)
          .executeTakeFirstOrThrow()
      ).explanation,
    )
    t.equal(before.portal.indicators.find((i: { id: string }) => i.id === 'accessUrlStatusCode').status, 'unknown')
    app.service.quality.links = { lookup: async (urls) => new Map(urls.map((u) => [u, 'reachable' as const])) }
    t.teardown(() => {
      app.service.quality.links = { lookup: async (urls) => new Map(urls.map((u) => [u, 'unknown' as const])) }
    })
    await rescoreDatasets(app.service, [one.package_id])
    const after = await db
      .selectFrom('package_quality')
      .select(['score_portal', 'explanation'])
      .where('package_id', '=', one.package_id)
      .executeTakeFirstOrThrow()
    const explained = JSON.parse(after.explanation)
    t.equal(explained.portal.indicators.find((i: { id: string }) => i.id === 'accessUrlStatusCode').status, 'earned')
    t.equal(
      Number(after.score_portal),
      Number(one.score_portal) +
        50 +
        (explained.portal.indicators.find((i: { id: string }) => i.id === 'downloadUrlStatusCode').status === 'earned'
          ? 30
          : 0),
    )
    t.equal(explained.compliance, before.compliance)
  })
})
