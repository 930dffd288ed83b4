import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { api, insertDatasets, startApp } from '../helpers/app.js'
import { SAMPLE_DATASETS } from '../helpers/datasets.js'

/** Queries whose answers both stores must agree on (compared across backends at the end). */
const QUERY_CORPUS: Array<Record<string, string>> = [
  { q: 'verkehr' },
  { q: 'Verkehr' },
  { q: 'VERKEHR' },
  { q: 'haltestellen' },
  { q: 'oepnv' },
  { q: 'ÖPNV' },
  { q: 'parkhäuser' },
  { q: 'parkhaeuser' },
  { q: 'gießen' },
  { q: 'giessen' },
  { q: 'wasser*' },
  { q: 'park*' },
  { q: 'baum*' },
  { q: 'title:parkhausbelegung' },
  { q: 'title:"Parkhausbelegung Gießen"' },
  { q: 'notes:stimmbezirken' },
  { q: 'name:haltestellen-fulda' },
  { q: 'name:halt*' },
  { q: 'tags:verkehr' },
  { q: 'tags:verkehr AND organization:fulda' },
  { q: 'tags:verkehr OR tags:wahlen' },
  { q: 'tags:verkehr -organization:fulda' },
  { q: 'tags:verkehr NOT organization:giessen' },
  { q: '+tags:verkehr +groups:regi' },
  { q: '(tags:verkehr OR tags:wahlen) AND -groups:gove' },
  { q: '*:*' },
  { q: 'groups:tran' },
  { q: 'res_format:CSV' },
  { q: 'res_format:csv' },
  { q: 'author:"Fachdienst Stadtgrün"' },
  { q: 'maintainer:"Open-Data-Team Marburg"' },
  { q: 'frequency:"http://publications.europa.eu/resource/authority/frequency/ANNUAL"' },
  { q: 'extras_issued:2019-04-01' },
  { q: 'verkehr innenstadt' },
  { q: 'verkehr fulda' },
  { q: 'num_resources:[2 TO *]' },
  { fq: 'organization:kassel' },
  { fq: 'tags:verkehr organization:giessen' },
  { fq: '-organization:kassel -organization:marburg' },
  { fq: 'metadata_modified:[NOW-1DAY TO NOW]' },
  { fq: 'metadata_created:[* TO NOW-1YEAR]' },
  { fq: 'license_id:*' },
  { fq: 'tags:*' },
]

const answers = new Map<string, Map<string, string>>()

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  await insertDatasets(app, SAMPLE_DATASETS)
  const mine = new Map<string, string>()
  answers.set(backend.name, mine)
  const names = async (params: Record<string, string>) => {
    const response = await api(app, 'package_search', { rows: '100', sort: 'name asc', ...params })
    t.equal(response.status, 200, JSON.stringify(params))
    return (response.body.result?.results ?? []).map((p: { name: string }) => p.name)
  }

  await t.test('the query language', async (t) => {
    for (const params of QUERY_CORPUS) mine.set(JSON.stringify(params), JSON.stringify(await names(params)))
    t.same(await names({ q: 'VERKEHR' }), await names({ q: 'verkehr' }), 'case-insensitive')
    t.same(await names({ q: 'oepnv' }), ['haltestellen-fulda'], 'ö matches oe')
    t.same(await names({ q: 'giessen' }), await names({ q: 'gießen' }), 'ß matches ss')
    t.same(await names({ q: 'park*' }), ['parkhaeuser-giessen'], 'trailing wildcard')
    t.same(await names({ q: 'title:"Parkhausbelegung Gießen"' }), ['parkhaeuser-giessen'], 'a quoted phrase')
    t.same(await names({ q: 'tags:verkehr -organization:fulda' }), ['parkhaeuser-giessen'], '-term')
    t.same(await names({ q: '+tags:verkehr +groups:regi' }), ['haltestellen-fulda'], '+term')
    t.same(await names({ q: '(tags:verkehr OR tags:wahlen) AND -groups:gove' }), ['haltestellen-fulda', 'parkhaeuser-giessen'], 'parentheses')
    t.same(await names({ q: 'author:"Fachdienst Stadtgrün"' }), ['baumkataster-marburg'], 'author')
    t.same(await names({ q: 'frequency:"http://publications.europa.eu/resource/authority/frequency/ANNUAL"' }), ['baumkataster-marburg'], 'an extra under its bare key')
    t.same(await names({ q: 'extras_issued:2019-04-01' }), ['baumkataster-marburg'], 'an extra as extras_<key>')
    t.same(await names({ q: 'verkehr fulda' }), ['haltestellen-fulda'], 'words are ANDed; the Kommune’s title is searchable')
    t.same(await names({ q: 'num_resources:[2 TO *]' }), ['baumkataster-marburg', 'parkhaeuser-giessen'], 'numeric range')
    t.same(await names({ fq: 'tags:verkehr organization:giessen' }), ['parkhaeuser-giessen'], 'fq clauses joined by a space are ANDed')
    t.same(await names({ fq: 'metadata_created:[* TO NOW-1YEAR]' }), [], 'date maths')
  })

  await t.test('relevance: title and tag matches rank above description matches', async (t) => {
    const results = (await api(app, 'package_search', { q: 'verkehr' })).body.result.results.map((p: { name: string }) => p.name)
    // haltestellen-fulda has "verkehr" as a tag; parkhaeuser-giessen as a tag and in its description.
    t.equal(results.length, 2)
    const ranked = (await api(app, 'package_search', { q: 'parkhausbelegung OR stimmbezirken' })).body.result.results.map((p: { name: string }) => p.name)
    t.same(ranked, ['parkhaeuser-giessen', 'wahlergebnisse-kassel'], 'a title match ranks above a description match')
    const reverse = (await api(app, 'package_search', { q: 'stimmbezirken OR parkhausbelegung' })).body.result.results.map((p: { name: string }) => p.name)
    t.same(reverse, ranked, 'whatever the order of the words')
  })

  await t.test('facets in CKAN’s shape', async (t) => {
    const response = await api(app, 'package_search', { rows: '0', 'facet.field': '["organization","groups","res_format","license_id","tags"]' })
    const { facets, search_facets, results, count } = response.body.result
    t.equal(count, 4)
    t.same(results, [], 'rows=0 gives facets only')
    t.same(facets.organization, { fulda: 1, giessen: 1, kassel: 1, marburg: 1 })
    t.same(facets.groups, { tran: 2, envi: 1, gove: 1, regi: 1 })
    t.same(facets.res_format, { CSV: 2, GEOJSON: 1, JSON: 1, XLSX: 1, XML: 1 })
    t.same(facets.tags, { verkehr: 2, bäume: 1, haltestellen: 1, öpnv: 1, parken: 1, umwelt: 1, wahlen: 1 })
    t.equal(Object.values(facets.license_id).reduce((a: number, b) => a + (b as number), 0), 4)
    const org = search_facets.organization
    t.equal(org.title, 'organization')
    t.same(Object.keys(org.items[0]).sort(), ['count', 'display_name', 'name'])
    const marburg = org.items.find((i: { name: string }) => i.name === 'marburg')
    t.equal(marburg.display_name, 'Universitätsstadt Marburg', 'organizations show their title')
    const tran = search_facets.groups.items.find((i: { name: string }) => i.name === 'tran')
    t.match(tran.display_name, /Verkehr/, 'groups show their German title')
    const licence = search_facets.license_id.items[0]
    t.match(licence.display_name, /Datenlizenz|Creative|Namensnennung|Zero/i, 'licences show their title')
    const displayNames = org.items.map((i: { display_name: string }) => i.display_name)
    t.same(displayNames, [...displayNames].sort().reverse(), 'items sorted by display_name, descending, as CKAN does')
    const limited = (await api(app, 'package_search', { rows: '0', 'facet.field': '["tags"]', 'facet.limit': '2' })).body.result
    t.same(limited.facets.tags, { verkehr: 2, bäume: 1 }, 'facet.limit keeps the most frequent')
    const minCount = (await api(app, 'package_search', { rows: '0', 'facet.field': '["tags"]', 'facet.mincount': '2' })).body.result
    t.same(minCount.facets.tags, { verkehr: 2 })
    const all = (await api(app, 'package_search', { rows: '0', 'facet.field': '["tags"]', 'facet.limit': '-1' })).body.result
    t.equal(Object.keys(all.facets.tags).length, 7)
    const filtered = (await api(app, 'package_search', { fq: 'groups:tran', 'facet.field': '["organization"]' })).body.result
    t.same(filtered.facets.organization, { fulda: 1, giessen: 1 }, 'facets count the filtered set')
    const text = (await api(app, 'package_search', { q: 'verkehr', 'facet.field': '["organization","tags"]' })).body.result
    t.same(text.facets.organization, { fulda: 1, giessen: 1 }, 'facets of a full-text search count its hits')
    t.equal(text.facets.tags.verkehr, 2)
    // Facet counts are cached between writes: a write through the service shows at once.
    const before = (await api(app, 'package_search', { rows: '0', 'facet.field': '["organization"]' })).body.result.facets.organization
    const { packageFromDict } = await import('../../src/catalog/package-input.js')
    const { validDataset } = await import('../helpers/bodies.js')
    const { input } = packageFromDict(validDataset('wetzlar'), { reference: app.service.reference, vocab: app.service.vocab })
    const id = await app.service.createPackage(input)
    const after = (await api(app, 'package_search', { rows: '0', 'facet.field': '["organization"]' })).body.result.facets.organization
    t.equal(after.wetzlar, (before.wetzlar ?? 0) + 1, 'a new dataset is counted at once')
    await app.service.purgePackage(id)
    const purged = (await api(app, 'package_search', { rows: '0', 'facet.field': '["organization"]' })).body.result.facets.organization
    t.same(purged, before, 'and its removal too')
  })

  await t.test('sorting', async (t) => {
    const order = async (sort: string) => (await api(app, 'package_search', { sort })).body.result.results.map((p: { name: string }) => p.name)
    const byName = await order('name asc')
    t.same(byName, [...byName].sort())
    t.same(await order('name desc'), [...byName].reverse())
    t.same(await order('metadata_modified desc'), ['wahlergebnisse-kassel', 'parkhaeuser-giessen', 'haltestellen-fulda', 'baumkataster-marburg'])
    t.same(await order('metadata_created asc'), ['baumkataster-marburg', 'haltestellen-fulda', 'parkhaeuser-giessen', 'wahlergebnisse-kassel'])
    t.same(await order('title_string asc'), ['baumkataster-marburg', 'haltestellen-fulda', 'parkhaeuser-giessen', 'wahlergebnisse-kassel'])
    t.same(await order('views_recent desc'), await order('metadata_modified desc'), 'views_recent falls back to metadata_modified')
    t.same(await order('num_resources desc, name asc'), ['baumkataster-marburg', 'parkhaeuser-giessen', 'haltestellen-fulda', 'wahlergebnisse-kassel'], 'several keys')
    t.same(await order(''), await order('score desc, metadata_modified desc'), 'empty means the default')
    const echoed = (await api(app, 'package_search', { sort: 'name asc' })).body.result.sort
    t.equal(echoed, 'name asc')
  })

  await t.test('hostile input never breaks the envelope', async (t) => {
    let seed = 99
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const pieces = ['"', "'", '\\', '(', ')', '[', ']', '{', '}', ':', '*', '?', 'AND', 'OR', 'NOT', '-', '+', 'TO', ' ', 'ä', 'ß', '😀', '\u0000', '%', '_', ';', '--', 'DROP TABLE package', "' OR '1'='1", 'title:', 'metadata_modified:[', 'NOW-', '/*', '*/', 'sqlite_master', 'union select']
    const inputs: string[] = ['x'.repeat(10_000), 'a'.repeat(10_001), '('.repeat(1000) + 'x' + ')'.repeat(1000), '"'.repeat(99), '\\'.repeat(77), 'title:"' + 'x'.repeat(5000)]
    // Field names that are also names of Object.prototype's members.
    inputs.push('toString:abc', 'valueOf:[1 TO 2]', 'toString:*', 'constructor:x*', '__proto__:"a b"', 'hasOwnProperty:[* TO *]')
    for (let i = 0; i < 300; i++) {
      const len = 1 + Math.floor(rand() * 12)
      inputs.push(Array.from({ length: len }, () => pieces[Math.floor(rand() * pieces.length)]).join(rand() < 0.5 ? '' : ' '))
    }
    let ok = 0
    for (const text of inputs) {
      for (const key of ['q', 'fq', 'sort']) {
        const response = await app.fastify.inject({ url: `/api/3/action/package_search?${new URLSearchParams({ [key]: text })}` })
        const body = response.json()
        const good = response.statusCode === 200 ? body.success === true : response.statusCode >= 400 && response.statusCode < 500 && body.success === false && typeof body.error.__type === 'string'
        if (!good) t.fail(`${key}=${JSON.stringify(text.slice(0, 80))}: ${response.statusCode} ${response.body.slice(0, 200)}`)
        else ok++
        // Our messages quote the query; a database error would not start like this.
        if (response.statusCode === 400 && !String(body.error?.message).startsWith('Search Query is invalid')) t.fail(`not a query error: ${response.body.slice(0, 200)}`)
      }
    }
    t.equal(ok, inputs.length * 3, `${ok} hostile requests answered in the envelope`)
    for (const field of ['toString', 'constructor', '__proto__', 'valueOf']) {
      const response = await app.fastify.inject({ url: `/api/3/action/package_search?${new URLSearchParams({ 'facet.field': JSON.stringify([field]) })}` })
      t.equal(response.statusCode, 200, `facet.field=["${field}"]: ${response.body.slice(0, 200)}`)
    }
    const tables = await api(app, 'package_list')
    t.equal(tables.body.result.length, 4, 'and the data is still there')
  })
})

t.test('SQLite and MySQL return the same result sets', async (t) => {
  const sqlite = answers.get('sqlite')
  const mysql = answers.get('mysql')
  if (!mysql || !sqlite) {
    t.comment('skipping the cross-store comparison: no MySQL/MariaDB server configured (DATABASE_URL)')
    return
  }
  for (const [query, result] of sqlite) t.equal(mysql.get(query), result, `same answer for ${query}`)
})
