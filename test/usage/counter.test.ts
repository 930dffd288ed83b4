import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp, insertDatasets } from '../helpers/app.js'
import { UsageCounter, MAX_PENDING_KEYS, type CountedRequest } from '../../src/usage/counter.js'
import { normaliseQuery, MAX_QUERY_LENGTH } from '../../src/usage/normalise.js'
import { isHarvester } from '../../src/usage/harvesters.js'
import { linksDb } from '../../src/links/tables.js'

const GET: CountedRequest = { method: 'GET', headers: { 'user-agent': 'Mozilla/5.0' } }

t.test('query normalisation', async (t) => {
  t.equal(normaliseQuery('  Wasser   QUALITÄT\n\tHessen '), 'wasser qualität hessen')
  t.equal(normaliseQuery('a\u0000b\u0007c'), 'a b c', 'control characters are spaces')
  t.equal(normaliseQuery('x\ud800y'), 'xy', 'a lone surrogate goes')
  t.equal(normaliseQuery('😀 Emoji'), '😀 emoji', 'pairs stay')
  t.equal(normaliseQuery('Cafe\u0301'), 'café', 'NFC')
  for (const nothing of ['', '   ', '*:*', '*', undefined, null, 42, ['a']])
    t.equal(normaliseQuery(nothing), null, `nothing: ${JSON.stringify(nothing)}`)
  const long = normaliseQuery('ab '.repeat(100_000))!
  t.ok(long.length <= MAX_QUERY_LENGTH, 'bounded length')
  t.equal(long, long.trim())
  const cut = normaliseQuery('a'.repeat(MAX_QUERY_LENGTH - 1) + '😀😀')!
  t.equal(cut, 'a'.repeat(MAX_QUERY_LENGTH - 1), 'never cuts a surrogate pair in two')
})

t.test('harvesters by user agent', async (t) => {
  for (const ua of [
    'ckanext-harvest/1.0',
    'CKAN/2.10 (+https://govdata.de)',
    'GovData DCAT-AP.de Harvester',
    'python-requests/2.31.0',
    'piveau-consus',
    'GoDonuLinkChecker/1.0 (+http://x)',
    'ckanext-dcat',
  ])
    t.ok(isHarvester(ua), ua)
  for (const ua of [undefined, '', 'Mozilla/5.0 (Windows NT 10.0) Firefox/120', 'curl/8.0', ['ckanext-harvest']])
    t.notOk(isHarvester(ua), `not: ${JSON.stringify(ua)}`)
})

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const [id] = await insertDatasets(app, [
    { name: 'counter-marburg', title: 'Counter', owner_org: 'marburg', resources: [] },
  ])
  const db = linksDb(backend.store.db)
  const total = async () =>
    Number(
      (
        await db
          .selectFrom('usage_daily')
          .select((eb) => eb.fn.sum<string>('count').as('n'))
          .where('package_id', '=', id)
          .executeTakeFirst()
      )?.n ?? 0,
    )

  await t.test('counts made while a flush runs go with the next flush; none lost, none doubled', async (t) => {
    const counter = new UsageCounter(backend.store)
    for (let i = 0; i < 50; i++) counter.datasetView(GET, id, 'api')
    const flushing = counter.flush()
    for (let i = 0; i < 30; i++) counter.datasetView(GET, id, 'api')
    const second = counter.flush()
    for (let i = 0; i < 20; i++) counter.datasetView(GET, id, 'api')
    await Promise.all([flushing, second, counter.flush()])
    t.equal(await total(), 100)
    counter.datasetView({ method: 'HEAD', headers: {} }, id, 'api')
    counter.download({ method: 'HEAD', headers: {} }, id)
    await counter.flush()
    t.equal(await total(), 100, 'HEAD is not counted')
  })

  await t.test('a failed flush puts its counts back', async (t) => {
    /** A counter whose database write fails until `fail` is cleared (as when the database is away). */
    class FailingCounter extends UsageCounter {
      fail = true
      protected override async write(pending: Map<string, number>, zero: Map<string, number>): Promise<void> {
        if (this.fail) throw new Error('database gone')
        return super.write(pending, zero)
      }
    }
    const counter = new FailingCounter(backend.store)
    for (let i = 0; i < 7; i++) counter.datasetView(GET, id, 'rdf')
    await t.rejects(counter.flush(), /database gone/)
    t.equal(await total(), 100, 'nothing written')
    counter.fail = false
    counter.datasetView(GET, id, 'rdf')
    await counter.flush()
    t.equal(await total(), 108, 'the 7 went with the next flush')
  })

  await t.test('memory is bounded: distinct keys beyond the limit are dropped, not kept', async (t) => {
    const counter = new UsageCounter(backend.store)
    for (let i = 0; i < MAX_PENDING_KEYS + 10; i++) counter.zeroResultSearch(`query ${i}`)
    counter.zeroResultSearch('query 1')
    // The pending map holds MAX_PENDING_KEYS keys; the write of so many is skipped here (clear the counter).
    t.equal((counter as unknown as { zero: Map<string, number> }).zero.size, MAX_PENDING_KEYS)
    t.equal(
      (counter as unknown as { zero: Map<string, number> }).zero.get(
        `${new Date().toISOString().slice(0, 10)}\tquery 1`,
      ),
      2,
      'known keys still count',
    )
  })
})
