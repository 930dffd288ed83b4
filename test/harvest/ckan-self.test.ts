import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { validDataset } from '../helpers/bodies.js'
import { call, userWithToken } from '../helpers/users.js'
import { Harvester } from '../../src/harvest/harvester.js'
import { harvestDb } from '../../src/harvest/tables.js'
import { addSource, harvestNow, sourceService, testHarvestConfig } from './support.js'

/**
 * A second instance of this service as a CKAN source: every public dataset arrives (owned by the source's
 * Kommune, with the harvest extras), private ones never; an update there arrives on the next incremental run
 * and only it is rewritten; a deletion there is withdrawn on the next complete run; editors cannot edit a
 * harvested dataset.
 */
await forEachBackend(t, async (t, backend) => {
  const source = await sourceService(t)
  const remoteAdmin = await userWithToken(source.app, 'quelle-admin', { sysadmin: true })
  const created: string[] = []
  for (let i = 0; i < 12; i++) {
    const res = await call(
      source.app,
      remoteAdmin,
      'package_create',
      validDataset('kassel', { name: `quelle-${i}`, title: `Quelle <Datensatz> "${i}"` }),
    )
    t.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300))
    created.push(res.body.result.id)
  }
  const secret = await call(
    source.app,
    remoteAdmin,
    'package_create',
    validDataset('kassel', { name: 'geheim', private: true }),
  )
  t.equal(secret.status, 200)

  const app = await startApp(t, backend)
  const harvester = new Harvester(app.service, testHarvestConfig(backend.config))
  const src = await addSource(harvester, app, {
    name: 'kassel-portal',
    title: 'Portal Kassel',
    type: 'ckan',
    url: `${source.url}/api/3/action`,
    owner_org: 'marburg',
    config: { rows: 5, margin_seconds: 0 },
  })
  const db = harvestDb(backend.store.db)

  const first = await harvestNow(harvester, 'kassel-portal')
  t.equal(first.status, 'finished', first.error ?? '')
  t.match(first.counts, { added: 12, updated: 0, unchanged: 0, withdrawn: 0, skipped: 0, failed: 0, pages: 3 })

  const shown = await call(app, null, 'package_search', { q: '*:*', rows: 100 })
  t.equal(shown.body.result.count, 12, 'every public dataset arrived')
  const names = shown.body.result.results.map((p: { name: string }) => p.name)
  t.notOk(names.includes('geheim'), 'the private dataset never arrives')
  const one = await call(app, null, 'package_show', { id: 'quelle-3' })
  t.equal(one.status, 200)
  t.equal(one.body.result.organization.name, 'marburg', "owned by the source's Kommune")
  t.equal(one.body.result.title, 'Quelle <Datensatz> "3"', 'hostile characters kept as text')
  const extras = Object.fromEntries(one.body.result.extras.map((e: { key: string; value: string }) => [e.key, e.value]))
  t.equal(extras.harvest_source_id, src.id)
  t.equal(extras.harvest_source_title, 'Portal Kassel')
  t.match(extras.harvest_object_id, /^[0-9a-f-]{36}$/)
  t.equal(extras.uri, `${source.url}/dataset/${created[3]}`, 'the source URI')
  t.equal(extras.identifier, created[3], 'dct:identifier: the source id')

  await t.test('the DCAT export carries the source URI and dct:identifier', async (t) => {
    const res = await app.fastify.inject({ url: `/dataset/${one.body.result.id}.ttl` })
    t.equal(res.statusCode, 200)
    t.match(res.body, `<${source.url}/dataset/${created[3]}>`)
    t.match(res.body, /identifier/)
  })

  await t.test('editors of the Kommune get a 409 on a harvested dataset', async (t) => {
    const editor = await userWithToken(app, 'marburg-editor', { org: 'marburg', role: 'editor' })
    const res = await call(app, editor, 'package_patch', { id: 'quelle-3', title: 'geändert' })
    t.equal(res.status, 409)
    t.match(res.body.error.message, /harvested from the source "Portal Kassel"/)
    const del = await call(app, editor, 'package_delete', { id: 'quelle-3' })
    t.equal(del.status, 409, 'nor delete it')
    const forged = await call(
      app,
      editor,
      'package_create',
      validDataset('marburg', { extras: [{ key: 'harvest_source_id', value: src.id }] }),
    )
    t.equal(forged.status, 409)
    t.match(JSON.stringify(forged.body.error), /written by the harvester only/, 'nobody else writes the harvest extras')
  })

  await t.test('an update there arrives on the next incremental run, and only it is rewritten', async (t) => {
    const before = await db
      .selectFrom('package')
      .select(['id', 'name', 'metadata_modified', 'revision'])
      .orderBy('name')
      .execute()
    const res = await call(source.app, remoteAdmin, 'package_patch', { id: created[5], title: 'Neu betitelt' })
    t.equal(res.status, 200)
    const second = await harvestNow(harvester, 'kassel-portal')
    t.equal(second.status, 'finished', second.error ?? '')
    t.equal(second.counts.updated, 1, 'one dataset rewritten')
    t.equal(second.counts.added, 0)
    t.ok(
      second.counts.unchanged + second.counts.updated < 12,
      `incremental: only recent changes fetched (${second.counts.unchanged} unchanged)`,
    )
    const after = await db
      .selectFrom('package')
      .select(['id', 'name', 'metadata_modified', 'revision'])
      .orderBy('name')
      .execute()
    const changed = after.filter((row, i) => row.metadata_modified !== before[i].metadata_modified).map((r) => r.name)
    t.same(changed, ['quelle-5'], 'no other dataset got a new metadata_modified')
    t.equal((await call(app, null, 'package_show', { id: 'quelle-5' })).body.result.title, 'Neu betitelt')
  })

  await t.test('a deletion there is withdrawn on the next complete run only', async (t) => {
    t.equal((await call(source.app, remoteAdmin, 'package_delete', { id: created[7] })).status, 200)
    const incremental = await harvestNow(harvester, 'kassel-portal')
    t.equal(incremental.counts.withdrawn, 0, 'an incremental run withdraws nothing')
    t.equal((await call(app, null, 'package_show', { id: 'quelle-7' })).status, 200)
    const full = await harvestNow(harvester, 'kassel-portal', { full: true })
    t.equal(full.status, 'finished', full.error ?? '')
    t.equal(full.counts.withdrawn, 1)
    t.equal(full.counts.unchanged, 11, 'unchanged ones not rewritten')
    t.equal((await call(app, null, 'package_show', { id: 'quelle-7' })).status, 403, 'withdrawn: deleted here')
    t.equal((await call(app, null, 'package_search', { q: '*:*' })).body.result.count, 11)
  })

  await t.test('a run that would withdraw more than 20 % stops and deletes nothing until confirmed', async (t) => {
    for (const id of created.slice(0, 3))
      t.equal((await call(source.app, remoteAdmin, 'package_delete', { id })).status, 200)
    const guarded = await harvestNow(harvester, 'kassel-portal', { full: true })
    t.equal(guarded.status, 'needs_confirmation')
    t.match(guarded.error, /3 of 11 datasets .* --confirm-withdrawals/)
    t.equal(guarded.counts.withdrawn, 0)
    t.equal((await call(app, null, 'package_search', { q: '*:*' })).body.result.count, 11, 'nothing deleted')
    const confirmed = await harvestNow(harvester, 'kassel-portal', { full: true, confirmWithdrawals: true })
    t.equal(confirmed.status, 'finished', confirmed.error ?? '')
    t.equal(confirmed.counts.withdrawn, 3)
    t.equal((await call(app, null, 'package_search', { q: '*:*' })).body.result.count, 8)
  })

  await t.test('a withdrawn dataset that comes back is restored', async (t) => {
    // Undeleting at the source: package_patch state active is refused for deleted ones? Use a new dataset instead.
    const res = await call(source.app, remoteAdmin, 'package_create', validDataset('kassel', { name: 'quelle-neu' }))
    t.equal(res.status, 200)
    const run = await harvestNow(harvester, 'kassel-portal')
    t.equal(run.counts.added, 1)
    t.equal((await call(app, null, 'package_show', { id: 'quelle-neu' })).status, 200)
  })
})
