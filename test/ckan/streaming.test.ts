import t from 'tap'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { forEachBackend } from '../helpers/backends.js'
import { api, insertDatasets, startApp } from '../helpers/app.js'
import { RawJson } from '../../src/json.js'
import { PACKAGE_LIST_BATCH } from '../../src/ckan/actions/package_search.js'
import type { SearchService } from '../../src/search/search.js'

/** One GET over a real socket: the status, the body received, and whether the transfer ended cleanly. */
function get(port: number, path: string): Promise<{ status: number; body: string; complete: boolean; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      const done = (complete: boolean) => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), complete, headers: res.headers })
      res.on('end', () => done(res.complete))
      res.on('aborted', () => done(false))
      res.on('error', () => done(false))
    })
    req.on('error', reject)
    req.end()
  })
}

const parses = (text: string) => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)

  await t.test('a user string equal to a former marker stays a string (author facet)', async (t) => {
    await insertDatasets(app, [
      { name: 'marker-author', title: 'Marker', author: '\u0000raw0', notes: '"\\u0000raw0"', owner_org: 'marburg', tags: [{ name: 'marker' }] },
      { name: 'marker-author-2', title: 'Marker 2', author: '\u0000raw1', notes: '\u0000raw0', owner_org: 'marburg', tags: [{ name: 'marker' }] },
    ])
    for (const method of ['GET', 'POST'] as const) {
      const { status, body } = await api(app, 'package_search', { fq: 'tags:marker', 'facet.field': ['author'], sort: 'name asc' }, method)
      t.equal(status, 200)
      t.same(body.result.results.map((r: { author: string }) => r.author), ['\u0000raw0', '\u0000raw1'])
      t.same(body.result.facets.author, { '\u0000raw0': 1, '\u0000raw1': 1 })
      t.equal(body.result.results[0].notes, '"\\u0000raw0"')
    }
  })

  const count = PACKAGE_LIST_BATCH * 2 + 17
  await insertDatasets(
    app,
    Array.from({ length: count }, (_, i) => ({ name: `stream-${String(i).padStart(4, '0')}`, title: `Stream ${i}`, owner_org: i % 2 ? 'kassel' : 'fulda', tags: [{ name: 'stream' }] })),
  )
  const total = (await api(app, 'package_search', { rows: 0 })).body.result.count as number

  await t.test('current_package_list_with_resources streams batch after batch in package_search’s order', async (t) => {
    const expected = (await api(app, 'package_search', { rows: 1000 })).body.result.results.map((r: { id: string }) => r.id)
    t.equal(expected.length, total)
    const cases: Array<[Record<string, unknown>, number, number]> = [
      [{ limit: 1000 }, 0, total],
      [{ limit: PACKAGE_LIST_BATCH * 2 + 5, offset: 3 }, 3, PACKAGE_LIST_BATCH * 2 + 5],
      [{ limit: PACKAGE_LIST_BATCH, page: 2 }, PACKAGE_LIST_BATCH, PACKAGE_LIST_BATCH],
      [{ limit: 10, offset: total - 4 }, total - 4, 4],
      [{ limit: 10, offset: total + 10 }, 0, 0],
      [{ limit: 0 }, 0, 0],
      [{}, 0, 10],
    ]
    for (const [params, from, length] of cases) {
      const { status, body } = await api(app, 'current_package_list_with_resources', params)
      t.equal(status, 200, JSON.stringify(params))
      t.same(body.result.map((r: { id: string }) => r.id), expected.slice(from, from + length), JSON.stringify(params))
    }
    const full = (await api(app, 'current_package_list_with_resources', { limit: 1 })).body.result[0]
    t.ok(full.resources && full.organization, 'full dicts with resources and organization')
  })

  await t.test('large answers are streamed, over a real socket, and parse', async (t) => {
    await insertDatasets(app, Array.from({ length: 6 }, (_, i) => ({ name: `gross-${i}`, title: `Groß ${i}`, notes: `${'ä'.repeat(30_000)}\u0000raw${i}`, owner_org: 'giessen', tags: [{ name: 'gross' }] })))
    await app.fastify.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.fastify.server.address() as AddressInfo
    for (const path of ['/api/3/action/package_search?fq=tags:gross&rows=1000', '/api/3/action/current_package_list_with_resources?limit=1000']) {
      const response = await get(port, path)
      t.equal(response.status, 200)
      t.ok(response.complete, 'the transfer ends')
      t.equal(response.headers['content-length'], undefined, 'no length known in advance: streamed')
      t.equal(response.headers['transfer-encoding'], 'chunked')
      const result = JSON.parse(response.body).result
      const results = Array.isArray(result) ? result : result.results
      t.equal(results.filter((r: { name: string }) => r.name.startsWith('gross-')).length, 6)
    }
    const small = await get(port, '/api/3/action/package_search?fq=tags:marker&rows=1')
    t.ok(small.headers['content-length'], 'a short answer has its length')

    await t.test('search results as an AsyncIterable, and failures before and after the first byte', async (t) => {
      const search = app.search as { search: SearchService['search'] }
      const original = search.search
      t.teardown(() => {
        search.search = original
      })
      const big = (i: number) => new RawJson(JSON.stringify({ id: `doc-${i}`, notes: 'n'.repeat(50_000) }))
      const answer = (results: AsyncIterable<unknown>) => ({ count: 3, sort: 'id asc', results, facets: {}, search_facets: {} })

      search.search = (async () => answer((async function* () {
        for (let i = 0; i < 3; i++) yield big(i)
      })())) as never
      const ok = await get(port, '/api/3/action/package_search')
      t.equal(ok.status, 200)
      t.ok(ok.complete)
      t.same(JSON.parse(ok.body).result.results.map((r: { id: string }) => r.id), ['doc-0', 'doc-1', 'doc-2'])

      search.search = (async () => answer((async function* () {
        yield* []
        throw new Error('the database went away before anything was written')
      })())) as never
      const early = await get(port, '/api/3/action/package_search')
      t.equal(early.status, 500, 'nothing sent yet: an error envelope')
      t.same(JSON.parse(early.body).error.__type, 'Internal Server Error')

      search.search = (async () => answer((async function* () {
        for (let i = 0; i < 3; i++) yield big(i)
        throw new Error('the database went away while streaming')
      })())) as never
      const late = await get(port, '/api/3/action/package_search')
      t.equal(late.status, 200, 'the status line was sent with the first chunk')
      t.notOk(late.complete, 'the transfer is cut off, not ended')
      t.ok(late.body.length > 50_000, 'some of the answer arrived')
      t.notOk(parses(late.body), 'what arrived is not valid JSON')

      const after = await get(port, '/api/3/action/status_show')
      t.equal(after.status, 200, 'the server goes on')
    })
  })
})
