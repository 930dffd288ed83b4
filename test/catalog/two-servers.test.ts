import t from 'tap'
import type { App } from '../../src/app.js'
import { forEachBackend } from '../helpers/backends.js'
import { startTwoServices } from '../helpers/app.js'
import { validDataset } from '../helpers/bodies.js'
import { call, userWithToken, type Caller } from '../helpers/users.js'

/**
 * Two services on one database, each with its own connection, caches and search index, as two servers
 * are: what one writes, the other shows once it has read the change feed (catchUpChangeFeed is one poll,
 * so the tests do not depend on timing; test/cluster/ measures the same with real servers and clocks).
 * Every assertion here fails without the feed: B's caches would hold what it read before A's writes.
 */
await forEachBackend(t, async (t, backend) => {
  // A very long poll: the feed is read only when a test says so.
  const [a, b] = await startTwoServices(t, backend, { changePollMs: 3_600_000 })
  const sysadmin = await userWithToken(a, 'root', { sysadmin: true })
  const marburg = await userWithToken(a, 'anna', { org: 'marburg', role: 'editor' })
  const kassel = await userWithToken(a, 'karl', { org: 'kassel', role: 'editor' })

  async function create(app: App, caller: Caller, org: string, name: string, overrides: Record<string, unknown> = {}): Promise<string> {
    const res = await call(app, caller, 'package_create', validDataset(org, { name, ...overrides }))
    t.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300))
    return res.body.result.id as string
  }

  /** Counts of a search through the in-memory index and through SQL (an author facet sends it there). */
  async function counts(app: App, params: Record<string, unknown>): Promise<[number, number]> {
    const memory = await call(app, null, 'package_search', { rows: 0, ...params })
    const viaSql = await call(app, null, 'package_search', { rows: 0, 'facet.field': ['author'], ...params })
    return [memory.body.result.count, viaSql.body.result.count]
  }

  const id = await create(a, marburg, 'marburg', 'baeume-marburg', { title: 'Bäume' })
  // B reads it (caches the document, loads its index).
  await b.service.catchUpChangeFeed()
  t.equal((await call(b, null, 'package_show', { id })).status, 200)
  t.equal((await call(b, null, 'package_search', { q: 'Bäume' })).body.result.count, 1)

  await t.test('a dataset made private on A is never shown by B, and leaves B once B reads the feed', async (t) => {
    t.equal((await call(a, marburg, 'package_patch', { id, private: true })).status, 200)
    // Before B has read the feed, its index may still count the dataset, but the documents are loaded with the
    // caller's visibility applied in SQL: the private dataset itself is never in B's answer.
    const stale = await call(b, null, 'package_search', { q: 'Bäume', rows: 10 })
    t.same(stale.body.result.results, [], 'no private document, even from a stale index')
    await b.service.catchUpChangeFeed()
    t.equal((await call(b, null, 'package_show', { id })).status, 403, 'package_show: refused')
    t.same(await counts(b, { q: 'Bäume' }), [0, 0], 'both search paths: gone')
    const member = await call(b, marburg, 'package_show', { id })
    t.equal(member.body.result.private, true, 'its Kommune still reads it, as private')
    t.equal((await call(a, marburg, 'package_patch', { id, private: false })).status, 200)
    await b.service.catchUpChangeFeed()
    t.equal((await call(b, null, 'package_show', { id })).status, 200, 'public again')
  })

  await t.test('no update is lost: a write on B starts from what A wrote, not from B\'s cached copy', async (t) => {
    t.equal((await call(b, null, 'package_show', { id })).body.result.title, 'Bäume', 'B has the old title cached')
    t.equal((await call(a, marburg, 'package_patch', { id, title: 'Bäume 2025' })).status, 200)
    // B has not read the feed: its cache still holds the old title. The patch must not merge onto it.
    t.equal((await call(b, marburg, 'package_patch', { id, notes: 'Alle Straßenbäume, neu erfasst.' })).status, 200)
    await a.service.catchUpChangeFeed()
    const shown = (await call(a, null, 'package_show', { id })).body.result
    t.equal(shown.title, 'Bäume 2025', "A's title kept")
    t.equal(shown.notes, 'Alle Straßenbäume, neu erfasst.', "B's notes kept")
  })

  await t.test('concurrent patches of different fields on A and B all stay', async (t) => {
    const fields = ['author', 'maintainer', 'version', 'url']
    const values = (round: number) => ({ author: `Autorin ${round}`, maintainer: `Pflege ${round}`, version: `v${round}`, url: `https://example.org/${round}` })
    for (let round = 1; round <= 5; round++) {
      const want = values(round) as Record<string, string>
      const answers = await Promise.all(fields.map((field, i) => call(i % 2 ? b : a, marburg, 'package_patch', { id, [field]: want[field] })))
      t.same(answers.map((r) => r.status), [200, 200, 200, 200], `round ${round}: ${JSON.stringify(answers.map((r) => r.body.error ?? null))}`)
      await a.service.catchUpChangeFeed()
      const shown = (await call(a, marburg, 'package_show', { id })).body.result
      for (const field of fields) t.equal(shown[field], want[field], `round ${round}: ${field}`)
    }
  })

  await t.test('a Kommune created on A is usable on B once B reads the feed', async (t) => {
    const org = await call(a, sysadmin, 'organization_create', { name: 'wiesbaden', title: 'Landeshauptstadt Wiesbaden' })
    t.equal(org.status, 200, JSON.stringify(org.body).slice(0, 300))
    await b.service.catchUpChangeFeed()
    t.equal((await call(b, null, 'organization_show', { id: 'wiesbaden' })).status, 200)
    const created = await call(b, sysadmin, 'package_create', validDataset('wiesbaden', { name: 'wiesbaden-haushalt' }))
    t.equal(created.status, 200, JSON.stringify(created.body).slice(0, 300))
    t.equal(created.body.result.organization.name, 'wiesbaden')
    const renamed = await call(a, sysadmin, 'organization_patch', { id: 'wiesbaden', title: 'Wiesbaden (Hessen)' })
    t.equal(renamed.status, 200, JSON.stringify(renamed.body).slice(0, 300))
    await b.service.catchUpChangeFeed()
    t.equal((await call(b, null, 'package_show', { id: 'wiesbaden-haushalt' })).body.result.organization.title, 'Wiesbaden (Hessen)', "B's cached document shows the new title")
  })

  await t.test('in-memory and SQL search paths agree on every server once the feed is applied', async (t) => {
    await counts(b, { fq: 'organization:kassel' }) // B's index is loaded now
    const ids = []
    for (let i = 0; i < 4; i++) ids.push(await create(a, kassel, 'kassel', `kassel-daten-${i}`))
    t.equal((await call(a, kassel, 'package_delete', { id: ids[0] })).status, 200)
    t.equal((await call(a, kassel, 'package_patch', { id: ids[1], private: true })).status, 200)
    await b.service.catchUpChangeFeed()
    for (const app of [a, b]) t.same(await counts(app, { fq: 'organization:kassel' }), [2, 2])
    t.same(await counts(b, { q: '*:*' }), await counts(a, { q: '*:*' }))
  })

  await t.test('a purge on A leaves B', async (t) => {
    const purged = await create(a, marburg, 'marburg', 'zu-loeschen')
    await b.service.catchUpChangeFeed()
    t.equal((await call(b, null, 'package_show', { id: purged })).status, 200)
    t.equal((await call(a, sysadmin, 'dataset_purge', { id: purged })).status, 200)
    await b.service.catchUpChangeFeed()
    t.equal((await call(b, null, 'package_show', { id: purged })).status, 404)
    t.same(await counts(b, { q: 'name:zu-loeschen' }), [0, 0])
  })
})
