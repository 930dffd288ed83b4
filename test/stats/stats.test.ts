import t from 'tap'
import { sql } from 'kysely'
import { forEachBackend } from '../helpers/backends.js'
import { startTwoServices } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { appendChange } from '../../src/catalog/change-feed.js'
import { linksDb, urlHash } from '../../src/links/tables.js'
import { StatsAggregates, statsDb } from '../../src/stats/aggregates.js'
import { INDICATOR_IDS } from '../../src/stats/schemas.js'
import type { App } from '../../src/app.js'
import { Value } from '@sinclair/typebox/value'
import { History, KommuneDatasets, KommuneDetail, KommunenList } from '../../src/stats/schemas.js'
import { LinkChecker } from '../../src/links/checker.js'
import { syncJobs } from '../../src/links/jobs.js'
import { rescorePending } from '../../src/quality/backfill.js'
import { qualityDb } from '../../src/quality/recorder.js'
import { vocabularies } from '../../src/catalog/vocabularies.js'
import { median } from '../../src/stats/compute.js'
import { startFixtureServer } from '../links/fixture-server.js'
import { testLinkSettings } from '../links/settings.js'

/** A strict RFC 4180 reader (quoted fields, doubled quotes, CRLF), enough to read back what the endpoint writes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i++
    } else field += c
  }
  if (field !== '' || row.length) throw new Error('CSV does not end with CRLF')
  return rows
}

const HOSTILE = `=HYPERLINK("http://evil")<script>alert('x')</script>\u0000\ud800 "quoted", line\r\nbreak`
/** The API refuses NUL in titles: a dataset's hostile title has all the rest. */
const HOSTILE_TITLE = HOSTILE.replace('\u0000', '').replace('\ud800', '\u{1F600}')
/** A lone surrogate is stored as U+FFFD by MySQL's driver: compared alike. */
const same = (text: string) => text.replace(/[\ud800\uFFFD]+/g, '?')

const share = (part: number, whole: number) => Math.round((part / whole) * 10_000) / 10_000

async function get(app: App, url: string) {
  const r = await app.fastify.inject({ method: 'GET', url })
  return { status: r.statusCode, body: r.body, json: () => r.json(), headers: r.headers }
}

await forEachBackend(t, async (t, backend) => {
  // An hour between feed polls: each app reads the feed only when told, so nothing here depends on timing.
  const [a, b] = await startTwoServices(t, backend, { changePollMs: 3_600_000 })
  const admin = await userWithToken(a, 'stats-admin', { org: 'marburg', role: 'admin' })
  const fuldaEditor = await userWithToken(a, 'stats-fulda', { org: 'fulda', role: 'editor' })
  const marburg = a.service.reference.organization('marburg')!
  const fulda = a.service.reference.organization('fulda')!
  /** The refresher is off in tests: the tests run it, through either server (one lease for both). */
  const refresh = async (app: App = a) => {
    await app.service.catchUpChangeFeed()
    if (!(await app.fastify.stats.refresh())) throw new Error('the refresh did not get the lease')
  }

  await t.test('no aggregates yet: 503 with Retry-After, and a request computes nothing', async (t) => {
    for (const url of ['/api/stats/kommunen', '/api/stats/kommunen/marburg', '/api/stats/history']) {
      const r = await get(a, url)
      t.equal(r.status, 503, url)
      t.equal(r.headers['retry-after'], '5', 'the default refresher interval, in seconds')
      t.equal(r.json().error.message, 'statistics are being computed')
    }
    const rows = await statsDb(backend.store.db).selectFrom('stats_kommune').select('owner_org').execute()
    t.equal(rows.length, 0, 'the requests stored nothing')
    t.equal(
      (await statsDb(backend.store.db).selectFrom('stats_state').selectAll().execute()).length,
      0,
      'no state either',
    )
  })

  const created: string[] = []
  for (const [i, title] of ['Radwege', HOSTILE_TITLE, 'Parkplätze'].entries()) {
    const body = validDataset('marburg', { name: `stats-public-${i}`, title })
    const r = await call(a, admin, 'package_create', body)
    t.equal(r.status, 200, `public dataset ${i} created`, { body: r.body })
    created.push(r.body.result.id)
  }
  // Private datasets and a draft of the same Kommune, with other themes, licence and resources: none may count.
  for (const i of [0, 1]) {
    const r = await call(
      a,
      admin,
      'package_create',
      validDataset('marburg', {
        name: `stats-private-${i}`,
        private: true,
        groups: [{ name: 'educ' }],
        license_id: 'other-closed',
        resources: [
          { url: `https://example.org/private-${i}.pdf`, format: 'PDF', name: 'p' },
          { url: `https://example.org/private-${i}b.pdf`, format: 'PDF', name: 'q' },
        ],
      }),
    )
    t.equal(r.status, 200, `private dataset ${i} created`)
  }
  const draft = await call(a, admin, 'package_create', validDataset('marburg', { name: 'stats-draft', state: 'draft' }))
  t.equal(draft.status, 200, 'draft created')
  const fuldaOne = await call(a, fuldaEditor, 'package_create', validDataset('fulda', { name: 'stats-fulda-0' }))
  t.equal(fuldaOne.status, 200)

  await t.test('the list counts exactly the public datasets, and both servers answer alike', async (t) => {
    await refresh()
    const ra = await get(a, '/api/stats/kommunen')
    t.equal(ra.status, 200)
    const list = ra.json()
    t.match(list.generated, /^\d{4}-\d{2}-\d{2}T/)
    t.ok(Value.Check(KommunenList, list), 'the answer has the documented shape', {
      errors: [...Value.Errors(KommunenList, list)].slice(0, 3),
    })
    const names = list.kommunen.map((k: { name: string }) => k.name)
    t.same(names, [...names].sort(), 'sorted by name')
    const m = list.kommunen.find((k: { name: string }) => k.name === 'marburg')
    t.equal(m.datasets, 3, 'three public datasets; two private and a draft do not count')
    t.equal(m.distributions, 3)
    t.same(m.themes, { TRAN: 3 }, 'the private datasets’ EDUC theme does not show')
    t.equal(m.open_licence_share, 1, 'the private datasets’ closed licence does not count')
    t.equal(m.bands.excellent + m.bands.good + m.bands.sufficient + m.bands.bad, 3)
    t.equal(m.median_age_days, 0)
    t.equal(m.checked_link_share, 0)
    t.equal(m.broken_link_share, null, 'nothing checked: null')
    t.same(Object.keys(m.indicators).sort(), [...INDICATOR_IDS].sort())
    t.equal(m.machine_readable_share, m.indicators.formatMediaTypeMachineInterpretable)
    const f = list.kommunen.find((k: { name: string }) => k.name === 'fulda')
    t.equal(f.datasets, 1)
    const empty = list.kommunen.find((k: { datasets: number }) => k.datasets === 0)
    if (empty) t.equal(empty.score_mean_portal, null, 'no datasets: null mean')

    const rb = await get(b, '/api/stats/kommunen')
    t.same(rb.json(), list, 'the other server answers the same, generated included')

    // A write through one server: the requests do not compute; the answers stay those of the last refresh...
    const state = await statsDb(backend.store.db).selectFrom('stats_state').selectAll().executeTakeFirstOrThrow()
    const again = await call(a, admin, 'package_create', validDataset('marburg', { name: 'stats-public-3' }))
    t.equal(again.status, 200)
    t.same((await get(b, '/api/stats/kommunen')).json(), list, 'as of the last refresh until the next one')
    t.same(
      await statsDb(backend.store.db).selectFrom('stats_state').selectAll().executeTakeFirstOrThrow(),
      state,
      'a request after a write stored nothing',
    )
    // ...and the next refresh (through the other server) brings both to the new figures, identically.
    await refresh(b)
    const after = (await get(b, '/api/stats/kommunen')).json()
    t.equal(after.kommunen.find((k: { name: string }) => k.name === 'marburg').datasets, 4)
    t.not(after.generated, list.generated)
    t.same((await get(a, '/api/stats/kommunen')).json(), after)
    // Making a public dataset private takes it out everywhere with the next refresh.
    const hidden = await call(a, admin, 'package_patch', { id: 'stats-public-3', private: true })
    t.equal(hidden.status, 200)
    await refresh()
    const back = (await get(a, '/api/stats/kommunen')).json()
    t.equal(back.kommunen.find((k: { name: string }) => k.name === 'marburg').datasets, 3)
    t.same((await get(b, '/api/stats/kommunen')).json(), back)
    // Nothing behind: a refresh writes nothing (the version, hence the in-memory copies, stay).
    const stable = await statsDb(backend.store.db).selectFrom('stats_state').selectAll().executeTakeFirstOrThrow()
    await refresh(b)
    t.same(await statsDb(backend.store.db).selectFrom('stats_state').selectAll().executeTakeFirstOrThrow(), stable)
  })

  await t.test('a dataset made private or deleted is not listed, before any refresh', async (t) => {
    const names = ['stats-lowest-a', 'stats-lowest-b']
    for (const name of names) {
      const r = await call(a, admin, 'package_create', validDataset('marburg', { name, title: name }))
      t.equal(r.status, 200)
    }
    await refresh()
    const listed = (await get(b, '/api/stats/kommunen/marburg')).json()
    const listedNames = listed.lowest_scoring.map((x: { name: string }) => x.name)
    for (const name of names) t.ok(listedNames.includes(name), `${name} listed while public`)
    const sysadmin = await userWithToken(a, 'stats-sysadmin-privacy', { sysadmin: true })
    t.equal((await call(a, admin, 'package_patch', { id: names[0], private: true })).status, 200)
    t.equal((await call(a, sysadmin, 'package_delete', { id: names[1] })).status, 200)
    for (const app of [a, b]) {
      const d = (await get(app, '/api/stats/kommunen/marburg')).json()
      const now = d.lowest_scoring.map((x: { name: string }) => x.name)
      t.notOk(now.includes(names[0]), 'the private one is not listed')
      t.notOk(now.includes(names[1]), 'the deleted one is not listed')
      t.equal(now.length, listedNames.length - 2, 'the others still are')
      t.equal(d.generated, listed.generated, 'no refresh happened: the counts may lag one interval')
      t.equal(d.datasets, listed.datasets)
    }
    await refresh()
    const after = (await get(a, '/api/stats/kommunen/marburg')).json()
    t.equal(after.datasets, listed.datasets - 2, 'the counts catch up with the refresh')
    t.equal((await call(a, sysadmin, 'package_delete', { id: names[0] })).status, 200)
    await refresh()
  })

  await t.test('one process refreshes at a time: a held lease is respected, an expired one taken over', async (t) => {
    const db = statsDb(backend.store.db)
    const state = await db.selectFrom('stats_state').selectAll().executeTakeFirstOrThrow()
    await db.updateTable('stats_lease').set({ token: 'another-process', expires: 4_000_000_000 }).execute()
    t.equal((await call(a, admin, 'package_create', validDataset('marburg', { name: 'stats-leased' }))).status, 200)
    await a.service.catchUpChangeFeed()
    t.equal(await a.fastify.stats.refresh(), false, 'another process holds the lease')
    t.same(await db.selectFrom('stats_state').selectAll().executeTakeFirstOrThrow(), state, 'nothing stored')
    t.equal((await db.selectFrom('stats_lease').selectAll().executeTakeFirstOrThrow()).token, 'another-process')
    // Expired by the database clock (a second after the epoch): taken over, and released after the refresh.
    await db.updateTable('stats_lease').set({ expires: 1 }).execute()
    await refresh()
    t.equal(
      (await db.selectFrom('stats_state').selectAll().executeTakeFirstOrThrow()).version,
      Number(state.version) + 1,
    )
    t.equal((await db.selectFrom('stats_lease').selectAll().executeTakeFirstOrThrow()).token, null, 'released')
    const sysadmin = await userWithToken(a, 'stats-sysadmin-lease', { sysadmin: true })
    t.equal((await call(a, sysadmin, 'package_delete', { id: 'stats-leased' })).status, 200)
    await refresh()
  })

  await t.test('a write recomputes only its Kommunen, a moved dataset both of them', async (t) => {
    const sysadmin = await userWithToken(a, 'stats-sysadmin', { sysadmin: true })
    await refresh()
    const db = statsDb(backend.store.db)
    // A sentinel in another Kommune's stored aggregate: a refresh of marburg alone leaves it as it is.
    const other = a.service.reference.organization('giessen')!
    const row = await db
      .selectFrom('stats_kommune')
      .selectAll()
      .where('owner_org', '=', other.id)
      .executeTakeFirstOrThrow()
    const body = JSON.parse(row.body)
    body.stats.distributions = 424242
    await db
      .updateTable('stats_kommune')
      .set({ body: JSON.stringify(body) })
      .where('owner_org', '=', other.id)
      .execute()
    const moved = await call(a, admin, 'package_create', validDataset('marburg', { name: 'stats-moving' }))
    t.equal(moved.status, 200)
    await refresh()
    const list = (await get(b, '/api/stats/kommunen')).json()
    const byName = (name: string) => list.kommunen.find((k: { name: string }) => k.name === name)
    t.equal(byName('marburg').datasets, 4)
    t.equal(byName('giessen').distributions, 424242, 'giessen was not recomputed for a write to marburg')
    const patched = await call(a, sysadmin, 'package_patch', { id: 'stats-moving', owner_org: 'fulda' })
    t.equal(patched.status, 200)
    await refresh(b)
    const after = (await get(a, '/api/stats/kommunen')).json()
    const afterBy = (name: string) => after.kommunen.find((k: { name: string }) => k.name === name)
    t.equal(afterBy('marburg').datasets, 3, 'the former Kommune lost it')
    t.equal(afterBy('fulda').datasets, 2, 'the new one has it')
    const deleted = await call(a, sysadmin, 'package_delete', { id: 'stats-moving' })
    t.equal(deleted.status, 200)
    await refresh()
    t.equal(
      (await get(b, '/api/stats/kommunen')).json().kommunen.find((k: { name: string }) => k.name === 'fulda').datasets,
      1,
      'a deleted dataset counts nowhere',
    )
    // Restores giessen's figures: a reference change recomputes every Kommune.
    await appendChange(backend.store.db, { kind: 'reference' }).execute()
    await refresh()
    t.not(
      (await get(a, '/api/stats/kommunen')).json().kommunen.find((k: { name: string }) => k.name === 'giessen')
        .distributions,
      424242,
    )
  })

  await t.test('sort by a field: nulls last, ties by name; a bad sort is a 400', async (t) => {
    const list = (await get(a, '/api/stats/kommunen?sort=datasets%20desc')).json()
    const counts = list.kommunen.map((k: { datasets: number }) => k.datasets)
    t.same(
      counts,
      [...counts].sort((x: number, y: number) => y - x),
    )
    t.equal(list.kommunen[0].name, 'marburg')
    const scored = (await get(a, '/api/stats/kommunen?sort=score_mean_portal')).json()
    const means = scored.kommunen.map((k: { score_mean_portal: number | null }) => k.score_mean_portal)
    const firstNull = means.indexOf(null)
    if (firstNull >= 0)
      t.ok(
        means.slice(firstNull).every((x: unknown) => x === null),
        'nulls last',
      )
    t.equal((await get(a, '/api/stats/kommunen?sort=password')).status, 400)
  })

  await t.test('detail: lowest-scoring public datasets, top fixes, hostile titles intact in JSON; 404', async (t) => {
    const r = await get(a, '/api/stats/kommunen/marburg')
    t.equal(r.status, 200)
    t.match(r.headers['content-type'], /application\/json/)
    const d = r.json()
    t.ok(Value.Check(KommuneDetail, d), 'the documented shape', {
      errors: [...Value.Errors(KommuneDetail, d)].slice(0, 3),
    })
    t.equal(d.name, 'marburg')
    t.equal(d.datasets, 3)
    const names = d.lowest_scoring.map((x: { name: string }) => x.name).sort()
    t.same(names, ['stats-public-0', 'stats-public-1', 'stats-public-2'], 'private and draft datasets never listed')
    const hostile = d.lowest_scoring.find((x: { name: string }) => x.name === 'stats-public-1')
    const stored = (await call(a, admin, 'package_show', { id: 'stats-public-1' })).body.result.title
    t.equal(stored, HOSTILE_TITLE)
    t.equal(hostile.title, HOSTILE_TITLE, 'the hostile title comes back as stored')
    t.ok(d.top_fixes.length > 0)
    for (const fix of d.top_fixes) {
      t.ok(fix.points > 0 && fix.datasets >= 1 && fix.datasets <= 3, `fix ${fix.fix_id} counts public datasets only`)
      t.ok(fix.fix.de && fix.fix.en)
    }
    const sorted = d.top_fixes.map((f: { points: number }) => f.points)
    t.same(
      sorted,
      [...sorted].sort((x: number, y: number) => y - x),
      'worth most first',
    )
    // By id as well as by name.
    t.equal((await get(a, `/api/stats/kommunen/${marburg.id}`)).json().name, 'marburg')
    const missing = await get(a, '/api/stats/kommunen/nirgendwo%3Cx%3E')
    t.equal(missing.status, 404)
    t.equal(missing.json().success, false)
    t.equal(missing.json().error.__type, 'Not Found Error')
  })

  await t.test('drill-down: every public dataset by score, lowest first, paged, with its own fixes', async (t) => {
    const all = await get(a, '/api/stats/kommunen/marburg/datasets?limit=100')
    t.equal(all.status, 200)
    const page = all.json()
    t.ok(Value.Check(KommuneDatasets, page), 'the documented shape', {
      errors: [...Value.Errors(KommuneDatasets, page)].slice(0, 3),
    })
    t.equal(page.count, 3, 'public datasets only')
    const names = page.datasets.map((d: { name: string }) => d.name)
    t.same([...names].sort(), ['stats-public-0', 'stats-public-1', 'stats-public-2'], 'private and draft never listed')
    const scores = page.datasets.map((d: { score: number }) => d.score)
    t.same(
      scores,
      [...scores].sort((x: number, y: number) => x - y),
      'lowest first',
    )
    for (const d of page.datasets) {
      // Exactly what the dataset's own explanation says (one source of the fixes).
      const own = (await get(a, `/dataset/${d.name}/quality`)).json()
      t.equal(d.score, own.score, `${d.name}: its stored score`)
      t.equal(d.band, own.band)
      const worth = own.fixes.filter((f: { worth: number }) => f.worth > 0)
      t.same(
        d.fixes.map((f: { fix_id: string; points: number }) => [f.fix_id, f.points]),
        worth.map((f: { id: string; worth: number }) => [f.id, f.worth]),
        `${d.name}: its own fixes, worth most first`,
      )
      const english = (await get(a, `/dataset/${d.name}/quality?lang=en`)).json()
      t.same(
        d.fixes.map((f: { fix: { de: string; en: string } }) => [f.fix.de, f.fix.en]),
        worth.map((f: { id: string; text: string }) => [
          f.text,
          english.fixes.find((e: { id: string }) => e.id === f.id).text,
        ]),
        'German and English',
      )
    }
    t.ok(
      page.datasets.some((d: { fixes: unknown[] }) => d.fixes.length > 0),
      'some fixes to show',
    )
    const hostile = page.datasets.find((d: { name: string }) => d.name === 'stats-public-1')
    t.equal(hostile.title, HOSTILE_TITLE, 'a hostile title as stored, in JSON')
    // Pages: the same order, cut.
    const second = (await get(a, '/api/stats/kommunen/marburg/datasets?limit=1&offset=1')).json()
    t.same(second.datasets, page.datasets.slice(1, 2))
    t.equal(second.count, 3)
    t.same((await get(a, '/api/stats/kommunen/marburg/datasets?offset=3')).json().datasets, [], 'past the end: empty')
    t.same((await get(b, '/api/stats/kommunen/marburg/datasets?limit=100')).json(), page, 'the other server alike')
    // Proportional mode: the proportional scores, ordered by them.
    const prop = (await get(a, `/api/stats/kommunen/${marburg.id}/datasets?mode=proportional&limit=100`)).json()
    t.equal(prop.mode, 'proportional')
    for (const d of prop.datasets)
      t.equal(d.score, (await get(a, `/dataset/${d.name}/quality?mode=proportional`)).json().score)
    // Privacy at the request, before any refresh: a dataset made private leaves the list at once.
    const made = await call(a, admin, 'package_create', validDataset('marburg', { name: 'stats-drill-x' }))
    t.equal(made.status, 200)
    t.ok(
      (await get(b, '/api/stats/kommunen/marburg/datasets?limit=100'))
        .json()
        .datasets.some((d: { name: string }) => d.name === 'stats-drill-x'),
      'a new public dataset is listed at once',
    )
    t.equal((await call(a, admin, 'package_patch', { id: 'stats-drill-x', private: true })).status, 200)
    const after = (await get(b, '/api/stats/kommunen/marburg/datasets?limit=100')).json()
    t.equal(after.count, 3)
    t.notOk(
      after.datasets.some((d: { name: string }) => d.name === 'stats-drill-x'),
      'private now: gone at once',
    )
    t.equal((await call(a, admin, 'package_delete', { id: 'stats-drill-x' })).status, 200)
    // Hostile and wrong parameters: 400 or 404, never a 500 nor a huge page.
    for (const q of ['limit=0', 'limit=101', 'limit=1e9', 'offset=-1', 'offset=x', 'mode=all', 'mode=%3Cscript%3E'])
      t.equal((await get(a, `/api/stats/kommunen/marburg/datasets?${q}`)).status, 400, q)
    t.equal((await get(a, '/api/stats/kommunen/nirgendwo/datasets')).status, 404)
    t.equal((await get(a, `/api/stats/kommunen/${'%3C'.repeat(50)}/datasets`)).status, 404)
  })

  await t.test('history: public counts per day, one snapshot per Kommune and day whatever the servers', async (t) => {
    for (let i = 0; i < 3; i++) {
      await refresh(i % 2 ? a : b)
      await get(a, '/api/stats/history?kommune=marburg')
      await get(b, '/api/stats/history')
    }
    const h = (await get(a, '/api/stats/history?kommune=marburg')).json()
    t.equal(h.kommunen.length, 1)
    t.ok(Value.Check(History, h), 'the documented shape', { errors: [...Value.Errors(History, h)].slice(0, 3) })
    const days = h.kommunen[0].days
    t.ok(days.length >= 1)
    const today = days.at(-1)
    t.equal(today.date, h.to)
    t.equal(today.datasets, 3, 'public datasets only')
    t.equal(today.distributions, 3)
    t.equal(today.open_licence_share, 1)
    t.equal(today.bands.excellent + today.bands.good + today.bands.sufficient + today.bands.bad, 3)
    const list = (await get(a, '/api/stats/kommunen/marburg')).json()
    t.same(today.themes, list.themes, "the day's themes are the Kommune's (public datasets only)")
    t.equal(today.themes.TRAN, 3)
    t.notOk('EDUC' in today.themes, 'the private theme counts nowhere')
    t.same(today.indicators, list.indicators, "the day's heat map row")
    t.same(today.indicators_unknown, list.indicators_unknown)
    t.same(today.usage, list.usage, "the day's usage")
    t.equal(today.broken_links, list.broken_links)
    t.equal(today.checked_links, list.checked_links)
    t.same(h, (await get(b, '/api/stats/history?kommune=marburg')).json(), 'both servers alike')
    const rows = await statsDb(a.store.db).selectFrom('stats_kommune_day').select(['day', 'owner_org']).execute()
    const keys = rows.map((r) => `${r.day}|${r.owner_org}`)
    t.equal(new Set(keys).size, keys.length, 'no duplicate (day, Kommune)')
    t.equal(rows.filter((r) => r.owner_org === marburg.id).length, 1, 'one snapshot of marburg today')

    const all = (await get(a, '/api/stats/history')).json()
    t.ok(all.kommunen.length >= 2)
    t.equal((await get(a, '/api/stats/history?kommune=nowhere')).status, 404)
    t.equal((await get(a, '/api/stats/history?from=2025-01-01&to=2026-12-31')).status, 400, 'more than 366 days')
    t.equal((await get(a, '/api/stats/history?from=2025-02-30')).status, 400, 'not a day')
    t.equal((await get(a, '/api/stats/history?from=2025-03-02&to=2025-03-01')).status, 400, 'from after to')
    const past = (await get(a, '/api/stats/history?kommune=marburg&from=2000-01-01&to=2000-01-31')).json()
    t.same(past.kommunen[0].days, [], 'no days before the first record')
  })

  await t.test('CSV: one row per Kommune, RFC 4180, formula-safe, hostile titles survive', async (t) => {
    await backend.store.db.updateTable('organization').set({ title: HOSTILE }).where('id', '=', fulda.id).execute()
    await appendChange(backend.store.db, { kind: 'reference' }).execute()
    await a.service.catchUpChangeFeed()
    await b.service.catchUpChangeFeed()
    await refresh()
    const r = await get(a, '/api/stats/kommunen?format=csv')
    t.equal(r.status, 200)
    t.match(r.headers['content-type'], /^text\/csv/)
    const rows = parseCsv(r.body)
    const header = rows[0]
    t.equal(header[0], 'name')
    for (const col of ['datasets', 'band_excellent', 'theme_TRAN', 'usage_views', 'indicator_knownLicence'])
      t.ok(header.includes(col), `column ${col}`)
    t.equal(rows.length - 1, (await get(a, '/api/stats/kommunen')).json().kommunen.length, 'one row per Kommune')
    for (const row of rows) t.equal(row.length, header.length, 'every row as wide as the header')
    const col = (name: string) => header.indexOf(name)
    const mrow = rows.find((x) => x[0] === 'marburg')!
    t.equal(mrow[col('datasets')], '3', 'public datasets only')
    t.equal(mrow[col('theme_EDUC')], '0', 'the private theme counts nowhere')
    t.equal(mrow[col('theme_TRAN')], '3')
    const frow = rows.find((x) => x[0] === 'fulda')!
    const title = frow[col('title')]
    t.ok(title.startsWith("'="), 'a formula is prefixed with a quote')
    t.ok(title.includes('"quoted", line\r\nbreak'), 'quotes, comma and line break kept inside one field')
    t.notOk(/\u0000/.test(r.body), 'no NUL in the CSV')
    t.ok(title.includes('\uFFFD'), 'NUL and the lone surrogate became U+FFFD')
    // The JSON list is valid JSON with the title as stored.
    const json = (await get(a, '/api/stats/kommunen')).json()
    t.equal(same(json.kommunen.find((k: { name: string }) => k.name === 'fulda').title), same(HOSTILE))
    t.same((await get(b, '/api/stats/kommunen?format=csv')).body, r.body, 'the other server writes the same CSV')
  })

  await t.test('links and usage: public URLs and views only', async (t) => {
    const db = linksDb(backend.store.db)
    const check = (url: string, status: 'reachable' | 'unreachable') => ({
      url_hash: urlHash(url),
      url,
      status,
      http_status: status === 'reachable' ? 200 : 404,
      error_code: status === 'reachable' ? null : ('http_error' as const),
      final_url: null,
      redirects: 0,
      content_type: null,
      declared_media_type: null,
      media_type_mismatch: 0,
      checked_at: '2026-01-01T00:00:00.000Z',
      next_check_at: '2026-01-02T00:00:00.000Z',
      consecutive_failures: 0,
    })
    // validDataset's resource URL is shared by the public datasets; the private ones' URLs are broken.
    await db.insertInto('link_check').values(check('https://example.org/zaehlung.csv', 'reachable')).execute()
    await db.insertInto('link_check').values(check('https://example.org/private-0.pdf', 'unreachable')).execute()
    await db
      .insertInto('link_check_history')
      .values({
        url_hash: 'x'.repeat(64),
        checked_at: '2026-01-01T00:00:00.000Z',
        status: 'reachable',
        http_status: 200,
        error_code: null,
        redirects: 0,
        content_type: null,
        duration_ms: 1,
      })
      .execute()
    const aggregates = new StatsAggregates(a.store, {
      organizations: () => a.service.reference.organizations.values(),
      sideRefreshMs: 0,
    })
    const today = await aggregates.today()
    const privateId = (
      await a.store.db
        .selectFrom('package')
        .select('id')
        .where('name', '=', 'stats-private-0')
        .executeTakeFirstOrThrow()
    ).id
    await db
      .insertInto('usage_daily')
      .values([
        { day: today, package_id: created[0], owner_org: marburg.id, kind: 'view_api', count: 5 },
        { day: today, package_id: created[0], owner_org: marburg.id, kind: 'download', count: 2 },
        { day: today, package_id: privateId, owner_org: marburg.id, kind: 'view_api', count: 1000 },
      ])
      .execute()
    await aggregates.refresh()
    const m = (await get(b, '/api/stats/kommunen/marburg')).json()
    t.equal(m.checked_link_share, 1, 'the one public URL is checked')
    t.equal(m.broken_link_share, 0, 'the broken private URL does not count')
    t.equal(m.checked_links, 1, 'one distinct public URL checked')
    t.equal(m.broken_links, 0, 'the broken private URL is not counted')
    t.same(
      m.usage,
      { views: 5, downloads: 2, harvester_visits: 0, period_days: 30 },
      'views of private datasets do not count',
    )
    t.same((await get(a, '/api/stats/kommunen/marburg')).json(), m)
  })

  await t.test(
    'a clock behind neither moves the day back nor duplicates a snapshot nor forces refreshes',
    async (t) => {
      const real = new StatsAggregates(a.store, {
        organizations: () => a.service.reference.organizations.values(),
        sideRefreshMs: 0,
      })
      const today = await real.today()
      const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10)
      const skewed = new StatsAggregates(b.store, {
        organizations: () => b.service.reference.organizations.values(),
        sideRefreshMs: 0,
        today: async () => yesterday,
      })
      await real.refresh()
      const before = (await real.current())!
      const state = await statsDb(a.store.db).selectFrom('stats_state').selectAll().executeTakeFirstOrThrow()
      const seen = (await skewed.current())!
      t.equal(seen.as_of, today, 'the skewed server answers the stored day')
      t.equal(seen.generated, before.generated, 'and the stored aggregates, not a refresh of its own')
      t.equal(await skewed.refresh(), true)
      const stateAfter = await statsDb(a.store.db).selectFrom('stats_state').selectAll().executeTakeFirstOrThrow()
      t.same(stateAfter, state, 'the state did not change: nothing was behind, the day did not move back')
      const rows = await statsDb(a.store.db)
        .selectFrom('stats_kommune_day')
        .select(['day'])
        .where('day', '=', yesterday)
        .execute()
      t.equal(rows.length, 0, 'no snapshot written for the skewed day')
    },
  )

  // Kassel: datasets of their own whose links are served by a local server, never checked until the test says so.
  const server = await startFixtureServer(t)
  const kassel = a.service.reference.organization('kassel')!
  const kasselEditor = await userWithToken(a, 'stats-kassel', { org: 'kassel', role: 'editor' })
  const kasselSysadmin = await userWithToken(a, 'stats-sysadmin-kassel', { sysadmin: true })
  const kasselNames = ['stats-links-ok', 'stats-links-broken', 'stats-links-mixed']
  const kasselResources = [
    [{ name: 'a', url: `${server.base}/ok`, download_url: `${server.base}/file/a.csv`, format: 'CSV' }],
    [{ name: 'b', url: `${server.base}/missing`, download_url: `${server.base}/error`, format: 'XLSX' }],
    [
      { name: 'c', url: `${server.base}/missing`, download_url: `${server.base}/error`, format: 'XLSX' },
      { name: 'd', url: `${server.base}/missing`, download_url: `${server.base}/error`, format: 'CSV' },
    ],
  ]
  for (const [i, name] of kasselNames.entries()) {
    const r = await call(
      a,
      kasselEditor,
      'package_create',
      validDataset('kassel', { name, resources: kasselResources[i] }),
    )
    t.equal(r.status, 200, `${name} created`, { body: r.body })
  }
  const kasselStats = async () =>
    (await get(a, '/api/stats/kommunen')).json().kommunen.find((k: { name: string }) => k.name === 'kassel')
  const LINK = ['accessUrlStatusCode', 'downloadUrlStatusCode']

  await t.test('link indicators: unknown until checked (not 0 %), the true share once checked', async (t) => {
    await refresh()
    const k = await kasselStats()
    t.ok(Value.Check(KommunenList, (await get(a, '/api/stats/kommunen')).json()), 'the documented shape')
    for (const id of LINK) {
      t.equal(k.indicators[id], null, `${id}: no result known, so no share (not 0)`)
      t.equal(k.indicators_unknown[id], 3, `${id}: the three datasets unknown`)
    }
    t.equal(k.indicators.keywordAvailability, 1, 'an indicator without links has its share')
    t.equal(k.indicators_unknown.keywordAvailability, 0)
    const csv = parseCsv((await get(a, '/api/stats/kommunen?format=csv')).body)
    const col = (name: string) => csv[0].indexOf(name)
    const row = csv.find((x) => x[0] === 'kassel')!
    t.equal(row[col('indicator_accessUrlStatusCode')], '', 'CSV: an unknown share is an empty cell')
    t.equal(row[col('indicator_unknown_accessUrlStatusCode')], '3', 'CSV: how many are unknown')
    t.equal(row[col('indicator_unknown_keywordAvailability')], '0')

    // The link checker records its results; the datasets holding the URLs are rescored (change feed), then stats.
    const hashes = await syncJobs(a.store, { orgId: kassel.id })
    const summary = await new LinkChecker(a.store, testLinkSettings({ perHost: 4 })).runDue({ among: hashes })
    t.equal(summary.reachable, 2, '/ok and /file/a.csv')
    t.equal(summary.unreachable, 2, '/missing and /error')
    t.equal(await rescorePending(a.service), 3, 'the three datasets rescored')
    await refresh()
    const after = await kasselStats()
    for (const id of LINK) {
      t.equal(after.indicators[id], share(1, 3), `${id}: one of three datasets reachable`)
      t.equal(after.indicators_unknown[id], 0, `${id}: nothing unknown any more`)
    }
    t.same((await get(b, '/api/stats/kommunen')).json(), (await get(a, '/api/stats/kommunen')).json())
  })

  await t.test('the figures are the true ones: scores, bands, non-proprietary share, median age', async (t) => {
    const vocab = vocabularies()
    const db = qualityDb(backend.store.db)
    const check = async (org: { id: string; name: string }) => {
      const k = (await get(a, '/api/stats/kommunen')).json().kommunen.find((x: { name: string }) => x.name === org.name)
      const rows = await db
        .selectFrom('package_quality as q')
        .innerJoin('package as p', 'p.id', 'q.package_id')
        .select(['p.name', 'q.score_portal', 'q.score_proportional', 'q.band_portal', 'q.band_proportional'])
        .where('p.owner_org', '=', org.id)
        .where('p.visible', '=', 1)
        .execute()
      t.equal(rows.length, k.datasets, `${org.name}: every public dataset scored`)
      t.ok(rows.length > 0)
      const mean = (xs: number[]) => Math.round((xs.reduce((x, y) => x + y, 0) / xs.length) * 100) / 100
      t.equal(k.score_mean_portal, mean(rows.map((r) => Number(r.score_portal))), `${org.name}: mean score, portal`)
      t.equal(
        k.score_mean_proportional,
        mean(rows.map((r) => Number(r.score_proportional))),
        `${org.name}: mean score, proportional`,
      )
      const count = (key: 'band_portal' | 'band_proportional') => {
        const bands = { excellent: 0, good: 0, sufficient: 0, bad: 0 }
        for (const r of rows) bands[r[key] as keyof typeof bands]++
        return bands
      }
      t.same(k.bands, count('band_portal'), `${org.name}: bands, portal`)
      t.same(k.bands_proportional, count('band_proportional'), `${org.name}: bands, proportional`)
      // Non-proprietary: a dataset with at least one distribution whose format the file-type vocabulary calls so.
      let nonProprietary = 0
      for (const r of rows) {
        const shown = (await call(a, kasselSysadmin, 'package_show', { id: r.name })).body.result
        const formats = (shown.resources as Array<{ format: string }>).map((x) => x.format)
        if (formats.some((f) => vocab.fileTypes.find(f)?.non_proprietary === true)) nonProprietary++
      }
      t.equal(k.non_proprietary_share, share(nonProprietary, rows.length), `${org.name}: non-proprietary share`)
      return { k, nonProprietary }
    }
    await check(marburg)
    const { nonProprietary } = await check(kassel)
    t.equal(nonProprietary, 2, 'Kassel: CSV, XLSX, XLSX and CSV: two of three')
    t.equal(vocab.fileTypes.find('XLSX')?.non_proprietary, false, 'XLSX is proprietary (the premise)')

    // Backdated modifications (straight in the database), then a recomputation: the median of the true ages.
    const { as_of: asOf } = (await get(a, '/api/stats/kommunen')).json()
    const daysBefore = (n: number) =>
      new Date(Date.parse(`${asOf}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10) + 'T12:00:00.000000'
    for (const [i, name] of kasselNames.entries())
      await backend.store.db
        .updateTable('package')
        .set({ metadata_modified: daysBefore([5, 40, 12][i]) })
        .where('name', '=', name)
        .execute()
    await appendChange(backend.store.db, { kind: 'reference' }).execute()
    await refresh()
    const list = (await get(a, '/api/stats/kommunen')).json()
    const k = list.kommunen.find((x: { name: string }) => x.name === 'kassel')
    const stored = await backend.store.db
      .selectFrom('package')
      .select('metadata_modified')
      .where('name', 'in', kasselNames)
      .execute()
    const ages = stored.map(
      (r) =>
        (Date.parse(`${list.as_of}T00:00:00Z`) - Date.parse(`${r.metadata_modified.slice(0, 10)}T00:00:00Z`)) /
        86_400_000,
    )
    t.ok(k.median_age_days > 0, 'older than today')
    t.equal(k.median_age_days, median(ages), 'the median of the backdated ages')
    if (list.as_of === asOf) t.equal(k.median_age_days, 12)
  })

  /**
   * Kassel's stored aggregate as an older version stored it (without `fields`), visible to the servers at once (a
   * new stats version); what the servers answer now, for comparing with after the next refresh.
   */
  const storeOlderKassel = async (...fields: string[]) => {
    const db = statsDb(backend.store.db)
    const current = (await get(a, '/api/stats/kommunen')).json()
    const row = await db
      .selectFrom('stats_kommune')
      .selectAll()
      .where('owner_org', '=', kassel.id)
      .executeTakeFirstOrThrow()
    const body = JSON.parse(row.body)
    for (const field of fields) delete body.stats[field]
    await db
      .updateTable('stats_kommune')
      .set({ body: JSON.stringify(body) })
      .where('owner_org', '=', kassel.id)
      .execute()
    await db
      .updateTable('stats_state')
      .set({ version: sql`version + 1` })
      .execute()
    return current
  }

  await t.test('aggregates stored before checked_links: answered as null, then all recomputed', async (t) => {
    const current = await storeOlderKassel('checked_links', 'broken_links')
    const old = await kasselStats()
    t.equal(old.checked_links, null, 'an old aggregate: the counts it lacks are null, not made up')
    t.equal(old.broken_links, null)
    await refresh()
    const after = (await get(a, '/api/stats/kommunen')).json()
    t.same(after.kommunen, current.kommunen, 'the refresh recomputed it (nothing else was behind)')
    t.type((await kasselStats()).checked_links, 'number')
  })

  await t.test('aggregates stored before indicators_unknown: answered as unknown, then all recomputed', async (t) => {
    const current = await storeOlderKassel('indicators_unknown')
    const old = await kasselStats()
    t.equal(old.indicators.accessUrlStatusCode, null, 'an old aggregate: the link shares are not trusted')
    t.equal(old.indicators_unknown.accessUrlStatusCode, old.datasets)
    t.equal(old.indicators_unknown.keywordAvailability, 0)
    await refresh()
    const after = (await get(a, '/api/stats/kommunen')).json()
    t.same(after.kommunen, current.kommunen, 'the refresh recomputed it (nothing else was behind)')
  })

  for (const name of kasselNames) t.equal((await call(a, kasselSysadmin, 'package_delete', { id: name })).status, 200)
  await refresh()
})
