import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { seedDatasets } from '../../src/catalog/seed.js'
import { rescoreDatasets, scoreUnscored } from '../../src/quality/backfill.js'
import { qualityDb } from '../../src/quality/recorder.js'
import { insertDatasets } from '../helpers/app.js'
import { qualityCommand, QUALITY_USAGE } from '../../src/cli/quality-command.js'
import { spawn } from 'node:child_process'

/** Runs the CLI as a user would (tsx, as test/links/cli.test.ts does). */
function runCli(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.once('error', reject)
    child.once('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout })
    })
  })
}

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

  await t.test(
    'godonu quality backfill: datasets without a score answer 404 until it ran; batched, idempotent',
    async (t) => {
      const ids = await insertDatasets(
        app,
        Array.from({ length: 7 }, (_, i) => ({
          name: `backfill-cli-${i}`,
          title: `Vor 0010 <b>"${i}"</b>`,
          owner_org: 'giessen',
          resources: [{ name: 'r', url: `https://example.org/backfill/${i}.csv`, format: 'CSV' }],
        })),
      )
      t.equal((await app.fastify.inject({ url: '/dataset/backfill-cli-0/quality' })).statusCode, 404, 'no score yet')
      const databaseUrl =
        backend.config.database.kind === 'sqlite'
          ? `sqlite:${backend.config.database.file}`
          : backend.config.database.url
      const run = await runCli(['quality', 'backfill'], { DATABASE_URL: databaseUrl })
      t.equal(run.status, 0)
      t.match(run.stdout, /backfill done: 7 datasets without a score were scored\n$/)
      const shown = await app.fastify.inject({ url: '/dataset/backfill-cli-0/quality' })
      t.equal(shown.statusCode, 200, 'scored')
      t.equal(shown.json().dcat_ap_compliance, 'unchecked')
      t.equal(
        (await db.selectFrom('package_quality').select('package_id').where('package_id', 'in', ids).execute()).length,
        7,
      )
      const lines: string[] = []
      t.equal(await qualityCommand(backend.config, ['backfill'], (l) => lines.push(l)), 0)
      t.same(lines, ['backfill done: 0 datasets without a score were scored'], 'a second run finds nothing')
      await t.rejects(
        qualityCommand(backend.config, ['rescore'], () => {}),
        { message: QUALITY_USAGE },
      )
      const usage = await runCli(['quality'], { DATABASE_URL: databaseUrl })
      t.equal(usage.status, 1, 'usage error')
    },
  )

  await t.test('two backfills at once score each dataset once and count it once for its Kommune', async (t) => {
    const ids = await insertDatasets(
      app,
      Array.from({ length: 30 }, (_, i) => ({
        name: `backfill-twice-${i}`,
        title: `Doppelt ${i}`,
        owner_org: 'fulda',
        resources: [{ name: 'r', url: `https://example.org/twice/${i}.csv`, format: i % 2 ? 'CSV' : 'PDF' }],
      })),
    )
    const other = await startApp(t, backend)
    const [x, y] = await Promise.all([scoreUnscored(app.service), scoreUnscored(other.service)])
    t.equal(x + y, 30, `each scored by one of them (${x} + ${y})`)
    const fulda = app.service.reference.organization('fulda')!.id
    const scores = await db
      .selectFrom('package_quality')
      .select('score_portal')
      .where('owner_org', '=', fulda)
      .where('visible', '=', 1)
      .execute()
    t.ok(scores.length >= ids.length)
    const row = await db
      .selectFrom('quality_history_org')
      .selectAll()
      .where('owner_org', '=', fulda)
      .orderBy('day', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow()
    t.equal(Number(row.dataset_count), scores.length)
    t.equal(
      Number(row.score_portal_sum),
      scores.reduce((s, r) => s + Number(r.score_portal), 0),
    )
  })
})
