import t from 'tap'
import { catalogErrorFor, isRetryable, writeTransaction } from '../../src/db/write.js'
import { forEachBackend } from '../helpers/backends.js'
import { startTwoServices } from '../helpers/app.js'
import { validDataset } from '../helpers/bodies.js'
import { call, userWithToken } from '../helpers/users.js'

t.test('database errors map to CKAN errors in one place', async (t) => {
  const mysqlDup = Object.assign(new Error("Duplicate entry 'haushalt' for key 'name'"), { code: 'ER_DUP_ENTRY', errno: 1062, sqlMessage: "Duplicate entry 'haushalt' for key 'name'" })
  const mapped = catalogErrorFor(mysqlDup, (value) => (value === 'haushalt' ? { field: 'name', message: 'That URL is already in use.' } : undefined))
  t.equal(mapped?.code, 'validation')
  t.same(mapped?.fields, { name: ['That URL is already in use.'] })
  const sqliteDup = Object.assign(new Error('UNIQUE constraint failed: package_uri.uri_hash'), { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })
  t.same(catalogErrorFor(sqliteDup)?.fields, { uri: ['That URI is already used by another dataset or resource.'] })
  const unknownKey = Object.assign(new Error("Duplicate entry 'x' for key 'PRIMARY'"), { code: 'ER_DUP_ENTRY', errno: 1062 })
  t.equal(catalogErrorFor(unknownKey)?.code, 'validation', 'an unforeseen unique key is still a 409, not a 500')
  const deadlock = Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 })
  t.ok(isRetryable(deadlock))
  t.equal(catalogErrorFor(deadlock)?.code, 'conflict', 'a deadlock that outlived its retries is a 409')
  t.ok(isRetryable(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })))
  t.equal(catalogErrorFor(new Error('disk I/O error')), undefined, 'anything else stays a server error')
})

await forEachBackend(t, async (t, backend) => {
  // Two services with their own connections: the writes really race in the database.
  const [a, b] = await startTwoServices(t, backend)
  const sysadmin = await userWithToken(a, 'root', { sysadmin: true })
  const editor = await userWithToken(a, 'anna', { org: 'marburg', role: 'editor' })
  const apps = [a, b]

  await t.test('a lost lock race is run again', async (t) => {
    let attempts = 0
    const result = await writeTransaction(backend.store, async () => {
      if (++attempts < 3) throw Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 })
      return 'done'
    })
    t.equal(result, 'done')
    t.equal(attempts, 3)
  })

  await t.test('concurrent creates of one name: one wins, the others get CKAN\'s 409', async (t) => {
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => call(apps[i % 2]!, editor, 'package_create', validDataset('marburg', { name: 'gleicher-name', title: `Versuch ${i}` }))))
    const statuses = answers.map((r) => r.status).sort()
    t.same(statuses, [200, 409, 409, 409, 409, 409, 409, 409], JSON.stringify(answers.map((r) => r.body.error ?? 'ok')))
    for (const r of answers.filter((r) => r.status === 409)) t.same(r.body.error.name, ['That URL is already in use.'])
  })

  await t.test('concurrent renames to one name: one wins, the others get a 409', async (t) => {
    const ids: string[] = []
    for (let i = 0; i < 6; i++) ids.push((await call(a, editor, 'package_create', validDataset('marburg', { name: `umbenennen-${i}` }))).body.result.id)
    const answers = await Promise.all(ids.map((id, i) => call(apps[i % 2]!, editor, 'package_patch', { id, name: 'neuer-name' })))
    t.same(answers.map((r) => r.status).sort(), [200, 409, 409, 409, 409, 409], JSON.stringify(answers.map((r) => r.body.error ?? 'ok')))
    for (const r of answers.filter((r) => r.status === 409)) t.same(r.body.error.name, ['That URL is already in use.'])
  })

  await t.test('concurrent claims of one dataset URI: one wins, the others get a 409 naming the field', async (t) => {
    const uri = 'https://www.marburg.de/daten/id/42'
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call(apps[i % 2]!, editor, 'package_create', validDataset('marburg', { name: `uri-${i}`, extras: [{ key: 'uri', value: uri }] })),
      ),
    )
    t.same(answers.map((r) => r.status).sort(), [200, 409, 409, 409, 409, 409], JSON.stringify(answers.map((r) => r.body.error ?? 'ok')))
    for (const r of answers.filter((r) => r.status === 409)) t.ok(r.body.error.uri, JSON.stringify(r.body.error))
  })

  await t.test('concurrent patches of one dataset from two services never fail with a server error', async (t) => {
    const id = (await call(a, editor, 'package_create', validDataset('marburg', { name: 'viel-bearbeitet' }))).body.result.id
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => call(apps[i % 2]!, editor, 'package_patch', { id, version: `v${i}` })))
    t.same(answers.map((r) => r.status), answers.map(() => 200), JSON.stringify(answers.map((r) => r.body.error ?? 'ok')))
    const shown = (await call(a, editor, 'package_show', { id })).body.result
    t.match(shown.version, /^v\d+$/)
  })

  await t.test('renaming a Kommune to the name of another is a 409', async (t) => {
    const res = await call(a, sysadmin, 'organization_patch', { id: 'kassel', name: 'marburg' })
    t.equal(res.status, 409, JSON.stringify(res.body))
    t.ok(res.body.error.name)
  })
})
