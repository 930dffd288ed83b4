import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { api, startApp } from '../helpers/app.js'
import type { App } from '../../src/app.js'
import type { PackageInput } from '../../src/catalog/package.js'

/**
 * Plays ckanext-harvest's CKANHarvester against the service as it behaves: package_search with
 * rows=100&start=N&sort=id+asc (spaces as +), paging until an empty page, incremental runs with
 * fq=metadata_modified:[<iso with microseconds>Z TO *], organization filters joined by a space.
 */
const ORGS = ['marburg', 'fulda', 'giessen', 'kassel', 'wetzlar']

function datasetsFor(app: App, count: number, prefix: string): PackageInput[] {
  return Array.from({ length: count }, (_, i) => {
    const org = app.service.reference.organization(ORGS[i % ORGS.length]!)!
    return {
      name: `${prefix}-${String(i).padStart(4, '0')}`,
      title: `Datensatz ${i} der ${org.title}`,
      notes: i % 7 === 0 ? 'Verkehrszählung an Knotenpunkten' : 'Allgemeine Verwaltungsdaten',
      owner_org: org.id,
      tags: [{ name: i % 2 ? 'verkehr' : 'verwaltung' }],
      resources: [{ url: `https://example.org/${i}.csv`, format: 'CSV' }],
    }
  })
}

async function harvest(app: App, fq?: string): Promise<{ ids: string[]; pages: string[] }> {
  const ids: string[] = []
  const pages: string[] = []
  for (let start = 0; ; start += 100) {
    const qs = `rows=100&start=${start}&sort=id+asc${fq ? `&fq=${encodeURIComponent(fq).replace(/%20/g, '+')}` : ''}`
    const response = await app.fastify.inject({ url: `/api/3/action/package_search?${qs}` })
    if (response.statusCode !== 200) throw new Error(`page ${start}: ${response.statusCode} ${response.body}`)
    const results = response.json().result.results as Array<{ id: string; name: string }>
    if (results.length === 0) break
    if (pages.length && pages[pages.length - 1] === response.body) throw new Error("The paging doesn't seem to work")
    pages.push(response.body)
    for (const r of results) ids.push(r.id)
    if (start > 10_000) throw new Error('runaway paging')
  }
  return { ids, pages }
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const inputs = datasetsFor(app, 250, 'harvest')
  const ids: string[] = []
  for (const input of inputs) ids.push(await app.service.createPackage(input))

  await t.test('a full run gets every dataset exactly once, in id order, pages never identical', async (t) => {
    const { ids: seen, pages } = await harvest(app)
    t.equal(seen.length, 250)
    t.equal(new Set(seen).size, 250, 'no dataset twice')
    t.same(seen, [...ids].sort(), 'sorted by id ascending')
    t.equal(pages.length, 3)
    t.equal(new Set(pages).size, 3, 'no two pages byte-identical')
  })

  await t.test('an incremental run after an update returns just the changed datasets', async (t) => {
    const newest = (await api(app, 'package_search', { rows: '1', sort: 'metadata_modified desc' })).body.result.results[0]
    await new Promise((r) => setTimeout(r, 5))
    // The last gather started after every dataset so far was written (microseconds as harvesters send them).
    const lastGather = `${new Date().toISOString().slice(0, 23)}456`
    t.ok(lastGather > newest.metadata_modified)
    await new Promise((r) => setTimeout(r, 5))
    const changed = [ids[3]!, ids[120]!]
    for (const id of changed) {
      const current = (await api(app, 'package_show', { id })).body.result
      await app.service.updatePackage(id, { ...inputs[ids.indexOf(id)]!, title: `${current.title} (aktualisiert)` })
    }
    // The harvester subtracts an hour from its last run; here the last run is "just before the updates".
    const since = `${lastGather}Z`
    t.match(since, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/, 'the timestamp carries microseconds')
    const { ids: seen } = await harvest(app, `metadata_modified:[${since} TO *]`)
    t.same(seen.sort(), changed.sort(), 'only the updated datasets')
    const after = (await api(app, 'package_show', { id: changed[0]! })).body.result
    t.ok(after.metadata_modified > lastGather, 'metadata_modified grows and compares as a string')
  })

  await t.test('organization filters joined by a space, as the harvester adds them', async (t) => {
    const { ids: two } = await harvest(app, 'organization:marburg OR organization:fulda')
    t.equal(two.length, 100)
    const { ids: excluded } = await harvest(app, '-organization:kassel -organization:wetzlar')
    t.equal(excluded.length, 150)
    const { ids: combined } = await harvest(app, `organization:marburg OR organization:fulda metadata_modified:[2000-01-01T00:00:00.000001Z TO *]`)
    t.equal(combined.length, 100, '(a OR b) AND range, as the harvester means it')
  })

  await t.test('organization_show and group_show by id or by name', async (t) => {
    const pkg = (await api(app, 'package_show', { id: ids[0]! })).body.result
    const byId = await api(app, 'organization_show', { id: pkg.owner_org })
    const byName = await api(app, 'organization_show', { id: pkg.organization.name })
    t.equal(byId.status, 200)
    t.same(byId.body.result, byName.body.result)
    const group = await api(app, 'group_show', { id: 'tran' })
    t.same((await api(app, 'group_show', { id: group.body.result.id })).body.result, group.body.result)
  })

  await t.test('paging stays complete while datasets are written concurrently', async (t) => {
    const seen = new Set<string>()
    let start = 0
    let writes = 0
    for (;;) {
      const response = await app.fastify.inject({ url: `/api/3/action/package_search?rows=50&start=${start}&sort=id+asc` })
      const results = response.json().result.results as Array<{ id: string }>
      if (results.length === 0) break
      for (const r of results) seen.add(r.id)
      // Between pages an editor updates datasets (metadata_modified changes, ids do not) and adds new ones.
      await app.service.updatePackage(ids[(writes * 37) % ids.length]!, inputs[(writes * 37) % ids.length]!)
      await app.service.createPackage({ ...datasetsFor(app, 1, `late-${writes}`)[0]! })
      writes++
      start += 50
    }
    for (const id of ids) if (!seen.has(id)) t.fail(`dataset ${id} was missed`)
    t.ok(ids.every((id) => seen.has(id)), 'every dataset that existed before the crawl arrived')
  })

  await t.test('a search page costs a bounded number of queries: the statements of the search, plus one per 50 documents', async (t) => {
    // Without the facet cache, so that both searches really run every statement; through SQL only, and
    // with the in-memory index (warmed by a first search: loading it is a one-time cost).
    for (const searchMemoryIndex of [false, true]) {
      const uncached = await startApp(t, { ...backend, config: { ...backend.config, readCacheTtlMs: 0, searchMemoryIndex } })
      const cost = async (rows: number) => {
        const before = backend.store.queryCount()
        const response = await api(uncached, 'package_search', { rows: String(rows), 'facet.field': '["organization","groups","res_format","license_id","tags"]' })
        t.equal(response.status, 200)
        return backend.store.queryCount() - before
      }
      await cost(1)
      // The first search starts the index's load in the background (answered through SQL meanwhile): its
      // statements must not fall into the measurement.
      for (let i = 0; uncached.search.indexLoading; i++) {
        if (i > 3000) throw new Error('the search index did not load')
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      const small = await cost(1)
      const large = await cost(200)
      const how = searchMemoryIndex ? 'in-memory index' : 'SQL'
      // Documents are read 50 to a statement (a page is never held whole): 200 rows are 4 statements, not 1.
      t.equal(large, small + 3, `${how}: rows=1 costs ${small} queries, rows=200 costs ${large}`)
      t.ok(small <= 10, `${how}: at most 10 queries for a page with 5 facets`)
    }
  })
}, { CHANGE_POLL_MS: '3600000' }) // the query counts below must not include the apps' change-feed polls
