import t, { type Test } from 'tap'
import { sql, type SqlBool } from 'kysely'
import { forEachBackend } from '../helpers/backends.js'
import { api, insertDatasets, startApp } from '../helpers/app.js'
import { compileQuery, type CompileContext } from '../../src/search/compile.js'
import { fullTextAdapter } from '../../src/search/fulltext.js'
import { balancedJoin } from '../../src/search/sql-tree.js'
import { isQueryLimitError, FACET_LIMIT_MAX, FACET_VALUE_MAX_LENGTH, MAX_FACET_FIELDS } from '../../src/search/search.js'
import { MAX_FILTER_QUERIES, REQUEST_MAX_CLAUSES, REQUEST_MAX_QUERY_LENGTH } from '../../src/search/budget.js'
import type { Query } from '../../src/search/ast.js'

/** The review's filter: 199 negated title prefixes (`-title:zz0* … -title:zz198*`). */
const PREFIX_ITEM = Array.from({ length: 199 }, (_, i) => `-title:zz${i}*`).join(' ')

function isSearchQueryError(t: Test, response: { status: number; body: { success?: boolean; error?: { __type?: string; message?: string } } }, what: string) {
  t.equal(response.status, 400, `${what}: 400`)
  t.equal(response.body.success, false, `${what}: CKAN's envelope`)
  t.equal(response.body.error?.__type, 'Search Query Error', `${what}: a Search Query Error (${response.body.error?.message ?? ''})`)
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const long = (i: number) => `${String(i).padStart(3, '0')}${'L'.repeat(FACET_VALUE_MAX_LENGTH)}`
  // Ten extras per dataset: k0 short and shared, k1 just at the bound, k2..k9 beyond it (the review stored 95,000 characters).
  await insertDatasets(
    app,
    Array.from({ length: 12 }, (_, i) => ({
      name: `wasser-${i}`,
      title: `Wasser Pegel ${i}`,
      notes: 'Pegelstände',
      owner_org: 'kassel',
      author: `Autor ${i % 3}`,
      extras: [
        { key: 'k0', value: `kurz-${i % 4}` },
        { key: 'k1', value: `${i % 2}`.padEnd(FACET_VALUE_MAX_LENGTH, 'x') },
        ...Array.from({ length: 8 }, (_, k) => ({ key: `k${k + 2}`, value: long(i) })),
      ],
    })),
  )
  // Three datasets with 400 tags each: 1,200 distinct tags, more than facet.limit may ask for.
  await insertDatasets(
    app,
    Array.from({ length: 3 }, (_, d) => ({
      name: `viele-tags-${d}`,
      title: `Viele Schlagworte ${d}`,
      owner_org: 'marburg',
      tags: Array.from({ length: 400 }, (_, i) => ({ name: `tag-${d}-${i}` })),
    })),
  )

  t.test('fq_list shares one budget with q and fq', async (t) => {
    const one = await api(app, 'package_search', { q: 'wasser', fq_list: [PREFIX_ITEM], 'facet.field': ['author'] }, 'POST')
    t.equal(one.status, 200, `q and one item of 199 clauses: ${REQUEST_MAX_CLAUSES} clauses in all, answered`)
    for (const n of [2, 20, 60]) {
      const many = await api(app, 'package_search', { q: 'wasser', fq_list: Array(n).fill(PREFIX_ITEM), 'facet.field': ['author'] }, 'POST')
      isSearchQueryError(t, many, `${n} items of 199 clauses`)
    }
    isSearchQueryError(t, await api(app, 'package_search', { q: 'wasser', fq: PREFIX_ITEM, fq_list: ['name:x'] }, 'POST'), 'q + fq + fq_list beyond the clauses')
    isSearchQueryError(t, await api(app, 'package_search', { q: `wasser ${'w'.repeat(6000)}`, fq: `name:${'n'.repeat(6000)}` }, 'POST'), 'q + fq beyond the characters')
    t.ok(6000 * 2 > REQUEST_MAX_QUERY_LENGTH)
  })

  t.test('fq_list of 999 one-clause filters is a 400, not an SQL error', async (t) => {
    const filters = Array.from({ length: 999 }, (_, i) => `-name:x${i}`)
    isSearchQueryError(t, await api(app, 'package_search', { q: 'wasser', fq_list: filters }, 'POST'), '999 filters')
    isSearchQueryError(t, await api(app, 'package_search', { fq_list: filters.slice(0, MAX_FILTER_QUERIES + 1) }, 'POST'), `${MAX_FILTER_QUERIES + 1} filters`)
    // The most a request may ask: every filter used, every clause used, through SQL and from memory.
    const most = Array.from({ length: MAX_FILTER_QUERIES }, (_, f) => Array.from({ length: REQUEST_MAX_CLAUSES / MAX_FILTER_QUERIES }, (_, i) => `-name:x${f}-${i}`).join(' '))
    const bySql = await api(app, 'package_search', { fq_list: most, 'facet.field': ['author'], rows: 0 }, 'POST')
    t.equal(bySql.status, 200, 'the largest allowed request is answered through SQL')
    t.equal(bySql.body.result.count, 15)
    const fromMemory = await api(app, 'package_search', { fq_list: most.map((f) => f.replaceAll('-name:', '-tags:')), rows: 0 }, 'POST')
    t.equal(fromMemory.status, 200, 'and from memory')
    t.equal(fromMemory.body.result.count, 15)
  })

  t.test('conditions are balanced trees: thousands of clauses compile within the databases’ depth limits', async (t) => {
    const ctx: CompileContext = { fullText: fullTextAdapter(backend.name), reference: app.service.reference, vocab: app.service.vocab, now: new Date() }
    // Beyond any request's budget: the compiler itself must not build a chain as deep as its clauses.
    const leaves: Query[] = Array.from({ length: 3000 }, (_, i) => ({ kind: 'not', clause: { kind: 'term', field: 'name', value: `x${i}`, phrase: false } }))
    const condition = compileQuery({ kind: 'and', clauses: [{ kind: 'or', clauses: leaves.slice(0, 1500) }, ...leaves.slice(1500)] }, ctx)
    const rows = await sql<{ n: number | string }>`select count(*) as n from package p where ${condition}`.execute(backend.store.db)
    t.equal(Number(rows.rows[0]!.n), 15)
    const chained = await sql<{ n: number | string }>`select count(*) as n from package p where ${balancedJoin(Array.from({ length: 5000 }, () => sql<SqlBool>`p.id is not null`), 'and')}`.execute(backend.store.db)
    t.equal(Number(chained.rows[0]!.n), 15, '5000 conditions joined')
  })

  if (backend.name === 'sqlite') {
    t.test("SQLite's own limits are recognised as query errors (the last line of defence)", async (t) => {
      const chain = sql.join(Array.from({ length: 1200 }, () => sql`p.id is not null`), sql` and `)
      const failure = await sql`select count(*) from package p where ${chain}`.execute(backend.store.db).then(
        () => null,
        (err: unknown) => err,
      )
      t.match(String(failure), /Expression tree is too large/, 'a left-deep chain of 1200 conditions fails in SQLite')
      t.ok(isQueryLimitError(failure), 'and is a query limit error')
      t.notOk(isQueryLimitError(new Error('no such table: package')), 'other errors are not')
    })
  }

  t.test('prefixes: a one-letter prefix is one range, the same answer from memory and through SQL', async (t) => {
    const fromMemory = await api(app, 'package_search', { q: 'title:w*', rows: 0 }, 'POST')
    const bySql = await api(app, 'package_search', { q: 'title:w*', rows: 0, 'facet.field': ['author'] }, 'POST')
    t.equal(fromMemory.status, 200)
    t.equal(fromMemory.body.result.count, 12)
    t.equal(bySql.body.result.count, 12)
    t.same(bySql.body.result.count, fromMemory.body.result.count)
    const everyWord = await api(app, 'package_search', { q: 'w* p* v* s*', rows: 0 }, 'POST')
    t.equal(everyWord.status, 200)
    t.equal(everyWord.body.result.count, 0, 'four prefixes no dataset has all of')
  })

  t.test('facets are bounded: values beyond the length are not counted, facet.limit is capped, fields are capped', async (t) => {
    const fields = Array.from({ length: 10 }, (_, k) => `extras_k${k}`)
    const all = await api(app, 'package_search', { rows: 0, 'facet.limit': -1, 'facet.field': fields }, 'POST')
    t.equal(all.status, 200)
    const facets = all.body.result.facets as Record<string, Record<string, number>>
    t.same(facets.extras_k0, { 'kurz-0': 3, 'kurz-1': 3, 'kurz-2': 3, 'kurz-3': 3 }, 'short values are counted')
    t.equal(Object.keys(facets.extras_k1!).length, 2, `values of exactly ${FACET_VALUE_MAX_LENGTH} characters are counted`)
    for (let k = 2; k < 10; k++) {
      t.same(facets[`extras_k${k}`], {}, `extras_k${k}: values over ${FACET_VALUE_MAX_LENGTH} characters are left out`)
      t.same(all.body.result.search_facets[`extras_k${k}`].items, [])
    }
    t.ok(all.body && JSON.stringify(all.body).length < 20_000, `the answer is small (${JSON.stringify(all.body).length} characters)`)

    for (const [limit, expected] of [[-1, FACET_LIMIT_MAX], [5000, FACET_LIMIT_MAX], [1e9, FACET_LIMIT_MAX], [7, 7]] as const) {
      // Tags alone: from memory; with author: through SQL.
      for (const facetFields of [['tags'], ['tags', 'author']]) {
        const answer = await api(app, 'package_search', { rows: 0, 'facet.limit': limit, 'facet.field': facetFields }, 'POST')
        t.equal(answer.status, 200)
        t.equal(Object.keys(answer.body.result.facets.tags).length, expected, `facet.limit=${limit} ${facetFields.join('+')}: ${expected} values`)
        t.equal(answer.body.result.search_facets.tags.items.length, expected)
      }
    }

    const tooMany = Array.from({ length: MAX_FACET_FIELDS + 1 }, (_, k) => `extras_k${k}`)
    isSearchQueryError(t, await api(app, 'package_search', { rows: 0, 'facet.field': tooMany }, 'POST'), `${MAX_FACET_FIELDS + 1} facet fields`)
    const repeated = await api(app, 'package_search', { rows: 0, 'facet.field': Array(100).fill('author') }, 'POST')
    t.equal(repeated.status, 200, 'a field named many times is one field')
    t.same(Object.keys(repeated.body.result.facets), ['author'])
  })

})
