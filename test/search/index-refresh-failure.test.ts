/**
 * A refresh of the in-memory index that fails (a lost connection, a deadlock) keeps what it had still to do:
 * the changed datasets are re-read by the next refresh, a failed full load is tried again. Dropped, they would
 * leave a dataset made private in anonymous counts and facets until an unrelated reload.
 */
import t from 'tap'
import type { KyselyPlugin } from 'kysely'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { VisibleDatasetIndex } from '../../src/search/memory-index.js'

/** Fails the next `failures` statements, then lets everything through. */
class FailingStatements implements KyselyPlugin {
  failures = 0
  transformQuery<T>(args: { node: T }): T {
    if (this.failures > 0) {
      this.failures--
      throw new Error('connection lost (injected)')
    }
    return args.node
  }
  async transformResult<R>(args: { result: R }): Promise<R> {
    return args.result
  }
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const [id] = await insertDatasets(app, [{ name: 'refresh-failure', title: 'Wird privat', owner_org: 'marburg' }])
  const failing = new FailingStatements()
  const index = new VisibleDatasetIndex(backend.store.db.withPlugin(failing))
  const visible = () => index.data.byId.get(id!) !== undefined && index.all().some((d) => index.data.ids[d] === id)

  await t.test('a failed re-read of changed datasets is done by the next refresh', async (t) => {
    await index.warm()
    t.ok(visible(), 'public: in the index')
    // As a write stores it: `visible` is what the index (and SQL search) filter on.
    await backend.store.db.updateTable('package').set({ private: 1, visible: 0 }).where('id', '=', id!).execute()
    index.changed({ kind: 'datasets', keys: [id!] })
    failing.failures = 1
    await t.rejects(index.current(), /injected/)
    await index.current()
    t.notOk(visible(), 'private: gone after the next refresh')
  })

  await t.test('a failed full load is tried again', async (t) => {
    await backend.store.db.updateTable('package').set({ private: 0, visible: 1 }).where('id', '=', id!).execute()
    index.changed({ kind: 'all' })
    failing.failures = 1
    await t.rejects(index.current(), /injected/)
    await index.current()
    t.ok(visible(), 'public again: loaded by the retried full load')
  })
})
