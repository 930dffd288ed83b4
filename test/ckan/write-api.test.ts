import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { dumpDatabase } from '../helpers/dump.js'

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const editor = await userWithToken(app, 'editorin', { org: 'marburg', role: 'editor' })

  await t.test('package_create normalises vocabulary literals and answers the package dict', async (t) => {
    const body = validDataset('marburg', {
      license_id: 'dl-zero-de/2.0',
      extras: [{ key: 'language', value: '["de"]' }, { key: 'frequency', value: 'MONTHLY' }],
      resources: [{ url: 'https://example.org/a', format: 'text/csv', mimetype: 'text/csv', license: 'cc-by/4.0' }],
    })
    const created = await call(app, editor, 'package_create', body)
    t.equal(created.status, 200)
    const pkg = created.body.result
    t.equal(pkg.license_id, 'http://dcat-ap.de/def/licenses/dl-zero-de/2.0')
    t.equal(pkg.resources[0].format, 'CSV')
    t.equal(pkg.resources[0].license, 'http://dcat-ap.de/def/licenses/cc-by/4.0')
    const extras = Object.fromEntries(pkg.extras.map((e: { key: string; value: string }) => [e.key, e.value]))
    t.same(JSON.parse(extras.language), ['http://publications.europa.eu/resource/authority/language/DEU'])
    t.equal(extras.frequency, 'http://publications.europa.eu/resource/authority/frequency/MONTHLY')
    t.ok(pkg.creator_user_id, 'the creator is recorded')
    const stored = await backend.store.db.selectFrom('resource').select('format').where('package_id', '=', pkg.id).executeTakeFirstOrThrow()
    t.equal(stored.format, 'http://publications.europa.eu/resource/authority/file-type/CSV', 'stored as the EU file-type URI')
  })

  await t.test('validation errors come in one pass as a field map', async (t) => {
    const first = validDataset('marburg')
    await call(app, editor, 'package_create', first)
    const dup = await call(app, editor, 'package_create', { ...validDataset('marburg'), name: first.name, url: 'not a url', author_email: 'nobody', license_id: 'my-own-licence', groups: [{ name: 'nonsense' }] })
    t.equal(dup.status, 409)
    t.equal(dup.body.error.__type, 'Validation Error')
    t.same(dup.body.error.url, ['Please provide a valid URL'])
    t.match(dup.body.error.author_email, [/not a valid format/])
    t.match(dup.body.error.license_id, [/License not found/])
    t.same(dup.body.error.groups, ['That group name or ID does not exist.'])
    const again = await call(app, editor, 'package_create', { ...validDataset('marburg'), name: first.name })
    t.same(again.body.error.name, ['That URL is already in use.'])
  })

  await t.test('package_update keeps resources when omitted; package_patch replaces whole lists', async (t) => {
    const created = (await call(app, editor, 'package_create', validDataset('marburg'))).body.result
    const { resources: _r, ...withoutResources } = created
    const updated = await call(app, editor, 'package_update', { ...withoutResources, title: 'Neu' })
    t.equal(updated.body.result.resources.length, 1, 'resources kept')
    t.equal(updated.body.result.resources[0].id, created.resources[0].id, 'with their ids')
    t.equal(updated.body.result.title, 'Neu')
    const patched = await call(app, editor, 'package_patch', { id: created.id, tags: [{ name: 'neu' }] })
    t.same(patched.body.result.tags.map((x: { name: string }) => x.name), ['neu'], 'the tag list is replaced')
    t.equal(patched.body.result.title, 'Neu', 'other fields stay')
    t.ok(patched.body.result.metadata_modified > created.metadata_modified)
    const activity = await call(app, editor, 'package_activity_list', { id: created.id })
    t.same(activity.body.result.map((a: { activity_type: string }) => a.activity_type), ['changed package', 'changed package', 'new package'])
    t.same(activity.body.result[0].data.diff.map((d: { field: string }) => d.field), ['tags'])
    t.equal(activity.body.result[0].user_id, (await app.users.findUser('editorin'))!.id)
  })

  await t.test('activity lists: per Kommune and recent, private changes only for members', async (t) => {
    const pub = (await call(app, editor, 'package_create', validDataset('marburg', { name: 'oeffentlich-aktivitaet' }))).body.result
    const priv = (await call(app, editor, 'package_create', validDataset('marburg', { name: 'privat-aktivitaet', private: true }))).body.result
    const anonymous = await app.fastify.inject({ url: '/api/3/action/organization_activity_list?id=marburg&limit=100' })
    const anonIds = anonymous.json().result.map((a: { object_id: string }) => a.object_id)
    t.ok(anonIds.includes(pub.id), 'public changes are listed')
    t.notOk(anonIds.includes(priv.id), 'private changes are not listed for anonymous callers')
    const member = await call(app, editor, 'organization_activity_list', { id: 'marburg', limit: 100 })
    t.ok(member.body.result.map((a: { object_id: string }) => a.object_id).includes(priv.id), 'the Kommune’s editors see them')
    const recent = await app.fastify.inject({ url: '/api/3/action/recently_changed_packages_activity_list?limit=1' })
    t.equal(recent.json().result.length, 1)
    t.equal(recent.json().result[0].object_id, pub.id, 'newest public change first')
    t.equal((await app.fastify.inject({ url: `/api/3/action/package_activity_list?id=${priv.id}` })).statusCode, 403)
  })

  await t.test('If-Match: two editors saving at once lose nothing', async (t) => {
    const created = (await call(app, editor, 'package_create', validDataset('marburg'))).body.result
    const shown = await app.fastify.inject({ url: `/api/3/action/package_show?id=${created.id}`, headers: { authorization: editor.token! } })
    const etag = shown.headers.etag as string
    const [a, b] = await Promise.all([
      call(app, editor, 'package_patch', { id: created.id, title: 'Titel von A' }, { 'if-match': etag }),
      call(app, editor, 'package_patch', { id: created.id, notes: 'Beschreibung von B' }, { 'if-match': etag }),
    ])
    const statuses = [a.status, b.status].sort()
    t.same(statuses, [200, 409], 'one wins, the other is told')
    const loser = a.status === 409 ? a : b
    t.equal(loser.body.error.__type, 'Conflict')
    // The loser re-reads and re-applies its change: both changes survive.
    const fresh = await app.fastify.inject({ url: `/api/3/action/package_show?id=${created.id}` })
    const retry = a.status === 409 ? { title: 'Titel von A' } : { notes: 'Beschreibung von B' }
    const again = await call(app, editor, 'package_patch', { id: created.id, ...retry }, { 'if-match': fresh.headers.etag as string })
    t.equal(again.status, 200)
    t.equal(again.body.result.title, 'Titel von A')
    t.equal(again.body.result.notes, 'Beschreibung von B')
    const stale = await call(app, editor, 'package_update', { ...again.body.result, title: 'zu spät' }, { 'if-match': etag })
    t.equal(stale.status, 409, 'a stale ETag is refused')
    const lastWins = await call(app, editor, 'package_patch', { id: created.id, title: 'ohne If-Match' })
    t.equal(lastWins.status, 200, 'without If-Match the last write wins, as in CKAN')
  })

  await t.test('a failure midway leaves the previous state intact', async (t) => {
    const created = (await call(app, editor, 'package_create', validDataset('marburg'))).body.result
    const before = await dumpDatabase(backend.store.db)
    app.service.writeHooks.afterResources = () => {
      throw new Error('injected failure after the resources were written')
    }
    t.teardown(() => {
      app.service.writeHooks = {}
    })
    const failed = await call(app, editor, 'package_patch', { id: created.id, title: 'Wird nie gespeichert', resources: [{ url: 'https://example.org/x.csv', format: 'CSV' }, { url: 'https://example.org/y.csv' }] })
    t.equal(failed.status, 500)
    t.equal(failed.body.error.__type, 'Internal Server Error')
    const createFailed = await call(app, editor, 'package_create', validDataset('marburg'))
    t.equal(createFailed.status, 500)
    app.service.writeHooks = {}
    const after = await dumpDatabase(backend.store.db)
    t.equal(after.hash, before.hash, 'the database is byte-for-byte as before')
    const shown = await call(app, editor, 'package_show', { id: created.id })
    t.equal(shown.body.result.title, created.title)
  })

  await t.test('API tokens: list, revoke, expiry; hashes only', async (t) => {
    const user = await app.users.addUser({ name: 'tokenuser' })
    const first = await app.users.createToken(user.id, 'erst', null)
    const caller = { label: 'tokenuser', token: first.token }
    const created = await call(app, caller, 'api_token_create', { user: 'tokenuser', name: 'zweit' })
    t.equal(created.status, 200)
    const second = { label: 'tokenuser', token: created.body.result.token as string }
    const listed = await call(app, second, 'api_token_list', { user: 'tokenuser' })
    t.same(listed.body.result.map((x: { name: string }) => x.name).sort(), ['erst', 'zweit'])
    t.notOk(JSON.stringify(listed.body).includes(first.token.split('.')[1]!), 'no secret is listed')
    const stored = await backend.store.db.selectFrom('api_token').select('secret_hash').execute()
    t.notOk(stored.some((s) => s.secret_hash.includes(second.token.split('.')[1]!)), 'only hashes are stored')
    const bearer = await app.fastify.inject({ method: 'POST', url: '/api/3/action/api_token_list', payload: {}, headers: { authorization: `Bearer ${second.token}` } })
    t.equal(bearer.statusCode, 200, 'Bearer form accepted')
    t.equal((await call(app, second, 'api_token_revoke', { jti: first.id })).status, 200)
    const revoked = await call(app, caller, 'api_token_list', {})
    t.equal(revoked.status, 403, 'a revoked token is refused')
    const other = await call(app, second, 'api_token_create', { user: 'editorin', name: 'fremd' })
    t.equal(other.status, 403, "nobody creates tokens for someone else's account but sysadmins")
    const expiring = await app.users.createToken(user.id, 'alt', '2000-01-01T00:00:00.000000')
    const expired = await call(app, { label: 'x', token: expiring.token }, 'api_token_list', {})
    t.equal(expired.status, 403)
    t.match(expired.body.error.message, /expired/)
  })

  await t.test('request size limit and rate limit answer in the envelope', async (t) => {
    const limited = await startApp(t, { ...backend, config: { ...backend.config, bodyLimitBytes: 2048, writeRateLimitPerMinute: 3 } })
    const big = await call(limited, editor, 'package_create', validDataset('marburg', { notes: 'x'.repeat(5000) }))
    t.equal(big.status, 413)
    t.equal(big.body.success, false)
    const statuses: number[] = []
    let last
    for (let i = 0; i < 5; i++) {
      last = await call(limited, editor, 'package_patch', { id: 'does-not-exist' })
      statuses.push(last.status)
    }
    t.same(statuses.slice(3), [429, 429], 'the fourth write within a minute is refused')
    t.equal(last!.body.error.__type, 'Rate Limit Error')
    t.ok(Number(last!.headers['retry-after']) > 0, 'with Retry-After')
    const read = await limited.fastify.inject({ url: '/api/3/action/package_list' })
    t.equal(read.statusCode, 200, 'reads are not limited')
  })
})
