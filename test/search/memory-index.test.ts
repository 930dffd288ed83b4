/**
 * The in-memory index of the visible datasets (src/search/memory-index.ts) answers package_search
 * exactly as SQL does: a corpus runs through an app with it and one without, over the same store, and
 * the answers must be byte-identical (results in order, counts, facets). Then it must stay so after
 * writes through the service, and catch up with writes of another process once it reads the change feed.
 */
import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { api, insertDatasets, startApp } from '../helpers/app.js'
import { SAMPLE_DATASETS } from '../helpers/datasets.js'
import { seedDatasets } from '../../src/catalog/seed.js'
import { vocabularies } from '../../src/catalog/vocabularies.js'
import { buildPackageRecord } from '../../src/catalog/package.js'
import { insertPackageRecords } from '../../src/catalog/repository.js'
import { appendChange } from '../../src/catalog/change-feed.js'
import { ckanNow } from '../../src/catalog/time.js'

const FACETS = JSON.stringify(['organization', 'groups', 'res_format', 'license_id', 'tags'])

/** Searches the index answers itself (and the SQL path must agree with). */
const IN_MEMORY: Array<Record<string, string>> = [
  {},
  { q: '*:*' },
  { q: 'verkehr' },
  { q: 'VERKEHR' },
  { q: 'gießen' },
  { q: 'wasser*' },
  { q: 'park*' },
  { q: 'verkehr innenstadt' },
  { q: 'verkehr -parken' },
  { q: 'verkehr OR wahlen' },
  { q: 'statistik', sort: 'metadata_modified asc' },
  { q: 'statistik', sort: 'name asc', rows: '5', start: '3' },
  { q: 'daten', rows: '50', start: '20' },
  { q: 'tags:verkehr AND organization:fulda' },
  { q: 'tags:verkehr -organization:fulda' },
  { q: '(tags:verkehr OR tags:wahlen) AND -groups:gove' },
  { q: 'groups:tran' },
  { q: 'res_format:CSV' },
  { q: 'res_format:csv' },
  { q: 'license_id:dl-by-de/2.0' },
  { q: 'capacity:public' },
  { q: 'organization:nirgendwo' },
  { fq: 'organization:kassel' },
  { fq: 'tags:verkehr organization:giessen' },
  { fq: '-organization:kassel -organization:marburg' },
  { fq: 'metadata_modified:[NOW-1DAY TO NOW]' },
  { fq: 'metadata_created:[* TO NOW-1YEAR]' },
  { fq: 'metadata_modified:[2020-01-01T00:00:00Z TO *]', sort: 'id asc', rows: '100' },
  { q: 'haltestellen', fq: 'groups:tran', sort: 'score desc, metadata_modified desc' },
  { q: '*:*', sort: 'metadata_created desc', rows: '25', start: '40' },
  { q: '*:*', sort: 'id asc', rows: '1000' },
  { q: '*:*', 'facet.limit': '3', 'facet.mincount': '2' },
  { q: '*:*', 'facet.limit': '-1' },
  // Prefixes scored in memory: overlapping ranges count each term once, as SQL's OR of ranges does.
  { q: 'verk* wasser*' },
  { q: 'verkehr OR verk*' },
  { q: 've* verkehr*' },
  { q: 'daten', fq: 'tags:verkehr', rows: '30' },
  { q: 'daten statistik -wasser', rows: '20', start: '5' },
  { q: '*:*', sort: 'quality_score desc', rows: '30' },
]

/** Searches that need SQL (phrases, other fields, sorts, facets, viewers): answered the same either way. */
const THROUGH_SQL: Array<Record<string, string>> = [
  { q: 'title:"Parkhausbelegung Gießen"' },
  { q: 'name:haltestellen-fulda' },
  { q: 'author:"Fachdienst Stadtgrün"' },
  { q: 'verkehr', sort: 'title_string asc' },
  { q: 'num_resources:[2 TO *]' },
  { fq: 'license_id:*' },
  { q: 'quality_band:*' },
  { q: 'verkehr', 'facet.field': JSON.stringify(['maintainer']) },
]

function answer(body: any): string {
  const r = body.result
  return JSON.stringify({ count: r.count, sort: r.sort, names: r.results.map((d: any) => d.name), facets: r.facets, search_facets: r.search_facets })
}

await forEachBackend(t, async (t, backend) => {
  const withIndex = await startApp(t, backend)
  t.equal(withIndex.search.answeredFromMemory, 0)
  // No caches on the SQL side: the writes below go through the other app's service, whose change events this one does not hear.
  const sqlOnly = await startApp(t, { ...backend, config: { ...backend.config, searchMemoryIndex: false, readCacheTtlMs: 0 } })
  await insertDatasets(withIndex, SAMPLE_DATASETS)
  await seedDatasets(backend.store, vocabularies(), { count: 400, seed: 11 })

  const compare = async (t: any, params: Record<string, string>, expectMemory: boolean) => {
    const query = { 'facet.field': FACETS, ...params }
    const before = withIndex.search.answeredFromMemory
    const a = await api(withIndex, 'package_search', query)
    const b = await api(sqlOnly, 'package_search', query)
    t.equal(a.status, 200, JSON.stringify(params))
    t.equal(answer(a.body), answer(b.body), `same answer: ${JSON.stringify(params)}`)
    t.equal(withIndex.search.answeredFromMemory - before, expectMemory ? 1 : 0, `${expectMemory ? 'from memory' : 'through SQL'}: ${JSON.stringify(params)}`)
    return a.body.result
  }

  await t.test('until its first load is done the index answers nothing: the first searches go through SQL', async (t) => {
    await compare(t, IN_MEMORY[0]!, false)
    await withIndex.search.warmIndex()
  })

  await t.test('the corpus: the same answers with and without the index', async (t) => {
    let hits = 0
    for (const params of IN_MEMORY) hits += (await compare(t, params, true)).count
    for (const params of THROUGH_SQL) await compare(t, params, false)
    t.ok(hits > 1000, `the corpus finds datasets (${hits} hits in all)`)
  })

  await t.test('writes through the service show at once', async (t) => {
    const ids = await api(withIndex, 'package_search', { q: 'verkehr', rows: '3' })
    const [first, second] = ids.body.result.results as any[]
    const kassel = withIndex.service.reference.organization('kassel')!.id
    const dict = (await withIndex.service.showPackage(first.id, { userId: null, userName: null, sysadmin: true, orgRoles: new Map() })).dict
    // Another Kommune, other tags; the second dataset becomes private; a new one appears.
    const { packageFromDict } = await import('../../src/catalog/package-input.js')
    const moved = packageFromDict({ ...dict, owner_org: 'kassel', tags: [{ name: 'umgezogen' }] }, { reference: withIndex.service.reference, vocab: withIndex.service.vocab })
    t.same(moved.errors, {})
    await withIndex.service.updatePackage(first.id, moved.input)
    const hidden = (await withIndex.service.showPackage(second.id, { userId: null, userName: null, sysadmin: true, orgRoles: new Map() })).dict
    const privateInput = packageFromDict({ ...hidden, private: true }, { reference: withIndex.service.reference, vocab: withIndex.service.vocab })
    await withIndex.service.updatePackage(second.id, privateInput.input)
    const fresh = packageFromDict({ name: 'neu-verkehrszaehlung', title: 'Verkehrszählung Neu', notes: 'verkehr', owner_org: 'kassel', tags: [{ name: 'umgezogen' }] }, { reference: withIndex.service.reference, vocab: withIndex.service.vocab })
    await withIndex.service.createPackage(fresh.input)

    for (const params of [{ q: "verkehr" }, { q: "tags:umgezogen" }, { fq: "organization:kassel" }, { q: "*:*" }] as Array<Record<string, string>>) await compare(t, params, true)
    const moved2 = await api(withIndex, 'package_search', { q: 'tags:umgezogen', 'facet.field': FACETS })
    t.equal(moved2.body.result.count, 2, 'the moved and the new dataset')
    t.equal(moved2.body.result.facets.organization.kassel, 2)
    t.notOk(JSON.stringify((await api(withIndex, 'package_search', { q: 'verkehr', rows: '1000' })).body.result.results.map((d: any) => d.id)).includes(second.id), 'the private one is gone')
    t.ok(kassel)
  })

  await t.test('a dataset rewritten many times (a new doc each time, postings appended) is found by its current words only', async (t) => {
    await withIndex.search.warmIndex()
    const viewer = { userId: null, userName: null, sysadmin: true, orgRoles: new Map() }
    const { packageFromDict } = await import('../../src/catalog/package-input.js')
    const name = 'umschreiben-test'
    const created = packageFromDict({ name, title: 'Umschreiben runde0', notes: 'erstfassung', owner_org: 'kassel', tags: [{ name: 'runde0' }] }, { reference: withIndex.service.reference, vocab: withIndex.service.vocab })
    const id = await withIndex.service.createPackage(created.input)
    for (let round = 1; round <= 6; round++) {
      const dict = (await withIndex.service.showPackage(id, viewer)).dict
      const next = packageFromDict({ ...dict, title: `Umschreiben runde${round}`, notes: round % 2 ? 'ungerade fassung' : 'gerade fassung', tags: [{ name: `runde${round}` }] }, { reference: withIndex.service.reference, vocab: withIndex.service.vocab })
      await withIndex.service.updatePackage(id, next.input)
      const found = await compare(t, { q: `runde${round}` }, true)
      t.equal(found.count, 1, `round ${round}: found by its new word`)
      t.equal((await compare(t, { q: `runde${round - 1}` }, true)).count, 0, `round ${round}: not by the word it had before`)
      t.equal((await compare(t, { q: 'umschreiben' }, true)).count, 1, `round ${round}: once, not once per version`)
      await compare(t, { q: 'runde*' }, true)
      await compare(t, { q: round % 2 ? 'ungerade' : 'gerade' }, true)
      await compare(t, { fq: 'tags:runde0' }, true)
    }
    t.equal((await compare(t, { q: 'erstfassung' }, true)).count, 0, 'the first text is gone')
    await withIndex.service.purgePackage(id)
    t.equal((await compare(t, { q: 'umschreiben' }, true)).count, 0, 'purged: gone')
  })

  await t.test('writes of another process show once the change feed is read, not before', async (t) => {
    // The feed is read only when the test says so (an hour's poll), so the test does not depend on timing.
    const quick = await startApp(t, { ...backend, config: { ...backend.config, changePollMs: 3_600_000 } })
    await quick.search.warmIndex()
    const before = (await api(quick, 'package_search', { q: 'fremdprozess' })).body.result.count
    t.equal(before, 0)
    // Written past this app, as another process (the seed command, another server) writes: rows and a feed row.
    const record = buildPackageRecord(
      { ...(SAMPLE_DATASETS[0] as any), owner_org: quick.service.reference.organization('marburg')!.id, themeIds: [], name: 'aus-fremdem-prozess', title: 'Fremdprozess Daten', tags: [{ name: 'fremdprozess' }] },
      { vocab: quick.service.vocab, now: ckanNow(), previousRevision: 0 },
    )
    await quick.store.db.transaction().execute(async (trx) => {
      await insertPackageRecords(trx, [record])
      await appendChange(trx, { kind: 'datasets', keys: [record.row.id, record.row.name] }).execute()
    })
    const stale = await api(quick, 'package_search', { q: 'fremdprozess', 'facet.field': FACETS })
    t.equal(stale.body.result.count, 0, 'the index has not read the feed yet (no clock decides it is current)')
    await quick.service.catchUpChangeFeed()
    const after = await api(quick, 'package_search', { q: 'fremdprozess', 'facet.field': FACETS })
    t.equal(after.body.result.count, 1, 'found once the feed is read')
    t.equal(answer(after.body), answer((await api(sqlOnly, 'package_search', { q: 'fremdprozess', 'facet.field': FACETS })).body))
  })
})
