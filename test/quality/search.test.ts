/**
 * package_search by MQA score and band: sort, filter and facet, answered alike by the in-memory index and by
 * SQL (an app with the index and one without, over the same store), and right against the stored scores.
 */
import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { api, insertDatasets, startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { packageFromDict } from '../../src/catalog/package-input.js'
import { qualityDb } from '../../src/quality/recorder.js'

const FACETS = JSON.stringify(['organization', 'quality_band', 'quality_band_proportional'])

function answer(body: any): string {
  const r = body.result
  return JSON.stringify({
    count: r.count,
    sort: r.sort,
    names: r.results.map((d: any) => d.name),
    facets: r.facets,
    search_facets: r.search_facets,
  })
}

/** Datasets from bare to rich: each step adds what earns points. */
function variant(i: number): Record<string, unknown> {
  const rich = i % 5
  const resources = [
    {
      url: `https://example.org/${i}/daten`,
      ...(rich >= 1 ? { format: i % 2 ? 'CSV' : 'PDF' } : {}),
      ...(rich >= 2 ? { download_url: `https://example.org/${i}/daten.csv`, mimetype: 'text/csv' } : {}),
      ...(rich >= 3 ? { size: 10, rights: 'frei', license: 'dl-by-de/2.0' } : {}),
    },
    ...(rich >= 4 ? [{ url: `https://example.org/${i}/b`, name: 'zweite' }] : []),
  ]
  return {
    name: `q-suche-${i}`,
    title: `Qualität ${i}`,
    notes: 'Suchtest',
    owner_org: ['marburg', 'fulda', 'kassel'][i % 3],
    ...(rich >= 1 ? { tags: [{ name: 'qualitaet' }] } : {}),
    ...(rich >= 2 ? { groups: [{ name: 'tran' }], license_id: 'dl-by-de/2.0' } : {}),
    ...(rich >= 3
      ? {
          extras: [
            { key: 'temporal_start', value: '2020-01-01' },
            { key: 'access_rights', value: 'http://publications.europa.eu/resource/authority/access-right/PUBLIC' },
          ],
        }
      : {}),
    resources,
  }
}

await forEachBackend(t, async (t, backend) => {
  const withIndex = await startApp(t, backend)
  const sqlOnly = await startApp(t, {
    ...backend,
    config: { ...backend.config, searchMemoryIndex: false, readCacheTtlMs: 0 },
  })
  // The in-memory index answers once its first load is done (searches go through SQL until then).
  await withIndex.search.warmIndex()
  const ctx = { reference: withIndex.service.reference, vocab: withIndex.service.vocab }
  for (let i = 0; i < 30; i++) {
    const { input, errors } = packageFromDict(variant(i), ctx)
    t.same(errors, {}, `variant ${i} is valid`)
    await withIndex.service.createPackage(input)
  }
  // Datasets stored past the service (as an older version of the catalog did): no score.
  await insertDatasets(withIndex, [
    { name: 'q-ohne-wert', title: 'Ohne Wert', notes: 'Suchtest', owner_org: 'marburg', resources: [] },
  ])
  // A private dataset with a score: never counted for anonymous callers.
  const editor = await userWithToken(withIndex, 'q-suche', { org: 'marburg', role: 'editor' })
  const priv = await call(
    withIndex,
    editor,
    'package_create',
    validDataset('marburg', { name: 'q-suche-privat', private: true, notes: 'Suchtest' }),
  )
  t.equal(priv.status, 200)

  const scores = new Map(
    (
      await qualityDb(backend.store.db)
        .selectFrom('package_quality')
        .innerJoin('package', 'package.id', 'package_quality.package_id')
        .select(['package.name', 'score_portal', 'band_portal', 'score_proportional', 'package.visible'])
        .execute()
    ).map((r) => [r.name, r]),
  )
  t.ok(new Set([...scores.values()].map((r) => r.band_portal)).size >= 2, 'the corpus spans bands')

  const compare = async (t: any, params: Record<string, string>) => {
    const query = { 'facet.field': FACETS, rows: '100', q: 'suchtest', ...params }
    const a = await api(withIndex, 'package_search', query)
    const b = await api(sqlOnly, 'package_search', query)
    t.equal(a.status, 200, JSON.stringify(params))
    t.equal(answer(a.body), answer(b.body), `same answer: ${JSON.stringify(params)}`)
    return a.body.result
  }

  await t.test(
    'sort by score: both ways alike, in the order of the stored scores, unscored last when descending',
    async (t) => {
      const before = withIndex.search.answeredFromMemory
      const desc = await compare(t, { sort: 'quality_score desc' })
      t.equal(withIndex.search.answeredFromMemory - before, 1, 'the index answered')
      const names: string[] = desc.results.map((d: any) => d.name)
      t.equal(names.length, 31)
      t.equal(names.at(-1), 'q-ohne-wert')
      const values = names.slice(0, -1).map((n) => Number(scores.get(n)!.score_portal))
      t.same(
        values,
        [...values].sort((a, b) => b - a),
        'descending',
      )
      const asc = await compare(t, { sort: 'quality_score asc, name desc' })
      t.equal(asc.results[0].name, 'q-ohne-wert')
      await compare(t, { sort: 'quality_score_proportional desc', rows: '7', start: '3' })
      await compare(t, { q: '*:*', sort: 'quality_score desc' })
    },
  )

  await t.test('filter by band and score; the band as a facet; no private dataset counted', async (t) => {
    const all = await compare(t, {})
    const bands = all.facets.quality_band as Record<string, number>
    const expected: Record<string, number> = {}
    for (const r of scores.values()) if (r.visible === 1) expected[r.band_portal] = (expected[r.band_portal] ?? 0) + 1
    t.same(bands, expected, 'the facet counts the visible scored datasets per band')
    for (const [band, n] of Object.entries(expected)) {
      const before = withIndex.search.answeredFromMemory
      const found = await compare(t, { fq: `quality_band:${band}` })
      t.equal(withIndex.search.answeredFromMemory - before, 1, 'the index answered the filter and the facet')
      t.equal(found.count, n, `fq=quality_band:${band}`)
      t.ok(found.results.every((d: any) => scores.get(d.name)!.band_portal === band))
    }
    const none = await compare(t, { fq: 'quality_band:hervorragend' })
    t.equal(none.count, 0)
    const ranged = await compare(t, { fq: 'quality_score:[150 TO *]' })
    t.equal(ranged.count, [...scores.values()].filter((r) => r.visible === 1 && Number(r.score_portal) >= 150).length)
    await compare(t, { fq: '-quality_band:bad' })
    await compare(t, { fq: 'quality_score:{100 TO 250]' })
    await compare(t, { fq: 'quality_band_proportional:sufficient OR quality_band:good' })
    const exists = await api(withIndex, 'package_search', { q: 'suchtest', fq: 'quality_band:*' })
    t.equal(exists.body.result.count, 30, 'quality_band:* finds the scored ones')
    const anonymous = JSON.stringify(
      (await api(withIndex, 'package_search', { q: 'suchtest', 'facet.field': FACETS, rows: '1000' })).body,
    )
    t.notOk(anonymous.includes('q-suche-privat'))
  })

  await t.test('hostile values are query errors, never 500s', async (t) => {
    for (const fq of ['quality_score:abc', 'quality_score:[x TO 3]', 'quality_band:[a TO b]', 'quality_score:1*']) {
      const a = await api(withIndex, 'package_search', { fq })
      const b = await api(sqlOnly, 'package_search', { fq })
      t.equal(a.status, 400, fq)
      t.equal(b.status, 400, fq)
    }
    const weird = await compare(t, { fq: 'quality_band:"<script>\'\\u0000"' })
    t.equal(weird.count, 0)
    const sort = await api(withIndex, 'package_search', { sort: 'quality_band desc' })
    t.equal(sort.status, 400, 'bands do not sort')
  })
})
