import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { api, insertDatasets, startApp } from '../helpers/app.js'
import { LICENSE_BY, SAMPLE_DATASETS } from '../helpers/datasets.js'

const CKAN_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/
const PACKAGE_KEYS = [
  'author', 'author_email', 'creator_user_id', 'extras', 'groups', 'id', 'isopen', 'license_id', 'license_title', 'license_url',
  'maintainer', 'maintainer_email', 'metadata_created', 'metadata_modified', 'name', 'notes', 'num_resources', 'num_tags',
  'organization', 'owner_org', 'private', 'relationships_as_object', 'relationships_as_subject', 'resources', 'state', 'tags',
  'title', 'type', 'url', 'version',
]
const RESOURCE_CORE_KEYS = [
  'cache_last_updated', 'cache_url', 'created', 'description', 'format', 'hash', 'id', 'last_modified', 'metadata_modified',
  'mimetype', 'mimetype_inner', 'name', 'package_id', 'position', 'resource_type', 'size', 'state', 'url', 'url_type',
]

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const ids = await insertDatasets(app, SAMPLE_DATASETS)
  const [baumId] = ids
  const help = (name: string) => `${backend.config.baseUrl}/api/3/action/help_show?name=${name}`

  await t.test('status_show, site_read and help_show', async (t) => {
    const status = await api(app, 'status_show')
    t.equal(status.status, 200)
    t.same(Object.keys(status.body).sort(), ['help', 'result', 'success'])
    t.equal(status.body.help, help('status_show'))
    t.equal(status.body.success, true)
    t.equal(status.body.result.ckan_version, '2.10.5')
    t.equal(status.body.result.site_url, backend.config.baseUrl)
    t.equal((await api(app, 'site_read')).body.result, true)
    const h = await api(app, 'help_show', { name: 'package_search' })
    t.match(h.body.result, /Search datasets/)
    t.equal((await api(app, 'help_show', { name: 'nope' })).status, 404)
  })

  await t.test('package_show by id and by name, with CKAN fields and types', async (t) => {
    const byName = await api(app, 'package_show', { id: 'baumkataster-marburg' })
    t.equal(byName.status, 200)
    const pkg = byName.body.result
    t.same(Object.keys(pkg).sort(), PACKAGE_KEYS)
    t.equal(pkg.id, baumId)
    t.equal(pkg.type, 'dataset')
    t.equal(pkg.state, 'active')
    t.equal(pkg.private, false)
    t.equal(pkg.license_id, LICENSE_BY, 'licence literal normalised to the dcat-ap.de URI')
    t.equal(pkg.license_title, app.service.vocab.licenses.byUriExact(LICENSE_BY)!.title)
    t.match(pkg.license_title, /Datenlizenz Deutschland/)
    t.equal(pkg.isopen, true)
    t.match(pkg.metadata_created, CKAN_TS)
    t.match(pkg.metadata_modified, CKAN_TS)
    t.equal(pkg.num_resources, 2)
    t.equal(pkg.num_tags, 2)
    t.equal(pkg.organization.name, 'marburg')
    t.equal(pkg.organization.is_organization, true)
    t.equal(pkg.organization.type, 'organization')
    t.equal(pkg.owner_org, pkg.organization.id)
    t.same(pkg.groups.map((g: { name: string }) => g.name), ['envi'])
    t.same(Object.keys(pkg.groups[0]).sort(), ['description', 'display_name', 'id', 'image_display_url', 'name', 'title'])
    t.same(pkg.tags.map((g: { name: string }) => g.name).sort(), ['bäume', 'umwelt'])
    t.same(Object.keys(pkg.tags[0]).sort(), ['display_name', 'id', 'name', 'state', 'vocabulary_id'])
    const extras = Object.fromEntries(pkg.extras.map((e: { key: string; value: string }) => [e.key, e.value]))
    t.equal(extras.language, '["http://publications.europa.eu/resource/authority/language/DEU"]', 'language stored as EU URI list')
    t.equal(extras.frequency, 'http://publications.europa.eu/resource/authority/frequency/ANNUAL')
    t.equal(extras.issued, '2019-04-01')
    const [csv, geojson] = pkg.resources
    for (const key of RESOURCE_CORE_KEYS) t.ok(key in csv, `resource has ${key}`)
    t.equal(csv.format, 'CSV', 'format shown as the EU code')
    t.equal(csv.mimetype, 'text/csv')
    t.equal(csv.size, 123456)
    t.equal(csv.position, 0)
    t.equal(csv.package_id, baumId)
    t.equal(csv.license, LICENSE_BY)
    t.equal(csv.access_url, 'https://www.marburg.de/daten/baeume.csv', 'extra resource keys are flattened')
    t.equal(geojson.format, 'GEOJSON')
    t.equal(geojson.position, 1)
    t.equal(geojson.url, 'http://www.marburg.de/daten/baeume.geojson', 'a URL without scheme gets http://')
    t.match(byName.headers.etag, /^"[0-9a-f-]+\.1"$/)
    const byId = await api(app, 'package_show', { id: baumId })
    t.same(byId.body.result, pkg)
    const post = await api(app, 'package_show', { id: baumId }, 'POST')
    t.same(post.body.result, pkg, 'POST with a JSON body answers the same')
    const alias = await app.fastify.inject({ url: `/api/action/package_show?id=${baumId}` })
    t.same(alias.json().result, pkg, '/api/action/ is an alias')
    const nameOrId = await api(app, 'package_show', { name_or_id: 'baumkataster-marburg' })
    t.equal(nameOrId.body.result.id, baumId)
  })

  await t.test('package_show errors as CKAN gives them', async (t) => {
    const missing = await api(app, 'package_show', { id: 'does-not-exist' })
    t.equal(missing.status, 404)
    t.same(missing.body, { help: help('package_show'), success: false, error: { __type: 'Not Found Error', message: 'Not found' } })
    const noId = await api(app, 'package_show')
    t.equal(noId.status, 409)
    t.same(noId.body.error, { name_or_id: ['Missing value'], __type: 'Validation Error' })
    const priv = await api(app, 'package_show', { id: 'interne-liste-kassel' })
    t.equal(priv.status, 403, 'private dataset hidden from anonymous callers')
    t.equal(priv.body.error.__type, 'Authorization Error')
    const deleted = await api(app, 'package_show', { id: 'alte-daten-fulda' })
    t.equal(deleted.status, 403, 'deleted dataset hidden from anonymous callers')
  })

  await t.test('resource_show', async (t) => {
    const pkg = (await api(app, 'package_show', { id: 'parkhaeuser-giessen' })).body.result
    const res = await api(app, 'resource_show', { id: pkg.resources[1].id })
    t.equal(res.status, 200)
    t.same(res.body.result, pkg.resources[1])
    t.equal((await api(app, 'resource_show', { id: 'nope' })).status, 404)
    t.same((await api(app, 'resource_show')).body.error, { id: ['Missing value'], __type: 'Validation Error' })
    const privRes = (await backend.store.db.selectFrom('resource').select('id').where('package_id', '=', ids[4]!).executeTakeFirstOrThrow()).id
    t.equal((await api(app, 'resource_show', { id: privRes })).status, 403, 'resources of private datasets are hidden')
  })

  await t.test('package_list: public active names by name, paged', async (t) => {
    const all = await api(app, 'package_list')
    t.same(all.body.result, ['baumkataster-marburg', 'haltestellen-fulda', 'parkhaeuser-giessen', 'wahlergebnisse-kassel'])
    t.same((await api(app, 'package_list', { limit: '2', offset: '1' })).body.result, ['haltestellen-fulda', 'parkhaeuser-giessen'])
    t.same((await api(app, 'package_list', { offset: '3' })).body.result, ['wahlergebnisse-kassel'])
    const negative = await api(app, 'package_list', { limit: '-1' })
    t.equal(negative.status, 409)
    t.same(negative.body.error, { limit: ['Must be a natural number'], __type: 'Validation Error' })
    const word = await api(app, 'package_list', { limit: 'abc' })
    t.equal(word.status, 409)
    t.same(word.body.error, { limit: ['Invalid integer'], __type: 'Validation Error' })
    const both = await api(app, 'package_list', { limit: 'x', offset: '-5' })
    t.same(Object.keys(both.body.error).sort(), ['__type', 'limit', 'offset'], 'every bad field is named')
  })

  await t.test('current_package_list_with_resources pages newest first', async (t) => {
    const list = await api(app, 'current_package_list_with_resources', { limit: '2' })
    t.equal(list.status, 200)
    t.equal(list.body.result.length, 2)
    t.same(list.body.result.map((p: { name: string }) => p.name), ['wahlergebnisse-kassel', 'parkhaeuser-giessen'])
    t.ok(Array.isArray(list.body.result[0].resources))
    const page2 = await api(app, 'current_package_list_with_resources', { limit: '2', page: '2' })
    t.same(page2.body.result.map((p: { name: string }) => p.name), ['haltestellen-fulda', 'baumkataster-marburg'])
  })

  await t.test('organization_list and organization_show', async (t) => {
    const names = (await api(app, 'organization_list', { sort: 'name asc' })).body.result
    t.same(names, ['frankfurt', 'fulda', 'giessen', 'kassel', 'limburg', 'marburg', 'offenbach', 'rheingau-taunus-kreis', 'wetzlar'])
    const full = (await api(app, 'organization_list', { all_fields: 'True', sort: 'package_count desc', limit: '3' })).body.result
    t.equal(full.length, 3)
    t.same(full.map((o: { name: string; package_count: number }) => [o.name, o.package_count]), [['fulda', 1], ['giessen', 1], ['kassel', 1]], 'private and deleted are not counted')
    for (const key of ['approval_status', 'created', 'description', 'display_name', 'id', 'image_display_url', 'image_url', 'is_organization', 'name', 'num_followers', 'package_count', 'state', 'title', 'type']) {
      t.ok(key in full[0], `organization dict has ${key}`)
    }
    t.match(full[0].created, CKAN_TS)
    const capped = (await api(app, 'organization_list', { all_fields: 'true', limit: '500' })).body.result
    t.equal(capped.length, 9)
    const badSort = await api(app, 'organization_list', { sort: 'bogus desc' })
    t.equal(badSort.status, 409)
    const marburg = await api(app, 'organization_show', { id: 'marburg', include_datasets: 'true' })
    t.equal(marburg.status, 200)
    t.equal(marburg.body.result.package_count, 1)
    t.same(marburg.body.result.packages.map((p: { name: string }) => p.name), ['baumkataster-marburg'])
    const extras = Object.fromEntries(marburg.body.result.extras.map((e: { key: string; value: string }) => [e.key, e.value]))
    t.equal(extras.regional_key, '065340014014')
    t.equal(extras.political_geocoding_uri, 'http://dcat-ap.de/def/politicalGeocoding/regionalKey/065340014014')
    const byId = await api(app, 'organization_show', { id: marburg.body.result.id })
    t.equal(byId.body.result.name, 'marburg')
    t.equal((await api(app, 'organization_show', { id: 'atlantis' })).status, 404)
    t.same((await api(app, 'organization_show')).body.error, { id: ['Missing value'], __type: 'Validation Error' })
  })

  await t.test('group_list, group_show, tag_list, license_list', async (t) => {
    const groups = (await api(app, 'group_list', { sort: 'name asc' })).body.result
    t.same(groups, ['agri', 'econ', 'educ', 'ener', 'envi', 'gove', 'heal', 'intr', 'just', 'regi', 'soci', 'tech', 'tran'])
    const tran = await api(app, 'group_show', { id: 'tran' })
    t.equal(tran.body.result.package_count, 2)
    t.equal(tran.body.result.is_organization, false)
    t.equal(tran.body.result.type, 'group')
    t.equal((await api(app, 'group_show', { id: tran.body.result.id })).body.result.name, 'tran')
    const tags = (await api(app, 'tag_list')).body.result
    t.same(tags, ['bäume', 'haltestellen', 'öpnv', 'parken', 'umwelt', 'verkehr', 'wahlen'].sort(), 'tags of private and deleted datasets are left out')
    t.same((await api(app, 'tag_list', { query: 'ver' })).body.result, ['verkehr'])
    const licenses = (await api(app, 'license_list')).body.result
    const dlBy = licenses.find((l: { id: string }) => l.id === LICENSE_BY)
    t.same(Object.keys(dlBy).sort(), ['domain_content', 'domain_data', 'domain_software', 'family', 'id', 'is_generic', 'is_okd_compliant', 'is_osi_compliant', 'maintainer', 'od_conformance', 'osd_conformance', 'status', 'title', 'url'])
    t.equal(dlBy.status, 'active')
  })

  await t.test('package_search: paging, sorting and filters', async (t) => {
    const all = await api(app, 'package_search')
    t.equal(all.status, 200)
    t.equal(all.body.result.count, 4)
    t.equal(all.body.result.sort, 'score desc, metadata_modified desc')
    t.same(all.body.result.facets, {})
    t.same(all.body.result.search_facets, {})
    const byId = await api(app, 'package_search', { rows: '2', start: '0', sort: 'id asc' })
    const byId2 = await api(app, 'package_search', { rows: '2', start: '2', sort: 'id asc' })
    const seen = [...byId.body.result.results, ...byId2.body.result.results].map((p: { id: string }) => p.id)
    t.same(seen, [...seen].sort(), 'sorted by id')
    t.equal(new Set(seen).size, 4, 'pages do not overlap')
    const names = async (params: Record<string, string>) =>
      (await api(app, 'package_search', { sort: 'name asc', ...params })).body.result.results.map((p: { name: string }) => p.name)
    t.same(await names({ fq: 'organization:fulda' }), ['haltestellen-fulda'])
    t.same(await names({ fq: 'tags:verkehr' }), ['haltestellen-fulda', 'parkhaeuser-giessen'])
    t.same(await names({ fq: 'groups:tran -organization:giessen' }), ['haltestellen-fulda'])
    t.same(await names({ fq: 'res_format:CSV' }), ['baumkataster-marburg', 'parkhaeuser-giessen'])
    t.same(await names({ fq: `license_id:"${LICENSE_BY}"` }), ['baumkataster-marburg', 'parkhaeuser-giessen', 'wahlergebnisse-kassel'])
    t.same(await names({ fq: 'organization:kassel OR organization:marburg' }), ['baumkataster-marburg', 'wahlergebnisse-kassel'])
    t.same(await names({ fq: 'metadata_modified:[2000-01-01T00:00:00Z TO *]' }), ['baumkataster-marburg', 'haltestellen-fulda', 'parkhaeuser-giessen', 'wahlergebnisse-kassel'])
    t.same(await names({ fq: 'metadata_modified:[* TO 2000-01-01T00:00:00.123456Z]' }), [])
    t.same(await names({ fq: 'metadata_created:[* TO NOW]' }), ['baumkataster-marburg', 'haltestellen-fulda', 'parkhaeuser-giessen', 'wahlergebnisse-kassel'])
    t.same(await names({ q: 'Straßenbäume' }), ['baumkataster-marburg'])
    t.same(await names({ q: 'strassenbaeume' }), ['baumkataster-marburg'], 'ß and ä match their ASCII spellings')
    t.same(await names({ q: 'verkehr' }), ['haltestellen-fulda', 'parkhaeuser-giessen'])
    t.same(await names({ q: 'tags:öpnv' }), ['haltestellen-fulda'])
    t.same(await names({ q: 'intern' }), [], 'private datasets are not found anonymously')
    t.same(await names({ q: 'gelöscht' }), [], 'deleted datasets are not found')
  })

  await t.test('package_search errors', async (t) => {
    const unknown = await api(app, 'package_search', { foo: 'bar' })
    t.equal(unknown.status, 400)
    t.equal(unknown.body.error.__type, 'Search Query Error')
    t.match(unknown.body.error.message, /Invalid search parameters/)
    const rows = await api(app, 'package_search', { rows: 'many' })
    t.equal(rows.status, 409)
    t.same(rows.body.error, { rows: ['Invalid integer'], __type: 'Validation Error' })
    const sort = await api(app, 'package_search', { sort: 'nonsense desc' })
    t.equal(sort.status, 400)
    t.equal(sort.body.error.__type, 'Search Query Error')
    const query = await api(app, 'package_search', { q: 'title:(unbalanced' })
    t.equal(query.status, 400)
    t.equal(query.body.error.__type, 'Search Query Error')
    const clamped = await api(app, 'package_search', { rows: '5000' })
    t.equal(clamped.status, 200, 'rows above the maximum is clamped, not rejected')
  })

  await t.test('request errors: unknown action, bad JSON, write action by GET', async (t) => {
    const unknown = await app.fastify.inject({ url: '/api/3/action/package_fly' })
    t.equal(unknown.statusCode, 400)
    t.equal(unknown.json(), 'Bad request - Action name not known: package_fly')
    const badJson = await app.fastify.inject({ method: 'POST', url: '/api/3/action/package_show', headers: { 'content-type': 'application/json' }, payload: '{"id": ' })
    t.equal(badJson.statusCode, 400)
    t.match(badJson.json(), /^Bad request - JSON Error: /)
    const notDict = await app.fastify.inject({ method: 'POST', url: '/api/3/action/package_show', headers: { 'content-type': 'application/json' }, payload: '[1,2]' })
    t.equal(notDict.statusCode, 400)
    t.match(notDict.json(), /needs to be a dictionary/)
    const empty = await app.fastify.inject({ method: 'POST', url: '/api/3/action/package_list', headers: { 'content-type': 'application/json' }, payload: '' })
    t.equal(empty.statusCode, 200, 'an empty body is {}')
    const form = await app.fastify.inject({ method: 'POST', url: '/api/3/action/package_show', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'id=haltestellen-fulda' })
    t.equal(form.json().result.name, 'haltestellen-fulda', 'form fields are accepted')
    t.same((await app.fastify.inject({ url: '/api/3' })).json(), { version: 3 })
  })
})
