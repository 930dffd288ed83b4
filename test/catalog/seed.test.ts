import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { loadConfig } from '../../src/config.js'
import { openStore, type Store } from '../../src/db/connect.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { CatalogService } from '../../src/catalog/service.js'
import { vocabularies } from '../../src/catalog/vocabularies.js'
import { seedDatasets, loadSeedReference } from '../../src/catalog/seed.js'
import { generateDatasets, syntheticDatasetId } from '../../src/catalog/synthetic.js'
import { mysqlBackend, mysqlUrl } from '../helpers/backends.js'

const vocab = vocabularies()
const COUNT = 300
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const NAME = /^[a-z0-9-]{2,100}$/
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$/
const FILE_TYPE_BASE = 'http://publications.europa.eu/resource/authority/file-type/'
const DATASET_EXTRAS = [
  'issued', 'modified', 'identifier', 'frequency', 'language', 'temporal_start', 'spatial_uri', 'spatial_text',
  'politicalGeocodingURI', 'politicalGeocodingLevelURI', 'contact_name', 'contact_email', 'contact_url',
]

const dirs: string[] = []
t.teardown(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** A fresh, migrated SQLite store with the reference data synced. */
async function sqliteStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'godonu-seed-'))
  dirs.push(dir)
  const file = join(dir, 'catalog.sqlite')
  return prepared(`sqlite:${file}`)
}

async function prepared(url: string): Promise<Store> {
  const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' })
  const store = await openStore(config.database)
  await migrateToLatest(store.db)
  await new CatalogService(store, vocab, config).init()
  return store
}

async function countOf(store: Store, table: 'package' | 'resource' | 'package_extra'): Promise<number> {
  const row = await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

async function datasetKeys(store: Store): Promise<Array<{ id: string; name: string; title: string }>> {
  return store.db.selectFrom('package').select(['id', 'name', 'title']).orderBy('id').execute()
}

/** Every stored dataset has the shape the generator promises. */
async function checkContent(t: Test, store: Store): Promise<void> {
  const packages = await store.db
    .selectFrom('package')
    .innerJoin('package_document', 'package_document.package_id', 'package.id')
    .select(['id', 'name', 'title', 'notes', 'license_id', 'private', 'state', 'url', 'author', 'maintainer', 'maintainer_email', 'owner_org', 'num_resources', 'num_tags', 'document'])
    .execute()
  const extras = await store.db.selectFrom('package_extra').select(['package_id', 'key', 'value']).execute()
  const resources = await store.db.selectFrom('resource').select(['package_id', 'format', 'mimetype', 'url', 'size', 'extras']).execute()
  const themeLinks = await store.db.selectFrom('package_theme').select(['package_id', 'theme_id']).execute()
  const themeIds = new Set((await store.db.selectFrom('theme').select('id').execute()).map((r) => r.id))
  const orgIds = new Set((await store.db.selectFrom('organization').select('id').execute()).map((r) => r.id))
  const tagLinks = await store.db
    .selectFrom('package_tag as pt')
    .innerJoin('tag', 'tag.id', 'pt.tag_id')
    .select(['pt.package_id', 'tag.name'])
    .execute()

  const group = <T extends { package_id: string }>(rows: T[]) => {
    const map = new Map<string, T[]>()
    for (const row of rows) {
      const list = map.get(row.package_id) ?? []
      list.push(row)
      map.set(row.package_id, list)
    }
    return map
  }
  const extrasBy = group(extras)
  const resourcesBy = group(resources)
  const themesBy = group(themeLinks)
  const tagsBy = group(tagLinks)

  const problems: string[] = []
  const fail = (id: string, what: string) => {
    if (problems.length < 20) problems.push(`${id}: ${what}`)
  }
  let umlauts = 0
  for (const p of packages) {
    if (!UUID.test(p.id)) fail(p.id, `id ${p.id} is not UUID v4-form`)
    if (!NAME.test(p.name)) fail(p.id, `bad name ${p.name}`)
    if (/[äöüÄÖÜß]/.test(p.title + p.notes)) umlauts++
    const sentences = p.notes.replace(/\b([a-z])\. /g, '$1.').split(/(?<=[.!?])\s+(?=[A-ZÄÖÜ])/).length
    if (sentences < 2 || sentences > 5) fail(p.id, `${sentences} sentences in notes`)
    if (!p.license_id || !vocab.licenses.byUriExact(p.license_id)) fail(p.id, `licence ${p.license_id} not in vocab.licenses`)
    if (!p.owner_org || !orgIds.has(p.owner_org)) fail(p.id, `owner_org ${p.owner_org}`)
    if (!p.url.startsWith('https://') || !p.author || !p.maintainer || !p.maintainer_email.includes('@')) fail(p.id, 'url/author/maintainer missing')

    const res = resourcesBy.get(p.id) ?? []
    if (res.length < 1 || res.length > 8) fail(p.id, `${res.length} resources`)
    if (p.num_resources !== res.length) fail(p.id, `num_resources ${p.num_resources} != ${res.length}`)
    for (const r of res) {
      if (!r.format.startsWith(FILE_TYPE_BASE) || !vocab.fileTypes.byUriExact(r.format)) fail(p.id, `format ${r.format} is not an EU file-type URI`)
      if (!/^https:\/\/[a-z0-9.-]+\//.test(r.url)) fail(p.id, `resource url ${r.url}`)
      const e = JSON.parse(r.extras) as Record<string, unknown>
      if (e.license !== p.license_id) fail(p.id, `resource licence ${String(e.license)} != ${p.license_id}`)
      const license = vocab.licenses.byUriExact(p.license_id ?? '')
      if (license?.requires_attribution && typeof e.licenseAttributionByText !== 'string') fail(p.id, 'licenseAttributionByText missing')
      if (typeof e.issued !== 'string' || typeof e.modified !== 'string' || !ISO_DATE.test(e.issued) || e.modified < e.issued) {
        fail(p.id, `resource dates ${String(e.issued)} / ${String(e.modified)}`)
      }
      if (typeof e.access_url !== 'string') fail(p.id, 'access_url missing')
    }

    const themes = themesBy.get(p.id) ?? []
    if (themes.length < 1 || themes.length > 2) fail(p.id, `${themes.length} themes`)
    for (const th of themes) if (!themeIds.has(th.theme_id)) fail(p.id, `theme ${th.theme_id} does not exist`)

    const tags = (tagsBy.get(p.id) ?? []).map((x) => x.name)
    if (tags.length < 3 || tags.length > 8) fail(p.id, `${tags.length} tags`)
    for (const tag of tags) if (tag !== tag.toLowerCase()) fail(p.id, `tag ${tag} not lower case`)
    if (p.num_tags !== tags.length) fail(p.id, `num_tags ${p.num_tags} != ${tags.length}`)

    const ex = new Map((extrasBy.get(p.id) ?? []).map((e) => [e.key, e.value]))
    for (const key of DATASET_EXTRAS) if (!ex.get(key)) fail(p.id, `extra ${key} missing`)
    if (ex.has('contributorID')) fail(p.id, 'contributorID must be left to the export')
    const issued = ex.get('issued') ?? ''
    const modified = ex.get('modified') ?? ''
    if (!ISO_DATE.test(issued) || !ISO_DATE.test(modified) || modified < issued) fail(p.id, `dates ${issued} / ${modified}`)
    if (issued < '2015' || modified > '2025-12-31') fail(p.id, `dates outside 2015-2025: ${issued} / ${modified}`)
    if (JSON.stringify(JSON.parse(ex.get('language') ?? 'null')) !== '["http://publications.europa.eu/resource/authority/language/DEU"]') fail(p.id, `language ${ex.get('language')}`)
    if (!vocab.frequencies.byUriExact(ex.get('frequency') ?? '')) fail(p.id, `frequency ${ex.get('frequency')}`)
    const geo = JSON.parse(ex.get('politicalGeocodingURI') ?? '[]') as string[]
    if (!Array.isArray(geo) || geo[0] !== ex.get('spatial_uri')) fail(p.id, 'politicalGeocodingURI != spatial_uri')
    if (!(ex.get('identifier') ?? '').endsWith(`/id/${p.name}`)) fail(p.id, `identifier ${ex.get('identifier')}`)
    if (!(ex.get('contact_email') ?? '').includes('@')) fail(p.id, 'contact_email')

    const doc = JSON.parse(p.document) as { name: string; resources: unknown[] }
    if (doc.name !== p.name) fail(p.id, 'document name')
  }
  t.same(problems, [], 'every dataset has the promised shape')
  t.ok(umlauts > packages.length / 2, `German text with umlauts (${umlauts} of ${packages.length})`)
  const privateCount = packages.filter((p) => p.private === 1).length
  const deletedCount = packages.filter((p) => p.state === 'deleted').length
  t.ok(privateCount > 0 && privateCount < packages.length * 0.1, `a few private datasets (${privateCount})`)
  t.ok(deletedCount < packages.length * 0.05, `few deleted datasets (${deletedCount})`)
  t.ok(packages.filter((p) => p.state === 'active' && p.private === 0).length > packages.length * 0.9, 'mostly public and active')
  const licenses = new Set(packages.map((p) => p.license_id))
  t.ok(licenses.has('http://dcat-ap.de/def/licenses/dl-by-de/2.0') && licenses.has('http://dcat-ap.de/def/licenses/dl-zero-de/2.0'), 'dl-by-de and dl-zero-de are used')
  const formats = new Set(resources.map((r) => r.format.slice(FILE_TYPE_BASE.length)))
  for (const code of ['CSV', 'JSON', 'GEOJSON', 'PDF']) t.ok(formats.has(code), `format ${code} occurs`)
}

/** The shared scenario, run on each store. Returns the keys after seeding seed 1 once. */
async function scenario(t: Test, store: Store): Promise<Array<{ id: string; name: string; title: string }>> {
  const progress: number[] = []
  const first = await seedDatasets(store, vocab, { count: COUNT, seed: 1, batchSize: 100, onProgress: (done) => progress.push(done) })
  t.equal(first.inserted, COUNT, 'inserted all')
  t.ok(first.seconds >= 0, 'reports seconds')
  t.same(progress, [100, 200, 300], 'progress after each batch')
  t.equal(await countOf(store, 'package'), COUNT, 'package count')
  const resourceCount = await countOf(store, 'resource')
  t.ok(resourceCount >= COUNT && resourceCount <= COUNT * 8, `resource count ${resourceCount}`)
  const keys = await datasetKeys(store)
  t.equal(new Set(keys.map((k) => k.name)).size, COUNT, 'names unique')
  await checkContent(t, store)

  const metadata = await store.db.selectFrom('package').select(['id', 'metadata_created', 'metadata_modified']).orderBy('metadata_created').execute()
  t.equal(new Set(metadata.map((m) => m.metadata_created)).size, COUNT, 'metadata_created distinct per dataset')
  t.ok(metadata.every((m) => m.metadata_created === m.metadata_modified), 'metadata_modified = metadata_created on create')

  const again = await seedDatasets(store, vocab, { count: COUNT, seed: 1 })
  t.same({ inserted: again.inserted, skipped: again.skipped }, { inserted: 0, skipped: COUNT }, 'the same seed again adds nothing')
  t.equal(await countOf(store, 'package'), COUNT, 'count unchanged')

  const other = await seedDatasets(store, vocab, { count: COUNT, seed: 2 })
  t.equal(other.inserted, COUNT, 'another seed adds N more')
  t.equal(await countOf(store, 'package'), 2 * COUNT, 'count doubled')
  const after = new Set((await datasetKeys(store)).map((k) => k.id))
  t.ok(keys.every((k) => after.has(k.id)), 'nothing was deleted')

  const overlap = await seedDatasets(store, vocab, { count: 100, seed: 2, startIndex: 250 })
  t.same({ inserted: overlap.inserted, skipped: overlap.skipped }, { inserted: 50, skipped: 50 }, 'a partly seeded range adds only the missing datasets')
  return keys
}

t.test('the generator', async (t) => {
  const { createHash } = await import('node:crypto')
  const organizations = vocab.kommunen.map((k) => ({ ...k }))
  const themeIds = new Map(vocab.themes.all.map((th) => [th.code, th.id]))
  const gen = (seed: number, count: number, startIndex?: number) =>
    [...generateDatasets({ count, seed, vocab, organizations, themeIds, startIndex })]
  const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex')

  const a = gen(1, 500)
  t.equal(digest(a), digest(gen(1, 500)), 'the same seed gives identical datasets')
  t.same(gen(1, 20, 100), a.slice(100, 120), 'dataset i does not depend on where generation starts')
  t.same(gen(1, 500, 0).map((d) => d.id), a.map((_, i) => syntheticDatasetId(1, i)), 'syntheticDatasetId matches')
  const b = gen(2, 500)
  const names = new Set([...a, ...b].map((d) => d.name))
  const ids = new Set([...a, ...b].flatMap((d) => [d.id, ...(d.resources ?? []).map((r) => r.id)]))
  t.equal(names.size, 1000, 'names unique within and across seeds')
  t.equal(ids.size, 1000 + [...a, ...b].reduce((n, d) => n + (d.resources?.length ?? 0), 0), 'ids unique within and across seeds')
  t.ok(a.every((d) => NAME.test(d.name) && d.name.length <= 100), 'names are [a-z0-9-], at most 100 characters')
  t.ok(a.every((d) => UUID.test(d.id ?? '')), 'ids are UUID v4-form')
  t.ok(new Set(a.map((d) => d.title?.replace(/\d{4}|–.*$/g, '').trim())).size > 50, 'many different topics')
  t.ok(new Set(a.map((d) => d.owner_org)).size === organizations.length, 'every Kommune gets datasets')
  t.ok(a.some((d) => d.version), 'some datasets have a version')
  t.throws(() => gen(-1, 1), RangeError, 'negative seeds are refused')
})

t.test('sqlite', async (t) => {
  const store = await sqliteStore()
  t.teardown(() => store.close())
  const keys = await scenario(t, store)

  const twin = await sqliteStore()
  t.teardown(() => twin.close())
  await seedDatasets(twin, vocab, { count: COUNT, seed: 1, batchSize: 77 })
  t.same(await datasetKeys(twin), keys, 'a second database seeded with the same seed has identical ids, names and titles')
  const docOf = async (s: Store) =>
    (await s.db.selectFrom('package_document').select(['package_id as id', 'document']).orderBy('package_id').execute()).map((r) => {
      const doc = JSON.parse(r.document) as Record<string, unknown>
      delete doc.metadata_created
      delete doc.metadata_modified
      for (const res of doc.resources as Array<Record<string, unknown>>) {
        delete res.created
        delete res.metadata_modified
      }
      return doc
    })
  t.same(await docOf(twin), (await docOf(store)).filter((d) => keys.some((k) => k.id === d.id)), 'identical documents apart from timestamps')

  const seed2 = await sqliteStore()
  t.teardown(() => seed2.close())
  await seedDatasets(seed2, vocab, { count: COUNT, seed: 2 })
  const names1 = new Set(keys.map((k) => k.name))
  t.ok((await datasetKeys(seed2)).every((k) => !names1.has(k.name)), 'seed 2 gives different names')

  const ref = await loadSeedReference(store)
  t.equal(ref.organizations.length, vocab.kommunen.length, 'organizations read from the database')
})

t.test('mysql', async (t) => {
  const url = mysqlUrl()
  if (!url) {
    t.comment('skipping MySQL: DATABASE_URL does not name a MySQL/MariaDB server')
    return
  }
  // A scratch database of its own: the configured one is never touched.
  const backend = await mysqlBackend(url, {})
  t.teardown(backend.cleanup)
  const store = backend.store
  await new CatalogService(store, vocab, backend.config).init()
  const keys = await scenario(t, store)

  const sqlite = await sqliteStore()
  t.teardown(() => sqlite.close())
  await seedDatasets(sqlite, vocab, { count: COUNT, seed: 1 })
  t.same(keys, await datasetKeys(sqlite), 'MySQL and SQLite hold the same datasets for the same seed')
})
