/**
 * A change naming many datasets (a Kommune rescored after its edit, a large harvest) re-reads those datasets in
 * chunks; only a change naming more than the index holds loads the whole catalog again. Every process that reads
 * the change feed pays this, so a full load per large change would cost each one seconds and its memory peak at
 * 100,000 datasets.
 */
import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { seedDatasets } from '../../src/catalog/seed.js'
import { vocabularies } from '../../src/catalog/vocabularies.js'
import { RELOAD_CHUNK, VisibleDatasetIndex } from '../../src/search/memory-index.js'

const SEEDED = 4000
const CHANGED = 1100

await forEachBackend(t, async (t, backend) => {
  // The app syncs the reference data (the Kommunen) the seed needs.
  await startApp(t, backend)
  await seedDatasets(backend.store, vocabularies(), { count: SEEDED, seed: 5 })
  const index = new VisibleDatasetIndex(backend.store.db)
  await index.current()
  t.equal(index.fullLoads, 1, 'the first load')
  const visible = Number(
    (
      await backend.store.db
        .selectFrom('package')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('visible', '=', 1)
        .executeTakeFirstOrThrow()
    ).n,
  )
  t.ok(visible > CHANGED * 2, `${visible} visible datasets`)
  t.equal(index.data.live, visible, 'the visible datasets')

  const rows = await backend.store.db
    .selectFrom('package')
    .select(['id', 'name'])
    .where('visible', '=', 1)
    .orderBy('id')
    .limit(CHANGED)
    .execute()
  const keys = rows.flatMap((r) => [r.id, r.name])
  t.ok(keys.length > RELOAD_CHUNK, `the change names ${keys.length} keys: more than one chunk of ${RELOAD_CHUNK}`)
  const ids = rows.map((r) => r.id)

  await t.test('a large change is re-read in chunks, not by a full load', async (t) => {
    await backend.store.db.updateTable('package').set({ visible: 0 }).where('id', 'in', ids).execute()
    index.changed({ kind: 'datasets', keys })
    await index.current()
    t.equal(index.data.live, visible - CHANGED, 'every named dataset was re-read (now invisible: gone)')
    t.equal(index.fullLoads, 1, 'no full load')
    await backend.store.db.updateTable('package').set({ visible: 1 }).where('id', 'in', ids).execute()
    index.changed({ kind: 'datasets', keys })
    await index.current()
    t.equal(index.data.live, visible, 'and back')
    t.equal(index.fullLoads, 1, 'still no full load')
  })

  await t.test('a change naming more than the index holds loads it whole', async (t) => {
    const all = await backend.store.db.selectFrom('package').select(['id', 'name']).execute()
    index.changed({ kind: 'datasets', keys: all.flatMap((r) => [r.id, r.name]) })
    await index.current()
    t.equal(index.fullLoads, 2)
    t.equal(index.data.live, visible)
  })
})
