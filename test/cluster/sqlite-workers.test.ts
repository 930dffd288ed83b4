/**
 * SQLite with several worker processes (issue 9: `WORKERS=2` on SQLite failed 19 % of writes with
 * "database is locked"). Writes take SQLite's write lock when they begin and wait for it (busy timeout,
 * then a bounded retry), so concurrent writers through both workers all succeed.
 */
import t from 'tap'
import { validDataset } from '../helpers/bodies.js'
import { action, ok, sharedDatabase, standardTokens, startServers, stopAll } from '../helpers/servers.js'

const CLIENTS = 8
const PER_CLIENT = 12

t.test('concurrent writes through two SQLite workers all succeed', async (t) => {
  const db = await sharedDatabase('sqlite')
  t.teardown(() => db.cleanup())
  const tokens = await standardTokens(db.store)
  const [server] = await startServers(db.url, [{ label: 'A', env: { WORKERS: '2', WRITE_RATE_LIMIT: '1000000' } }])
  t.teardown(() => stopAll([server!]))

  const answers = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const statuses: Array<{ status: number; error?: unknown }> = []
      for (let i = 0; i < PER_CLIENT; i++) {
        const created = await action(server!, 'package_create', { token: tokens.marburgEditor, body: validDataset('marburg', { name: `sqlite-worker-${client}-${i}` }) })
        statuses.push({ status: created.status, error: created.body.error })
        if (created.status === 200) {
          const patched = await action(server!, 'package_patch', { token: tokens.marburgEditor, body: { id: created.body.result.id, version: `v${i}` } })
          statuses.push({ status: patched.status, error: patched.body.error })
        }
      }
      return statuses
    }),
  )
  const all = answers.flat()
  const failed = all.filter((a) => a.status !== 200)
  t.equal(failed.length, 0, `${failed.length} of ${all.length} writes failed: ${JSON.stringify(failed.slice(0, 3))}`)
  const count = (await ok(server!, 'package_search', { query: { q: 'name:sqlite-worker-*', rows: 0 } })).count
  t.equal(count, CLIENTS * PER_CLIENT, 'every dataset is there')
})
