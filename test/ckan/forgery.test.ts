/**
 * A hostile editor of one Kommune (Kassel) tries to pass off data as another's (Marburg): with chosen ids,
 * another dataset's name or id, other datasets' URIs, reused resource ids, a deleted state, a stale If-Match,
 * or through a server whose cached copy is older than the database. Each attempt must be refused with the
 * field named, and Marburg's data must stay as it was.
 *
 * Assertions marked [service] need the uniqueness checks of the catalog service's write transaction
 * (dataset/resource URI unique across the catalog, ids never equal to names, a resource id of another dataset).
 */
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'

/** Values that are no absolute http(s) IRI, or carry characters no IRI may hold. */
const NOT_IRIS = [
  'a b<c>',
  'http://example.org/a b',
  'http://example.org/<x>',
  'http://example.org/x> <http://example.org/y> "z" .',
  'http://example.org/"quoted"',
  'http://example.org/{x}|^`',
  'http://example.org/back\\slash',
  'http://example.org/new\nline',
  'http://example.org/nul\u0000',
  'http://example.org/c1\u0085',
  'http://example.org/lone\ud800surrogate',
  'ftp://example.org/x',
  'urn:uuid:0b0c5b6e-8a73-4d3e-9f55-3d1f0f3c6b8e',
  'javascript:alert(1)',
  'http:example.org',
  'relative/path',
  `http://example.org/${'x'.repeat(3000)}`,
]

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const base = backend.config.baseUrl.replace(/\/+$/, '')
  const sysadmin = await userWithToken(app, 'sysadmin-f', { sysadmin: true })
  const kassel = await userWithToken(app, 'kassel-editor', { org: 'kassel', role: 'editor' })
  const kasselAdmin = await userWithToken(app, 'kassel-admin', { org: 'kassel', role: 'admin' })
  const marburg = await userWithToken(app, 'marburg-editor', { org: 'marburg', role: 'editor' })

  const marburgUri = 'https://www.marburg.de/daten/baumkataster'
  const marburgResourceUri = 'https://www.marburg.de/daten/baumkataster/csv'
  const marburgCreated = await call(
    app,
    marburg,
    'package_create',
    validDataset('marburg', {
      name: 'baumkataster-marburg',
      extras: [{ key: 'frequency', value: 'DAILY' }, { key: 'uri', value: marburgUri }],
      resources: [{ url: 'https://www.marburg.de/baeume.csv', format: 'CSV', uri: marburgResourceUri }],
    }),
  )
  t.equal(marburgCreated.status, 200, 'Marburg publishes its dataset', { error: marburgCreated.body.error })
  const marburgDataset = marburgCreated.body.result
  const marburgResourceId = marburgDataset.resources[0].id as string

  /** Marburg's dataset is untouched and still Marburg's, by id and by name. */
  async function marburgIntact(t: Test): Promise<void> {
    for (const ref of [marburgDataset.id, marburgDataset.name]) {
      const shown = await call(app, marburg, 'package_show', { id: ref })
      t.equal(shown.status, 200, `package_show ${ref}`)
      t.equal(shown.body.result.id, marburgDataset.id, `${ref} is Marburg's dataset`)
      t.equal(shown.body.result.organization.name, 'marburg')
      t.equal(shown.body.result.resources[0].id, marburgResourceId)
    }
    const resource = await call(app, marburg, 'resource_show', { id: marburgResourceId })
    t.equal(resource.body.result.package_id, marburgDataset.id, "Marburg's resource still belongs to Marburg's dataset")
    const ttl = await app.fastify.inject({ url: `/dataset/${marburgDataset.name}.ttl` })
    t.equal(ttl.statusCode, 200)
    t.notMatch(ttl.body, /kassel/i, "Marburg's RDF names no Kassel data")
  }

  /** No dataset of Kassel's was stored by a refused create. */
  async function kasselCount(): Promise<number> {
    const found = await call(app, sysadmin, 'package_search', { fq: 'organization:kassel', include_private: true, include_drafts: true, rows: 0 })
    return found.body.result.count as number
  }

  await t.test('only sysadmins choose an id, and it must be a UUID', async (t) => {
    const before = await kasselCount()
    for (const id of [randomUUID(), marburgDataset.id, marburgDataset.name, 'a b<c>']) {
      const forged = await call(app, kassel, 'package_create', validDataset('kassel', { id }))
      t.equal(forged.status, 409, `an editor's id ${id.slice(0, 40)} is refused`)
      t.equal(forged.body.error.__type, 'Validation Error')
      t.same(forged.body.error.id, ['The input field id was not expected.'], "as CKAN's empty_if_not_sysadmin answers")
    }
    for (const id of [marburgDataset.name, 'a b<c>', 'x'.repeat(90), randomUUID().toUpperCase(), `${randomUUID()}x`]) {
      const refused = await call(app, sysadmin, 'package_create', validDataset('kassel', { id }))
      t.equal(refused.status, 409, `a sysadmin's id ${id.slice(0, 40)} that is no UUID is refused`)
      t.match(refused.body.error.id, [/UUID/])
    }
    const taken = await call(app, sysadmin, 'package_create', validDataset('kassel', { id: marburgDataset.id }))
    t.equal(taken.status, 409, "Marburg's id is taken")
    t.ok(taken.body.error.id, 'naming id')
    t.equal(await kasselCount(), before, 'none of these was stored')
    const chosen = randomUUID()
    const created = await call(app, sysadmin, 'package_create', validDataset('kassel', { id: chosen }))
    t.equal(created.status, 200, 'a sysadmin may choose a UUID')
    t.equal(created.body.result.id, chosen)
    await marburgIntact(t)
  })

  await t.test("a name equal to another dataset's id is refused [service]", async (t) => {
    const byName = await call(app, kassel, 'package_create', validDataset('kassel', { name: marburgDataset.id }))
    t.equal(byName.status, 409, '[service] package_create with name = Marburg id', { error: byName.body.error })
    t.ok(byName.body.error?.name, '[service] naming name')
    const own = (await call(app, kassel, 'package_create', validDataset('kassel'))).body.result
    const renamed = await call(app, kassel, 'package_patch', { id: own.id, name: marburgDataset.id })
    t.equal(renamed.status, 409, '[service] package_patch renaming to Marburg id', { error: renamed.body.error })
    t.ok(renamed.body.error?.name, '[service] naming name')
    await marburgIntact(t)
  })

  await t.test('dataset and resource URIs must be absolute http(s) IRIs', async (t) => {
    const own = (await call(app, kassel, 'package_create', validDataset('kassel'))).body.result
    for (const value of NOT_IRIS) {
      const label = JSON.stringify(value.slice(0, 50))
      const datasetUri = await call(app, kassel, 'package_create', validDataset('kassel', { extras: [{ key: 'uri', value }] }))
      t.equal(datasetUri.status, 409, `uri extra ${label}`)
      t.ok(datasetUri.body.error.uri, `naming uri: ${label}`)
      for (const field of ['uri', 'access_url', 'download_url']) {
        const resource = await call(app, kassel, 'package_create', validDataset('kassel', { resources: [{ url: 'https://www.kassel.de/a.csv', [field]: value }] }))
        t.equal(resource.status, 409, `resource ${field} ${label}`)
        t.ok(resource.body.error.resources?.[0]?.[field], `naming resources[0].${field}: ${label}`)
      }
      const added = await call(app, kassel, 'resource_create', { package_id: own.id, url: 'https://www.kassel.de/b.csv', uri: value })
      t.equal(added.status, 409, `resource_create uri ${label}`)
      t.ok(added.body.error.uri, `resource_create naming uri: ${label}`)
    }
    const good = await call(
      app,
      kassel,
      'package_create',
      validDataset('kassel', {
        extras: [{ key: 'frequency', value: 'DAILY' }, { key: 'uri', value: 'https://www.kassel.de/daten/wahl-2026' }],
        resources: [{ url: 'https://www.kassel.de/w.csv', uri: 'https://www.kassel.de/daten/wahl-2026/csv', access_url: 'https://www.kassel.de/w', download_url: 'https://www.kassel.de/w.csv' }],
      }),
    )
    t.equal(good.status, 200, 'absolute http(s) IRIs are taken', { error: good.body.error })
    const shown = (await call(app, kassel, 'package_show', { id: good.body.result.id })).body.result
    t.equal(shown.resources[0].access_url, 'https://www.kassel.de/w')
  })

  await t.test("the catalog's own dataset URIs are not a caller's to give", async (t) => {
    const asMarburg = await call(app, kassel, 'package_create', validDataset('kassel', { extras: [{ key: 'uri', value: `${base}/dataset/${marburgDataset.id}` }] }))
    t.equal(asMarburg.status, 409, "the default URI of Marburg's dataset")
    t.ok(asMarburg.body.error.uri, 'naming uri')
    const asMarburgResource = await call(
      app,
      kassel,
      'package_create',
      validDataset('kassel', { resources: [{ url: 'https://www.kassel.de/a.csv', uri: `${base}/dataset/${marburgDataset.id}/resource/${marburgResourceId}` }] }),
    )
    t.equal(asMarburgResource.status, 409, "the default URI of Marburg's resource")
    t.ok(asMarburgResource.body.error.resources?.[0]?.uri, 'naming resources[0].uri')
    const own = (await call(app, kassel, 'package_create', validDataset('kassel'))).body.result
    const ownUri = await call(app, kassel, 'package_patch', { id: own.id, extras: [{ key: 'frequency', value: 'DAILY' }, { key: 'uri', value: `${base}/dataset/${own.id}` }] })
    t.equal(ownUri.status, 200, "a dataset's own default URI may be written out", { error: ownUri.body.error })
    await marburgIntact(t)
  })

  await t.test("another Kommune's dataset and resource URIs are refused [service]", async (t) => {
    const created = await call(app, kassel, 'package_create', validDataset('kassel', { extras: [{ key: 'frequency', value: 'DAILY' }, { key: 'uri', value: marburgUri }] }))
    t.equal(created.status, 409, "[service] package_create with Marburg's dataset URI", { error: created.body.error })
    t.ok(created.body.error?.uri, '[service] naming uri')
    const own = (await call(app, kassel, 'package_create', validDataset('kassel'))).body.result
    const patched = await call(app, kassel, 'package_patch', { id: own.id, extras: [{ key: 'uri', value: marburgUri }] })
    t.equal(patched.status, 409, "[service] package_patch with Marburg's dataset URI", { error: patched.body.error })
    t.ok(patched.body.error?.uri, '[service] naming uri')
    const withResource = await call(app, kassel, 'package_create', validDataset('kassel', { resources: [{ url: 'https://www.kassel.de/a.csv', uri: marburgResourceUri }] }))
    t.equal(withResource.status, 409, "[service] package_create with Marburg's resource URI", { error: withResource.body.error })
    t.match(JSON.stringify(withResource.body.error?.resources ?? null), /uri/i, '[service] naming the resource uri under resources')
    const added = await call(app, kassel, 'resource_create', { package_id: own.id, url: 'https://www.kassel.de/b.csv', uri: marburgResourceUri })
    t.equal(added.status, 409, "[service] resource_create with Marburg's resource URI", { error: added.body.error })
    t.ok(added.body.error?.uri ?? added.body.error?.resources, '[service] naming the uri')
    await marburgIntact(t)
  })

  await t.test('resource ids: UUIDs only, and never another dataset’s', async (t) => {
    const notUuid = await call(app, kassel, 'package_create', validDataset('kassel', { resources: [{ id: 'meine-ressource', url: 'https://www.kassel.de/a.csv' }] }))
    t.equal(notUuid.status, 409)
    t.match(notUuid.body.error.resources?.[0]?.id, [/UUID/], 'naming resources[0].id')
    const own = (await call(app, kassel, 'package_create', validDataset('kassel'))).body.result
    const added = await call(app, kassel, 'resource_create', { package_id: own.id, id: 'a b<c>', url: 'https://www.kassel.de/b.csv' })
    t.equal(added.status, 409)
    t.match(added.body.error.id, [/UUID/], 'resource_create naming id')
    const chosen = randomUUID()
    const twice = await call(app, kassel, 'package_create', validDataset('kassel', { resources: [{ id: chosen, url: 'https://www.kassel.de/a.csv' }, { id: chosen, url: 'https://www.kassel.de/b.csv' }] }))
    t.equal(twice.status, 409, 'one id for two resources of one dataset')
    t.ok(twice.body.error.resources?.[1]?.id, 'naming resources[1].id')
    const withChosen = await call(app, kassel, 'resource_create', { package_id: own.id, id: chosen, url: 'https://www.kassel.de/c.csv' })
    t.equal(withChosen.status, 200, 'a new UUID is taken', { error: withChosen.body.error })
    t.equal(withChosen.body.result.id, chosen)

    const reused = await call(app, kassel, 'package_create', validDataset('kassel', { resources: [{ id: marburgResourceId, url: 'https://www.kassel.de/a.csv' }] }))
    t.equal(reused.status, 409, "[service] package_create reusing Marburg's resource id", { error: reused.body.error })
    const reusedOnUpdate = await call(app, kassel, 'resource_create', { package_id: own.id, id: marburgResourceId, url: 'https://www.kassel.de/d.csv' })
    t.equal(reusedOnUpdate.status, 409, "[service] resource_create reusing Marburg's resource id", { error: reusedOnUpdate.body.error })
    await marburgIntact(t)
  })

  await t.test('dataset state: active or draft by create/update/patch, deleted only by package_delete', async (t) => {
    const own = (await call(app, kassel, 'package_create', validDataset('kassel'))).body.result
    for (const state of ['deleted', 'pending', 'DELETED', 'gelöscht']) {
      const created = await call(app, kassel, 'package_create', validDataset('kassel', { state }))
      t.equal(created.status, 409, `package_create state=${state}`)
      t.ok(created.body.error.state, 'naming state')
      const patched = await call(app, kassel, 'package_patch', { id: own.id, state })
      t.equal(patched.status, 409, `package_patch state=${state}`)
      const updated = await call(app, kassel, 'package_update', { ...own, state })
      t.equal(updated.status, 409, `package_update state=${state}`)
    }
    t.equal((await call(app, kassel, 'package_show', { id: own.id })).body.result.state, 'active')
    t.equal((await call(app, kassel, 'package_patch', { id: own.id, state: 'draft' })).body.result.state, 'draft')
    t.equal((await call(app, kassel, 'package_delete', { id: own.id })).status, 200)
    t.equal((await call(app, kassel, 'package_show', { id: own.id })).body.result.state, 'deleted')
  })

  await t.test('a stale If-Match on package_delete is a 409 Conflict and deletes nothing', async (t) => {
    const own = (await call(app, kassel, 'package_create', validDataset('kassel'))).body.result
    const staleTag = (await app.fastify.inject({ url: `/api/3/action/package_show?id=${own.id}`, headers: { authorization: kassel.token! } })).headers.etag as string
    const patched = await call(app, kassel, 'package_patch', { id: own.id, title: 'Neuer Titel' })
    t.equal(patched.status, 200)
    const stale = await call(app, kassel, 'package_delete', { id: own.id }, { 'if-match': staleTag })
    t.equal(stale.status, 409)
    t.equal(stale.body.error.__type, 'Conflict')
    const row = await backend.store.db.selectFrom('package').select(['state', 'title']).where('id', '=', own.id).executeTakeFirstOrThrow()
    t.same(row, { state: 'active', title: 'Neuer Titel' }, 'nothing deleted')
    const freshTag = patched.headers.etag as string
    const fresh = await call(app, kassel, 'package_delete', { id: own.id }, { 'if-match': freshTag })
    t.equal(fresh.status, 200, 'the current ETag deletes')
    t.equal((await backend.store.db.selectFrom('package').select('state').where('id', '=', own.id).executeTakeFirstOrThrow()).state, 'deleted')
  })

  await t.test("a Kommune admin cannot change their organization's state", async (t) => {
    for (const action of ['organization_patch', 'organization_update']) {
      for (const state of ['deleted', 'foo', '']) {
        const answer = await call(app, kasselAdmin, action, { id: 'kassel', title: 'Stadt Kassel', state })
        t.equal(answer.status, 200, `${action} state=${JSON.stringify(state)}: the key is ignored, as CKAN's group schema does`, { error: answer.body.error })
        t.equal(answer.body.result.state, 'active')
      }
    }
    const bySysadmin = await call(app, sysadmin, 'organization_patch', { id: 'kassel', state: 'deleted' })
    t.equal(bySysadmin.status, 200)
    const row = await backend.store.db.selectFrom('organization').select(['state', 'title']).where('name', '=', 'kassel').executeTakeFirstOrThrow()
    t.same(row, { state: 'active', title: 'Stadt Kassel' }, 'stored: the title, not the state')
    t.equal((await call(app, kassel, 'package_create', validDataset('kassel'))).status, 200, "Kassel's datasets still have their organization")

    const rename = await call(app, kasselAdmin, 'organization_patch', { id: 'kassel', name: 'marburg' })
    t.equal(rename.status, 409, "renaming to another Kommune's name")
    t.same(rename.body.error.name, ['Group name already exists in database'])
    const badHomepage = await call(app, kasselAdmin, 'organization_patch', { id: 'kassel', homepage: 'https://www.kassel.de/> <x> <y> .' })
    t.equal(badHomepage.status, 409)
    t.ok(badHomepage.body.error.homepage, 'naming homepage')

    const created = await call(app, sysadmin, 'organization_create', { name: 'probe-kommune', title: 'Probe' })
    t.equal(created.status, 200)
    t.equal((await call(app, sysadmin, 'organization_delete', { id: 'probe-kommune' })).status, 200, 'organization_delete still deletes')
    const deleted = await backend.store.db.selectFrom('organization').select(['state', 'title']).where('name', '=', 'probe-kommune').executeTakeFirstOrThrow()
    t.same(deleted, { state: 'deleted', title: 'Probe' })
  })

  await t.test('writes authorize against the stored owner, not an older cached copy', async (t) => {
    // A second server on the same database: its document cache still holds the dataset as it was.
    const other = await startApp(t, backend)
    const created = (await call(app, kassel, 'package_create', validDataset('kassel'))).body.result
    t.equal((await call(other, kassel, 'package_show', { id: created.id })).body.result.organization.name, 'kassel', 'cached on the other server')
    const moved = await call(app, sysadmin, 'package_patch', { id: created.id, owner_org: 'marburg' })
    t.equal(moved.status, 200)
    const forged = await call(other, kassel, 'package_patch', { id: created.id, title: 'Von Kassel überschrieben', owner_org: 'kassel' })
    t.equal(forged.status, 403, 'the Kassel editor may not write what Marburg owns now')
    const row = await backend.store.db.selectFrom('package').select(['owner_org', 'title']).where('id', '=', created.id).executeTakeFirstOrThrow()
    t.equal(row.owner_org, app.service.reference.organization('marburg')!.id, 'still Marburg’s')
    t.equal(row.title, created.title)

    // And no write merges onto an older copy: the title changed elsewhere survives a patch of notes here.
    const second = (await call(app, kassel, 'package_create', validDataset('kassel'))).body.result
    await call(other, kassel, 'package_show', { id: second.id })
    t.equal((await call(app, kassel, 'package_patch', { id: second.id, title: 'Titel von A' })).status, 200)
    const notes = await call(other, kassel, 'package_patch', { id: second.id, notes: 'Beschreibung von B' })
    t.equal(notes.status, 200)
    t.equal(notes.body.result.title, 'Titel von A', "the other server's change is kept")
    t.equal(notes.body.result.notes, 'Beschreibung von B')
  })
})
