/**
 * The write rate limit is one budget per caller, whatever the action and whichever URL prefix: a valid
 * token's user, or the client address for anonymous callers and for tokens that are not valid (so made-up
 * tokens never get a budget of their own). WRITE_RATE_LIMIT=5 here.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken, type Caller } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'

const madeUpToken = (): Caller => ({ label: 'made-up', token: `${randomUUID()}.${randomBytes(32).toString('base64url')}` })

await forEachBackend(
  t,
  async (t, backend) => {
    t.equal(backend.config.writeRateLimitPerMinute, 5)

    await t.test('one token: six writes over different actions and both prefixes, the sixth is 429', async (t) => {
      const app = await startApp(t, backend)
      const editor = await userWithToken(app, 'limit-editor', { org: 'marburg', role: 'editor' })
      const created = await call(app, editor, 'package_create', validDataset('marburg'))
      t.equal(created.status, 200, 'write 1: package_create under /api/3/action')
      const id = created.body.result.id as string
      const writes: Array<[string, Record<string, unknown>, '/api/3/action' | '/api/action']> = [
        ['package_patch', { id, title: 'Zwei' }, '/api/action'],
        ['resource_create', { package_id: id, url: 'https://example.org/drei.csv' }, '/api/3/action'],
        ['api_token_create', { user: 'limit-editor', name: 'vier' }, '/api/action'],
        ['package_update', { ...created.body.result, title: 'Fünf' }, '/api/action'],
      ]
      for (const [i, [action, body, prefix]] of writes.entries()) {
        const answer = await call(app, editor, action, body, {}, { prefix })
        t.equal(answer.status, 200, `write ${i + 2}: ${action} under ${prefix}`, { error: answer.body.error })
      }
      const sixth = await call(app, editor, 'package_delete', { id }, {}, { prefix: '/api/action' })
      t.equal(sixth.status, 429, 'write 6: package_delete under /api/action is refused')
      t.equal(sixth.body.error.__type, 'Rate Limit Error')
      t.ok(Number(sixth.headers['retry-after']) > 0, 'with Retry-After')
      t.equal((await call(app, editor, 'package_show', { id })).body.result.state, 'active', 'the refused delete did not happen')

      const otherTokenSameUser = await app.users.createToken((await app.users.findUser('limit-editor'))!.id, 'noch-einer', null)
      const viaOtherToken = await call(app, { label: 'second token', token: otherTokenSameUser.token }, 'package_patch', { id, title: 'Sechs' })
      t.equal(viaOtherToken.status, 429, "another token of the same user spends the same budget (minting tokens buys no writes)")
      const someoneElse = await userWithToken(app, 'limit-other', { org: 'marburg', role: 'editor' })
      t.equal((await call(app, someoneElse, 'package_patch', { id, title: 'Sieben' })).status, 200, 'another user has a budget of their own')
      t.equal((await call(app, null, 'package_patch', { id, title: 'x' })).status, 403, 'the address is not charged for the token’s writes')
    })

    await t.test('made-up tokens from one address share the address budget: the sixth is 429', async (t) => {
      const app = await startApp(t, backend)
      const from = { remoteAddress: '198.51.100.7' }
      for (let i = 1; i <= 5; i++) {
        const answer = await call(app, madeUpToken(), 'package_create', validDataset('marburg'), {}, { ...from, prefix: i % 2 ? '/api/3/action' : '/api/action' })
        t.equal(answer.status, 403, `made-up token ${i} is refused as not valid`)
        t.equal(answer.body.error.__type, 'Authorization Error')
      }
      const sixth = await call(app, madeUpToken(), 'package_patch', { id: 'x' }, {}, from)
      t.equal(sixth.status, 429, 'the sixth made-up token gets no fresh budget')
      t.equal((await call(app, null, 'package_patch', { id: 'x' }, {}, from)).status, 429, 'anonymous calls from that address share it')
      t.equal((await call(app, { label: 'garbage', token: 'not-a-token' }, 'package_patch', { id: 'x' }, {}, from)).status, 429, 'so does a malformed token')
      const elsewhere = await call(app, madeUpToken(), 'package_patch', { id: 'x' }, {}, { remoteAddress: '198.51.100.8' })
      t.equal(elsewhere.status, 403, 'another address has its own budget')
      const valid = await userWithToken(app, 'limit-valid', { org: 'marburg', role: 'editor' })
      const validFromThere = await call(app, valid, 'package_create', validDataset('marburg'), {}, from)
      t.equal(validFromThere.status, 200, 'a valid token from that address spends its own budget')
    })

    await t.test('revoked and expired tokens count against the address too', async (t) => {
      const app = await startApp(t, backend)
      const user = await app.users.addUser({ name: 'limit-revoked' })
      const from = { remoteAddress: '198.51.100.9' }
      const revoked = await app.users.createToken(user.id, 'weg', null)
      await app.users.revokeToken(revoked.id)
      const expired = await app.users.createToken(user.id, 'alt', '2000-01-01T00:00:00.000000')
      const statuses: number[] = []
      for (let i = 0; i < 6; i++) {
        const token = i % 2 ? expired.token : revoked.token
        statuses.push((await call(app, { label: 'stale', token }, 'package_patch', { id: 'x' }, {}, from)).status)
      }
      t.same(statuses, [403, 403, 403, 403, 403, 429])
    })

    await t.test('reads are not limited', async (t) => {
      const app = await startApp(t, backend)
      const from = { remoteAddress: '198.51.100.10' }
      for (let i = 0; i < 6; i++) await call(app, null, 'package_patch', { id: 'x' }, {}, from)
      const read = await app.fastify.inject({ url: '/api/3/action/package_list', remoteAddress: from.remoteAddress })
      t.equal(read.statusCode, 200)
      const postedRead = await call(app, null, 'package_search', { q: '*:*', rows: 0 }, {}, from)
      t.equal(postedRead.status, 200, 'a read sent by POST neither')
    })
  },
  { WRITE_RATE_LIMIT: '5' },
)
