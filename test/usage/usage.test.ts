import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startTwoServices } from '../helpers/app.js'
import { userWithToken } from '../helpers/users.js'
import { buildApp, type App } from '../../src/app.js'
import { linksDb } from '../../src/links/tables.js'
import { USAGE_KINDS } from '../../src/usage/counter.js'

const HARVESTER = 'ckanext-harvest/1.0 (+https://harvester.example)'
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) Secret-Browser/99'

async function get(app: App, url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const response = await app.fastify.inject({ method, url, headers: { 'user-agent': BROWSER, ...headers } })
  return response
}

await forEachBackend(t, async (t, backend) => {
  const [a, b] = await startTwoServices(t, backend)
  await insertDatasets(a, [
    {
      name: 'usage-marburg',
      title: 'Nutzung Marburg',
      owner_org: 'marburg',
      resources: [
        {
          name: 'csv',
          url: 'https://files.example/data.csv',
          download_url: 'https://files.example/dl.csv?a=1&b=<x>',
          format: 'CSV',
        },
        { name: 'noscheme', url: 'www.example.org/x.csv', format: 'CSV' },
      ],
    },
    {
      name: 'usage-kassel',
      title: 'Nutzung Kassel',
      owner_org: 'kassel',
      resources: [{ name: 'x', url: 'https://files.example/kassel.csv', format: 'CSV' }],
    },
    {
      name: 'usage-fulda-private',
      title: 'Privat Fulda',
      owner_org: 'fulda',
      private: true,
      resources: [{ name: 'p', url: 'https://intern.example/secret.csv', format: 'CSV' }],
    },
  ])
  await b.service.catchUpChangeFeed()
  const admin = await userWithToken(a, 'usage-admin', { sysadmin: true })
  const db = linksDb(backend.store.db)
  const ids = Object.fromEntries(
    (await db.selectFrom('package').select(['id', 'name']).execute()).map((p) => [p.name, p.id]),
  )
  const resources = await db.selectFrom('resource').select(['id', 'package_id', 'name']).execute()
  const rid = (name: string) => resources.find((r) => r.name === name)!.id
  const flushBoth = async () => {
    await a.fastify.usage!.flush()
    await b.fastify.usage!.flush()
  }
  const rows = () => db.selectFrom('usage_daily').selectAll().orderBy('package_id').orderBy('kind').execute()
  const count = async (packageId: string, kind: string) => {
    const found = (await rows()).filter((r) => r.package_id === packageId && r.kind === kind)
    return found.reduce((sum, r) => sum + Number(r.count), 0)
  }

  await t.test('download redirect: 302 to the stored URL, 404 for what the caller may not see', async (t) => {
    const ok = await get(a, `/dataset/usage-marburg/resource/${rid('csv')}/download`)
    t.equal(ok.statusCode, 302)
    t.equal(ok.headers.location, 'https://files.example/dl.csv?a=1&b=%3Cx%3E', 'the download_url, as a URL')
    t.equal(ok.headers['cache-control'], 'no-store')
    const byId = await get(b, `/dataset/${ids['usage-marburg']}/resource/${rid('csv')}/download`)
    t.equal(byId.statusCode, 302, 'by dataset id too')
    const noScheme = await get(a, `/dataset/usage-marburg/resource/${rid('noscheme')}/download`)
    t.equal(noScheme.headers.location, 'http://www.example.org/x.csv', 'a URL stored without scheme is http')
    t.equal(
      (await get(a, `/dataset/usage-marburg/resource/${rid('csv')}/download`, {}, 'HEAD')).statusCode,
      302,
      'HEAD answers (not counted)',
    )
    t.equal(
      (await get(a, `/dataset/usage-marburg/resource/${rid('x')}/download`)).statusCode,
      404,
      "another dataset's resource",
    )
    t.equal((await get(a, `/dataset/usage-marburg/resource/nope/download`)).statusCode, 404)
    t.equal((await get(a, `/dataset/nope/resource/${rid('csv')}/download`)).statusCode, 404)
    const hidden = await get(a, `/dataset/usage-fulda-private/resource/${rid('p')}/download`)
    t.equal(hidden.statusCode, 404, 'a private dataset is not found for anonymous callers')
    t.notOk(hidden.headers.location)
    t.notMatch(hidden.body, /intern\.example/, 'its URL is not revealed')
    const member = await get(a, `/dataset/usage-fulda-private/resource/${rid('p')}/download`, {
      authorization: admin.token!,
    })
    t.equal(member.statusCode, 302, 'a sysadmin is sent to it')
    t.equal(
      (await get(a, `/dataset/usage-marburg/resource/${rid('csv')}/download`, { authorization: 'bogus-token' }))
        .statusCode,
      403,
      'a bad token is refused, as everywhere',
    )
    for (const hostile of ['..%2F..%2Fetc', '%00', '%3Cscript%3E', '%ED%A0%80', '%22%27']) {
      const answer = await get(a, `/dataset/${hostile}/resource/${hostile}/download`)
      t.ok([400, 404].includes(answer.statusCode), `hostile id ${hostile}: ${answer.statusCode}`)
      t.notOk(answer.headers.location)
    }
    const long = await get(a, `/dataset/${'a'.repeat(300)}/resource/x/download`)
    t.equal(long.statusCode, 400, 'an overlong id is refused by the schema')
    t.notOk(long.headers.location)
  })

  await t.test(
    'views, downloads, harvester visits and empty searches: exact after a flush, two services',
    async (t) => {
      for (let i = 0; i < 3; i++) t.equal((await get(a, '/api/3/action/package_show?id=usage-marburg')).statusCode, 200)
      for (let i = 0; i < 2; i++) await get(b, '/api/3/action/package_show?id=usage-marburg')
      await get(b, `/api/3/action/package_show?id=${ids['usage-marburg']}`)
      await a.fastify.inject({
        method: 'POST',
        url: '/api/3/action/package_show',
        payload: { id: 'usage-kassel' },
        headers: { 'user-agent': BROWSER },
      })
      for (let i = 0; i < 2; i++) await get(a, '/dataset/usage-marburg.ttl')
      await get(b, '/dataset/usage-marburg', { accept: 'text/turtle' })
      await get(a, '/dataset/usage-marburg.ttl', {}, 'HEAD')
      for (let i = 0; i < 2; i++)
        await get(b, '/api/3/action/package_show?id=usage-marburg', { 'user-agent': HARVESTER })
      await get(a, '/dataset/usage-kassel.rdf', { 'user-agent': 'GovData-Harvester/2.0' })
      await get(a, '/api/3/action/package_search?q=nutzung', { 'user-agent': HARVESTER })
      await get(b, '/catalog.ttl', { 'user-agent': 'python-requests/2.31' })
      await get(a, '/organization/kassel/catalog.ttl', { 'user-agent': HARVESTER })
      await get(a, '/api/3/action/package_search?q=' + encodeURIComponent('Nichts  Gefunden'))
      await get(b, '/api/3/action/package_search?q=' + encodeURIComponent('nichts gefunden'))
      await get(a, '/api/3/action/package_search?q=' + encodeURIComponent('  NICHTS\tgefunden '))
      await get(a, '/api/3/action/package_search?q=' + encodeURIComponent('<script>alert("x")</script>'))
      await get(a, '/api/3/action/package_search?q=nutzung')
      await get(a, '/api/3/action/package_search?q=privat&include_private=true', { authorization: admin.token! })
      await get(a, '/api/3/action/package_search?fq=organization:fulda')
      // Views of a private dataset by one who may see it: never counted.
      t.equal(
        (await get(a, '/api/3/action/package_show?id=usage-fulda-private', { authorization: admin.token! })).statusCode,
        200,
      )
      await get(a, '/dataset/usage-fulda-private.ttl', { authorization: admin.token! })
      await get(b, `/dataset/usage-marburg/resource/${rid('csv')}/download`)
      t.equal((await rows()).length, 0, 'nothing is written on the request path')

      await flushBoth()
      const m = ids['usage-marburg']
      const k = ids['usage-kassel']
      t.equal(await count(m, 'view_api'), 6, 'API views of A and B added up')
      t.equal(await count(k, 'view_api'), 1, 'a POST package_show counts')
      t.equal(await count(m, 'view_rdf'), 3, 'RDF views, HEAD not counted')
      t.equal(await count(m, 'harvester_visit'), 2, 'harvester visits are not views')
      t.equal(await count(k, 'harvester_visit'), 1)
      t.equal(await count(m, 'download'), 4, 'downloads of A and B (HEAD not counted)')
      t.equal(await count('', 'harvester_visit'), 3, 'harvester visits to the catalog as a whole')
      t.equal(
        (await count(ids['usage-fulda-private'], 'view_api')) +
          (await count(ids['usage-fulda-private'], 'view_rdf')) +
          (await count(ids['usage-fulda-private'], 'download')),
        0,
        'a private dataset is never counted',
      )
      const all = await rows()
      const marburg = a.service.reference.organization('marburg')!.id
      t.ok(
        all.filter((r) => r.package_id === m).every((r) => r.owner_org === marburg),
        'per Kommune',
      )
      t.ok(
        all.some((r) => r.package_id === '' && r.owner_org === a.service.reference.organization('kassel')!.id),
        "a Kommune's catalog visit",
      )
      const searches = await db.selectFrom('usage_zero_result_search').selectAll().orderBy('query').execute()
      t.same(
        searches.map((s) => [s.query, Number(s.count)]),
        [
          ['<script>alert("x")</script>', 1],
          ['nichts gefunden', 3],
        ],
        'searches without results, normalised; found ones and filter-only ones not counted',
      )

      await flushBoth()
      t.equal(await count(m, 'view_api'), 6, 'a second flush adds nothing')
      await get(b, '/api/3/action/package_show?id=usage-marburg')
      await get(a, '/api/3/action/package_search?q=nichts+gefunden')
      await flushBoth()
      t.equal(await count(m, 'view_api'), 7, 'later counts are added to the stored ones')
      t.equal(
        Number(
          (
            await db
              .selectFrom('usage_zero_result_search')
              .select('count')
              .where('query', '=', 'nichts gefunden')
              .executeTakeFirstOrThrow()
          ).count,
        ),
        4,
      )
    },
  )

  await t.test('the usage endpoint: public datasets only, per Kommune', async (t) => {
    const res = await get(a, '/api/stats/usage?days=7')
    t.equal(res.statusCode, 200)
    const report = res.json()
    t.equal(report.days, 7)
    t.equal(report.organization, null)
    t.same(report.totals, { view_api: 8, view_rdf: 3, download: 4, harvester_visit: 3 })
    t.equal(report.per_day.length, 1)
    t.same(
      report.datasets.map((d: { name: string }) => d.name),
      ['usage-marburg', 'usage-kassel'],
    )
    t.match(report.datasets[0], {
      name: 'usage-marburg',
      organization: 'marburg',
      view_api: 7,
      view_rdf: 3,
      download: 4,
      harvester_visit: 2,
      total: 16,
    })
    t.same(
      report.kommunen.map((k: { name: string }) => k.name),
      ['marburg', 'kassel'],
    )
    t.equal(report.catalog_harvester_visits, 3)
    t.same(report.zero_result_searches[0], { query: 'nichts gefunden', count: 4 })
    t.notMatch(res.body, /fulda|Privat|intern\.example/, 'nothing of the private dataset')

    const kassel = (await get(b, '/api/stats/usage?org=kassel')).json()
    t.equal(kassel.organization, 'kassel')
    t.same(kassel.totals, { view_api: 1, view_rdf: 0, download: 0, harvester_visit: 1 })
    t.equal(kassel.catalog_harvester_visits, 1)
    const fulda = (await get(a, '/api/stats/usage?org=fulda')).json()
    t.same(fulda.totals, { view_api: 0, view_rdf: 0, download: 0, harvester_visit: 0 })
    t.same(fulda.datasets, [])
    t.equal((await get(a, '/api/stats/usage?org=nowhere')).statusCode, 404)
    t.equal((await get(a, '/api/stats/usage?days=0')).statusCode, 400)
    t.equal((await get(a, '/api/stats/usage?days=367')).statusCode, 400)

    // A dataset made private later leaves the statistics.
    await db.updateTable('package').set({ private: 1, visible: 0 }).where('id', '=', ids['usage-kassel']).execute()
    const after = (await get(a, '/api/stats/usage')).json()
    t.same(
      after.datasets.map((d: { name: string }) => d.name),
      ['usage-marburg'],
    )
    await db.updateTable('package').set({ private: 0, visible: 1 }).where('id', '=', ids['usage-kassel']).execute()
  })

  await t.test('nothing personal is stored', async (t) => {
    const usage = await rows()
    const orgIds = new Set([
      ...['marburg', 'kassel', 'fulda', 'giessen'].map((n) => a.service.reference.organization(n)!.id),
      '',
    ])
    const packageIds = new Set([...Object.values(ids), ''])
    for (const row of usage) {
      t.same(Object.keys(row).sort(), ['count', 'day', 'kind', 'owner_org', 'package_id'], 'only these columns')
      t.match(row.day, /^\d{4}-\d{2}-\d{2}$/)
      t.ok(packageIds.has(row.package_id), 'a dataset id or nothing')
      t.ok(orgIds.has(row.owner_org), 'a Kommune id or nothing')
      t.ok((USAGE_KINDS as readonly string[]).includes(row.kind))
    }
    const searches = await db.selectFrom('usage_zero_result_search').selectAll().execute()
    for (const row of searches) t.same(Object.keys(row).sort(), ['count', 'day', 'query', 'query_hash'])
    const text = JSON.stringify([usage, searches])
    for (const secret of [
      BROWSER,
      'Secret-Browser',
      HARVESTER,
      'ckanext-harvest',
      'python-requests',
      '127.0.0.1',
      'localhost',
      admin.token!,
      'usage-admin',
    ]) {
      t.notOk(text.includes(secret), `no trace of ${secret.slice(0, 24)}`)
    }
  })

  await t.test('counts are written when a service closes; USAGE_COUNTING=off counts nothing', async (t) => {
    const before = await count(ids['usage-kassel'], 'view_api')
    const closing = await buildApp(
      { ...backend.config, usageFlushMs: 3_600_000 },
      { store: backend.store, logger: false },
    )
    await get(closing, '/api/3/action/package_show?id=usage-kassel')
    await closing.fastify.close()
    t.equal(await count(ids['usage-kassel'], 'view_api'), before + 1, 'flushed on close')

    const off = await buildApp({ ...backend.config, usageCounting: false }, { store: backend.store, logger: false })
    t.teardown(() => off.fastify.close())
    t.equal(off.fastify.usage, undefined)
    t.equal((await get(off, '/api/3/action/package_show?id=usage-kassel')).statusCode, 200)
    t.equal(
      (await get(off, `/dataset/usage-marburg/resource/${rid('csv')}/download`)).statusCode,
      302,
      'the redirect works without counting',
    )
    await off.fastify.close()
    t.equal(await count(ids['usage-kassel'], 'view_api'), before + 1, 'nothing counted')
  })
})
