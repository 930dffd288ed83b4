import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { qualityDb } from '../../src/quality/recorder.js'
import type { LinkHealthSource } from '../../src/quality/link-health.js'

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const editor = await userWithToken(app, 'qualitaet', { org: 'marburg', role: 'editor' })
  const stranger = await userWithToken(app, 'fremde', { org: 'fulda', role: 'editor' })
  const db = qualityDb(app.store.db)
  const marburg = app.service.reference.organization('marburg')!.id
  const orgRow = async (org = marburg) =>
    db
      .selectFrom('quality_history_org')
      .selectAll()
      .where('owner_org', '=', org)
      .orderBy('day', 'desc')
      .limit(1)
      .executeTakeFirst()

  await t.test('package_create answers with the score it stored; every write recomputes it', async (t) => {
    const created = await call(app, editor, 'package_create', validDataset('marburg', { name: 'q-radverkehr' }))
    t.equal(created.status, 200)
    const quality = created.body.result.quality
    t.same(Object.keys(quality).sort(), ['band', 'mode', 'score'])
    t.equal(quality.mode, 'portal')
    const stored = await db
      .selectFrom('package_quality')
      .selectAll()
      .where('package_id', '=', created.body.result.id)
      .executeTakeFirstOrThrow()
    t.equal(Number(stored.score_portal), quality.score)
    t.equal(stored.band_portal, quality.band)
    t.equal(stored.visible, 1)
    t.equal(JSON.parse(stored.explanation).compliance, 'passed', 'the write was validated once; its result counts')

    // Adding a download URL, media type, size and rights raises the score by exactly their points.
    const updated = await call(app, editor, 'package_patch', {
      id: 'q-radverkehr',
      resources: [
        {
          url: 'https://example.org/zaehlung.csv',
          download_url: 'https://example.org/zaehlung.csv',
          format: 'CSV',
          mimetype: 'text/csv',
          size: 100,
          rights: 'Stadt Marburg',
          name: 'Zählwerte',
          license: 'http://dcat-ap.de/def/licenses/dl-by-de/2.0',
        },
      ],
    })
    t.equal(updated.status, 200)
    t.equal(updated.body.result.quality.score, quality.score + 20 + 10 + 5 + 5)
    const history = await db
      .selectFrom('quality_history')
      .selectAll()
      .where('package_id', '=', created.body.result.id)
      .execute()
    t.equal(history.length, 1, 'one row per dataset per day, updated in place')
    t.equal(Number(history[0].score_portal), updated.body.result.quality.score)
  })

  await t.test('a draft is not validated: compliance unchecked, 30 points missed and said so', async (t) => {
    const draft = await call(
      app,
      editor,
      'package_create',
      validDataset('marburg', { name: 'q-entwurf', state: 'draft' }),
    )
    t.equal(draft.status, 200)
    const active = await call(app, editor, 'package_create', validDataset('marburg', { name: 'q-aktiv' }))
    t.equal(draft.body.result.quality.score, active.body.result.quality.score - 30)
    const shown = await call(app, editor, 'package_quality_show', { id: 'q-entwurf', lang: 'en' })
    const compliance = shown.body.result.indicators.find((i: { id: string }) => i.id === 'dcatApCompliance')
    t.equal(compliance.status, 'missed')
    t.match(compliance.note, /Not checked/)
  })

  await t.test('GET /dataset/{id}/quality: modes and languages; reads never score', async (t) => {
    // A read that scored would ask for link health and restamp the stored score: neither happens.
    const defaultLinks = app.service.quality.links
    let lookups = 0
    app.service.quality.links = {
      lookup: async (urls) => {
        lookups++
        return defaultLinks.lookup(urls)
      },
    }
    t.teardown(() => {
      app.service.quality.links = defaultLinks
    })
    const stampBefore = (
      await db
        .selectFrom('package_quality')
        .innerJoin('package', 'package.id', 'package_quality.package_id')
        .select('computed_at')
        .where('package.name', '=', 'q-radverkehr')
        .executeTakeFirstOrThrow()
    ).computed_at
    const de = await app.fastify.inject({ method: 'GET', url: '/dataset/q-radverkehr/quality' })
    t.equal(de.statusCode, 200)
    const body = de.json()
    t.equal(body.mode, 'portal')
    t.equal(body.lang, 'de')
    t.equal(body.max_score, 405)
    t.equal(body.indicators.length, 23)
    await call(app, editor, 'package_quality_show', { id: 'q-radverkehr', mode: 'proportional' })
    await app.fastify.inject({
      method: 'GET',
      url: '/api/3/action/package_search?q=radverkehr&sort=quality_score%20desc',
    })
    t.equal(lookups, 0, 'reads do not score')
    const stampAfter = (
      await db
        .selectFrom('package_quality')
        .innerJoin('package', 'package.id', 'package_quality.package_id')
        .select('computed_at')
        .where('package.name', '=', 'q-radverkehr')
        .executeTakeFirstOrThrow()
    ).computed_at
    t.equal(stampAfter, stampBefore, 'the stored score is as the last write left it')
    t.equal(body.computed_at, stampBefore)
    const access = body.indicators.find((i: { id: string }) => i.id === 'accessUrlStatusCode')
    t.equal(access.status, 'unknown', 'no link checker yet: unknown, not failed')
    const missedWithFix = body.indicators.filter((i: { status: string; fix?: unknown }) => i.status === 'missed')
    t.ok(
      missedWithFix.length > 0 &&
        missedWithFix.every((i: { fix?: { summary: string } }) => /Punkte?$/.test(i.fix!.summary)),
    )
    const en = (
      await app.fastify.inject({ method: 'GET', url: '/dataset/q-radverkehr/quality?mode=proportional&lang=en' })
    ).json()
    t.equal(en.mode, 'proportional')
    t.equal(en.other_mode.mode, 'portal')
    t.equal(en.other_mode.score, body.score)
    t.ok(en.fixes.every((f: { summary: string }) => /points?$/.test(f.summary)))
    const bad = await app.fastify.inject({ method: 'GET', url: '/dataset/q-radverkehr/quality?mode=best' })
    t.equal(bad.statusCode, 400)
    const missing = await app.fastify.inject({ method: 'GET', url: '/dataset/gibt-es-nicht/quality' })
    t.equal(missing.statusCode, 404)
  })

  await t.test("a private dataset's score is shown exactly to those who may read the dataset", async (t) => {
    const created = await call(
      app,
      editor,
      'package_create',
      validDataset('marburg', { name: 'q-privat', private: true }),
    )
    t.equal(created.status, 200)
    t.ok(created.body.result.quality, 'the editor sees the score in the answer')
    for (const [who, caller] of [
      ['anonymous', null],
      ['an editor of another Kommune', stranger],
    ] as const) {
      const viaAction = await call(app, caller, 'package_quality_show', { id: 'q-privat' })
      const viaShow = await call(app, caller, 'package_show', { id: 'q-privat' })
      t.equal(viaAction.status, viaShow.status, `${who}: as package_show`)
      t.equal(viaAction.status, 403)
      t.notOk(JSON.stringify(viaAction.body).includes('score'), `${who}: no score leaks`)
      const viaRoute = await app.fastify.inject({
        method: 'GET',
        url: '/dataset/q-privat/quality',
        headers: caller?.token ? { authorization: caller.token } : {},
      })
      t.equal(viaRoute.statusCode, 403)
      t.notOk(viaRoute.body.includes('"score"'))
    }
    const own = await call(app, editor, 'package_quality_show', { id: 'q-privat' })
    t.equal(own.status, 200)
    t.equal(own.body.result.score, created.body.result.quality.score)
  })

  await t.test(
    "the Kommune's daily row follows every write by its difference; private and deleted datasets do not count",
    async (t) => {
      const visible = await db
        .selectFrom('package_quality')
        .select(['score_portal', 'score_proportional', 'band_portal'])
        .where('owner_org', '=', marburg)
        .where('visible', '=', 1)
        .execute()
      let row = (await orgRow())!
      const check = async (label: string) => {
        const expected = await db
          .selectFrom('package_quality')
          .select(['score_portal', 'score_proportional', 'band_portal', 'band_proportional'])
          .where('owner_org', '=', marburg)
          .where('visible', '=', 1)
          .execute()
        row = (await orgRow())!
        t.equal(Number(row.dataset_count), expected.length, `${label}: count`)
        t.equal(
          Number(row.score_portal_sum),
          expected.reduce((s, r) => s + Number(r.score_portal), 0),
          `${label}: portal sum`,
        )
        t.equal(
          Number(row.score_proportional_sum_centi),
          expected.reduce((s, r) => s + Math.round(Number(r.score_proportional) * 100), 0),
          `${label}: proportional sum`,
        )
        for (const band of ['excellent', 'good', 'sufficient', 'bad'] as const) {
          t.equal(
            Number(row[`portal_${band}`]),
            expected.filter((r) => r.band_portal === band).length,
            `${label}: ${band}`,
          )
          t.equal(
            Number(row[`proportional_${band}`]),
            expected.filter((r) => r.band_proportional === band).length,
            `${label}: proportional ${band}`,
          )
        }
        const mean = expected.length
          ? Math.round((expected.reduce((s, r) => s + Number(r.score_portal), 0) / expected.length) * 100) / 100
          : 0
        t.equal(Number(row.mean_portal), mean, `${label}: mean`)
      }
      t.ok(visible.length >= 2)
      await check('after the creates')
      t.equal(row.day, new Date().toISOString().slice(0, 10))
      await call(app, editor, 'package_delete', { id: 'q-aktiv' })
      await check('after a delete')
      await call(app, editor, 'package_patch', { id: 'q-radverkehr', private: true })
      await check('after making one private')
      await call(app, editor, 'package_patch', { id: 'q-radverkehr', private: false, tags: [] })
      await check('after making it public again with fewer points')
      const days = await db.selectFrom('quality_history_org').select('day').where('owner_org', '=', marburg).execute()
      t.equal(days.length, 1, 'one row per Kommune per day')
    },
  )

  await t.test('concurrent writes of one Kommune: its row of the day holds every difference', async (t) => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call(
          app,
          editor,
          'package_create',
          validDataset('marburg', { name: `q-parallel-${i}`, ...(i % 2 ? { tags: [] } : {}) }),
        ),
      ),
    )
    t.ok(
      results.every((r) => r.status === 200),
      'all written',
    )
    const expected = await db
      .selectFrom('package_quality')
      .select(['score_portal', 'band_portal'])
      .where('owner_org', '=', marburg)
      .where('visible', '=', 1)
      .execute()
    const row = (await orgRow())!
    t.equal(Number(row.dataset_count), expected.length)
    t.equal(
      Number(row.score_portal_sum),
      expected.reduce((s, r) => s + Number(r.score_portal), 0),
    )
    t.equal(
      ['excellent', 'good', 'sufficient', 'bad'].reduce((s, b) => s + Number(row[`portal_${b}` as 'portal_good']), 0),
      expected.length,
      'band counts add up',
    )
  })

  await t.test('moving a dataset to another Kommune moves its contribution', async (t) => {
    const sysadmin = await userWithToken(app, 'q-admin', { sysadmin: true })
    const created = await call(app, sysadmin, 'package_create', validDataset('marburg', { name: 'q-umzug' }))
    const before = (await orgRow())!
    await call(app, sysadmin, 'package_patch', { id: 'q-umzug', owner_org: 'fulda' })
    const after = (await orgRow())!
    const fulda = (await orgRow(app.service.reference.organization('fulda')!.id))!
    t.equal(Number(after.dataset_count), Number(before.dataset_count) - 1)
    t.equal(Number(fulda.dataset_count), 1)
    t.equal(Number(fulda.score_portal_sum), created.body.result.quality.score)
    await call(app, sysadmin, 'dataset_purge', { id: 'q-umzug' })
    const purged = (await orgRow(app.service.reference.organization('fulda')!.id))!
    t.equal(Number(purged.dataset_count), 0, 'a purge takes the dataset out')
    t.equal(
      await db
        .selectFrom('quality_history')
        .select('day')
        .where('package_id', '=', created.body.result.id)
        .executeTakeFirst(),
      undefined,
      'and its history with it',
    )
  })

  await t.test("the link checker's source is read inside the write", async (t) => {
    const seen: string[][] = []
    const source: LinkHealthSource = {
      lookup: async () => {
        throw new Error('the write path must use lookupWithin')
      },
      lookupWithin: async (trx, urls) => {
        await trx.selectFrom('package').select('id').limit(1).execute()
        seen.push([...urls])
        return new Map(urls.map((u) => [u, u.includes('kaputt') ? 'unreachable' : 'reachable']))
      },
    }
    app.service.quality.links = source
    t.teardown(() => {
      app.service.quality.links = { lookup: async (urls) => new Map(urls.map((u) => [u, 'unknown'])) }
    })
    const ok = await call(
      app,
      editor,
      'package_create',
      validDataset('marburg', {
        name: 'q-links',
        resources: [
          { url: 'https://example.org/ok.csv', download_url: 'https://example.org/kaputt.csv', format: 'CSV' },
        ],
      }),
    )
    t.equal(ok.status, 200)
    t.same(seen, [['https://example.org/ok.csv', 'https://example.org/kaputt.csv']])
    const shown = (await call(app, editor, 'package_quality_show', { id: 'q-links' })).body.result
    t.equal(shown.indicators.find((i: { id: string }) => i.id === 'accessUrlStatusCode').status, 'earned')
    t.equal(shown.indicators.find((i: { id: string }) => i.id === 'downloadUrlStatusCode').status, 'missed')
  })

  await t.test('a failed write leaves no score behind', async (t) => {
    const before = await db
      .selectFrom('package_quality')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    app.service.writeHooks.afterResources = async () => {
      throw new Error('boom')
    }
    t.teardown(() => {
      app.service.writeHooks = {}
    })
    const failed = await call(app, editor, 'package_create', validDataset('marburg', { name: 'q-kaputt' }))
    t.equal(failed.status, 500)
    const after = await db
      .selectFrom('package_quality')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    t.equal(Number(after.n), Number(before.n))
  })
})
