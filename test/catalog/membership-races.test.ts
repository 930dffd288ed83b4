import t from 'tap'
import { UserService } from '../../src/auth/users.js'
import { CatalogError } from '../../src/errors.js'
import { forEachBackend } from '../helpers/backends.js'
import { startTwoServices } from '../helpers/app.js'
import { validDataset } from '../helpers/bodies.js'
import { call, userWithToken } from '../helpers/users.js'

/**
 * Memberships, tokens and users written at once through two services with their own connections, as two
 * servers on one database do: lock races are retried and clashes are CKAN errors, never a 500. And
 * since nothing caches users, tokens or memberships (the viewer is read per request), what one service
 * wrote holds on the other at once, without the change feed (polled once an hour here).
 */
await forEachBackend(t, async (t, backend) => {
  const [a, b] = await startTwoServices(t, backend, { changePollMs: 3_600_000 })
  const apps = [a, b]
  const admin = await userWithToken(a, 'marburg-admin', { org: 'marburg', role: 'admin' })
  const marburgId = a.service.reference.organization('marburg')!.id
  const people: string[] = []
  for (let i = 0; i < 10; i++) people.push((await a.users.addUser({ name: `person-${i}` })).name)

  /** The statuses of the answers, with the errors of those that are not expected, for the message. */
  const describe = (answers: Array<{ status: number; body: any }>) => JSON.stringify(answers.map((r) => (r.status === 200 ? 200 : { status: r.status, error: r.body?.error })))
  const serverErrors = (answers: Array<{ status: number }>) => answers.filter((r) => r.status >= 500).length

  async function membership(userName: string): Promise<string | undefined> {
    const user = (await a.users.findUser(userName))!
    const rows = await backend.store.db.selectFrom('member').select('capacity').where('user_id', '=', user.id).where('organization_id', '=', marburgId).execute()
    t.ok(rows.length <= 1, `${userName}: at most one membership row`)
    return rows[0]?.capacity
  }

  await t.test('10 memberships of one Kommune at once, 5 rounds over two services: all succeed', async (t) => {
    const roles = ['member', 'editor', 'admin', 'editor', 'member'] as const
    const all: Array<{ status: number; body: any }> = []
    for (const role of roles) {
      const answers = await Promise.all(
        people.map((username, i) => call(apps[i % 2]!, admin, 'organization_member_create', { id: 'marburg', username, role })),
      )
      all.push(...answers)
      t.same(answers.map((r) => r.status), answers.map(() => 200), `role ${role}: ${describe(answers)}`)
      for (const username of people) t.equal(await membership(username), role, `${username} is ${role}`)
    }
    t.equal(serverErrors(all), 0, `no 500 among ${all.length} calls`)
  })

  await t.test('creates and deletes of the same memberships at once: each a 200 or CKAN\'s 404, never a 500', async (t) => {
    for (let round = 0; round < 4; round++) {
      const answers = await Promise.all(
        people.flatMap((username, i) => [
          call(apps[i % 2]!, admin, 'organization_member_create', { id: 'marburg', username, role: i % 3 ? 'editor' : 'member' }),
          call(apps[(i + 1) % 2]!, admin, 'organization_member_delete', { id: 'marburg', username }),
          call(apps[i % 2]!, admin, 'organization_member_create', { id: 'marburg', username, role: 'admin' }),
        ]),
      )
      t.equal(serverErrors(answers), 0, `round ${round}: ${describe(answers)}`)
      for (const r of answers) if (r.status !== 200) t.match(r, { status: 404, body: { error: { message: 'Not found: User is not a member' } } }, `round ${round}`)
      // Every creation answered 200, so each user is a member unless a delete came last, with one row either way.
      for (const username of people) t.ok([undefined, 'member', 'editor', 'admin'].includes(await membership(username)))
    }
  })

  await t.test('a membership written on one service holds on the other at once, without the change feed', async (t) => {
    const newcomer = await userWithToken(a, 'newcomer')
    t.equal((await call(b, newcomer, 'package_create', validDataset('marburg', { name: 'vor-der-aufnahme' }))).status, 403, 'not a member yet')
    t.equal((await call(a, admin, 'organization_member_create', { id: 'marburg', username: 'newcomer', role: 'editor' })).status, 200)
    const created = await call(b, newcomer, 'package_create', validDataset('marburg', { name: 'nach-der-aufnahme' }))
    t.equal(created.status, 200, JSON.stringify(created.body).slice(0, 300))
    t.equal((await call(b, admin, 'organization_member_delete', { id: 'marburg', username: 'newcomer' })).status, 200)
    t.equal((await call(a, newcomer, 'package_create', validDataset('marburg', { name: 'nach-dem-austritt' }))).status, 403, 'refused on A once B removed the membership')
  })

  await t.test('tokens created and revoked at once over two services: never a 500, each valid on both at once', async (t) => {
    const owners = await Promise.all(['tokens-a', 'tokens-b'].map((name) => userWithToken(a, name)))
    const created = await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        const owner = owners[i % 2]!
        return call(apps[Math.floor(i / 2) % 2]!, owner, 'api_token_create', { user: owner.label, name: `token-${i}` })
      }),
    )
    t.same(created.map((r) => r.status), created.map(() => 200), describe(created))
    const tokens = created.map((r, i) => ({ owner: owners[i % 2]!, id: r.body.result?.id as string, token: r.body.result?.token as string }))
    // Half revoked at once from both services while the other half is used on both.
    const revoked = tokens.filter((_, i) => i % 4 < 2)
    const kept = tokens.filter((_, i) => i % 4 >= 2)
    const answers = await Promise.all([
      ...revoked.map((tk, i) => call(apps[i % 2]!, tk.owner, 'api_token_revoke', { jti: tk.id })),
      ...kept.map((tk, i) => call(apps[i % 2]!, { label: tk.owner.label, token: tk.token }, 'api_token_list', { user: tk.owner.label })),
    ])
    t.same(answers.map((r) => r.status), answers.map(() => 200), describe(answers))
    for (const app of apps) {
      for (const tk of revoked) t.equal((await call(app, { label: 'revoked', token: tk.token }, 'api_token_list', { user: tk.owner.label })).status, 403, 'a revoked token is refused on both services at once')
      for (const tk of kept) t.equal((await call(app, { label: 'kept', token: tk.token }, 'api_token_list', { user: tk.owner.label })).status, 200)
    }
    for (const owner of owners) {
      const listed = (await call(b, owner, 'api_token_list', { user: owner.label })).body.result as Array<{ id: string }>
      const want = [...kept.filter((tk) => tk.owner === owner).map((tk) => tk.id)].sort()
      t.same(listed.map((tk) => tk.id).filter((id) => want.includes(id)).sort(), want, `${owner.label}: every kept token listed`)
      t.notOk(listed.some((tk) => revoked.some((r) => r.id === tk.id)), `${owner.label}: no revoked token listed`)
    }
  })

  await t.test('one login name added at once by two services: one user, the other a validation error', async (t) => {
    const services = [a.users, b.users]
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => services[i % 2]!.addUser({ name: 'doppelt' })))
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one created')
    for (const r of results) {
      if (r.status === 'rejected') {
        t.ok(r.reason instanceof CatalogError, `a CatalogError, not a driver error: ${String(r.reason)}`)
        t.same((r.reason as CatalogError).fields, { name: ['That login name is not available.'] })
      }
    }
    const rows = await backend.store.db.selectFrom('app_user').select('id').where('name', '=', 'doppelt').execute()
    t.equal(rows.length, 1)
  })

  await t.test('a UserService on a Store writes the same', async (t) => {
    const users = new UserService(b.store)
    const user = await users.addUser({ name: 'ueber-store' })
    await users.setMembership(user.id, marburgId, 'member')
    await users.setMembership(user.id, marburgId, 'editor')
    t.same(await users.memberships(user.id), new Map([[marburgId, 'editor']]))
    t.equal(await users.removeMembership(user.id, marburgId), true)
    t.equal(await users.removeMembership(user.id, marburgId), false, 'nothing left to remove')
    const { id } = await users.createToken(user.id, 'store', null)
    await users.revokeToken(id)
    t.same(await users.listTokens(user.id), [])
  })
})
