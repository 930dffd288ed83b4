import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { seedDatasets } from '../../src/catalog/seed.js'
import { scoreUnscored } from '../../src/quality/backfill.js'
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
})
