import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken, type Caller } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'

const ANONYMOUS: Caller = { label: 'anonymous', token: null }

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const sysadmin = await userWithToken(app, 'verwaltung', { sysadmin: true })
  const anna = await userWithToken(app, 'anna', { org: 'marburg', role: 'editor' })
  const bernd = await userWithToken(app, 'bernd', { org: 'kassel', role: 'member' })
  const carla = await userWithToken(app, 'carla', { org: 'kassel', role: 'admin' })
  await app.users.setMembership((await app.users.findUser('anna'))!.id, app.service.reference.organization('kassel')!.id, 'member')
  const emails: Record<string, string> = { anna: 'anna@marburg.de', bernd: 'bernd@kassel.de', carla: 'carla@kassel.de', verwaltung: 'it@hessen.de' }
  for (const [name, email] of Object.entries(emails)) await backend.store.db.updateTable('app_user').set({ email, fullname: name === 'anna' ? 'Anna Zander' : '' }).where('name', '=', name).execute()

  const publicSet = (await call(app, anna, 'package_create', validDataset('marburg', { name: 'haushaltsplan-marburg', title: 'Haushaltsplan der Stadt Marburg', tags: [{ name: 'haushalt' }, { name: 'finanzen' }], resources: [{ url: 'https://example.org/h.csv', format: 'CSV', license: 'dl-by-de/2.0' }, { url: 'https://example.org/h.json', format: 'JSON', license: 'dl-by-de/2.0' }] }))).body.result
  const privateSet = (await call(app, anna, 'package_create', validDataset('marburg', { name: 'geheimer-haushalt', title: 'Interner Haushaltsentwurf', private: true, tags: [{ name: 'haushaltsgeheimnis' }], resources: [{ url: 'https://example.org/g.xlsx', format: 'XLSX', license: 'dl-by-de/2.0' }] }))).body.result
  t.ok(publicSet?.id && privateSet?.id, 'datasets created')

  await t.test('user_show: public fields for everyone, the e-mail address only for the user and sysadmins', async (t) => {
    const own = await call(app, anna, 'user_show', { id: 'anna' })
    t.equal(own.status, 200)
    t.equal(own.body.result.email, 'anna@marburg.de', 'one’s own e-mail address')
    t.equal(own.body.result.display_name, 'Anna Zander')
    t.equal(own.body.result.number_created_packages, 2, 'one’s own private datasets count')
    const bySysadmin = await call(app, sysadmin, 'user_show', { id: 'anna' })
    t.equal(bySysadmin.body.result.email, 'anna@marburg.de', 'sysadmins see e-mail addresses')
    for (const caller of [bernd, ANONYMOUS]) {
      const other = await call(app, caller, 'user_show', { id: 'anna' })
      t.equal(other.status, 200)
      t.notOk('email' in other.body.result, `no e-mail address to ${caller.label}`)
      t.notOk(JSON.stringify(other.body).includes('anna@marburg.de'), `nowhere in the answer to ${caller.label}`)
      t.equal(other.body.result.name, 'anna')
      t.equal(other.body.result.number_created_packages, 1, 'only the public datasets count for others')
    }
    const withDatasets = await call(app, ANONYMOUS, 'user_show', { id: 'anna', include_datasets: 'true' })
    t.same(withDatasets.body.result.datasets.map((d: { name: string }) => d.name), ['haushaltsplan-marburg'], 'include_datasets: what the caller may see')
    const ownDatasets = await call(app, anna, 'user_show', { id: 'anna', include_datasets: true })
    t.same(ownDatasets.body.result.datasets.map((d: { name: string }) => d.name).sort(), ['geheimer-haushalt', 'haushaltsplan-marburg'])
    t.equal((await call(app, anna, 'user_show', { id: 'niemand' })).status, 404)
    t.equal((await call(app, anna, 'user_show', {})).status, 404, 'without id: Not Found, as CKAN')
  })

  await t.test('user_list: e-mail addresses only to sysadmins (and one’s own), q, order_by, paging', async (t) => {
    const anonymous = await call(app, ANONYMOUS, 'user_list', {})
    t.equal(anonymous.status, 200, 'public, as CKAN by default')
    t.same(anonymous.body.result.map((u: { name: string }) => u.name), ['Anna Zander', 'bernd', 'carla', 'verwaltung'].map((d) => (d === 'Anna Zander' ? 'anna' : d)), 'ordered by display_name')
    for (const address of Object.values(emails)) t.notOk(JSON.stringify(anonymous.body).includes(address), `no ${address} to anonymous callers`)
    const byMember = await call(app, bernd, 'user_list', {})
    const shown = Object.fromEntries(byMember.body.result.map((u: { name: string; email?: string }) => [u.name, u.email]))
    t.same(shown, { anna: undefined, bernd: 'bernd@kassel.de', carla: undefined, verwaltung: undefined }, 'a user sees only their own address')
    const bySysadmin = await call(app, sysadmin, 'user_list', { order_by: 'name' })
    t.same(bySysadmin.body.result.map((u: { email: string }) => u.email), ['anna@marburg.de', 'bernd@kassel.de', 'carla@kassel.de', 'it@hessen.de'])
    t.same((await call(app, ANONYMOUS, 'user_list', { q: 'ZAND' })).body.result.map((u: { name: string }) => u.name), ['anna'], 'q matches the full name')
    t.same((await call(app, ANONYMOUS, 'user_list', { q: 'kassel.de' })).body.result, [], 'q does not search e-mail addresses for others')
    t.same((await call(app, sysadmin, 'user_list', { q: 'kassel.de', all_fields: false })).body.result, ['bernd', 'carla'], 'it does for sysadmins')
    t.equal((await call(app, bernd, 'user_list', { email: 'anna@marburg.de' })).status, 403, 'the e-mail filter is for sysadmins')
    t.same((await call(app, sysadmin, 'user_list', { email: 'anna@marburg.de', all_fields: 'false' })).body.result, ['anna'])
    t.same((await call(app, ANONYMOUS, 'user_list', { order_by: 'name', limit: '2', offset: '1', all_fields: false })).body.result, ['bernd', 'carla'])
    const badOrder = await call(app, ANONYMOUS, 'user_list', { order_by: 'email' })
    t.equal(badOrder.status, 409)
    t.ok(badOrder.body.error.order_by)
  })

  await t.test('organization_list_for_user: memberships with a permission, capacity, sysadmins everything, anonymous nothing', async (t) => {
    const names = (answer: { body: { result: Array<{ name: string }> } }) => answer.body.result.map((o) => o.name)
    const annas = await call(app, anna, 'organization_list_for_user', {})
    t.same(names(annas), ['kassel', 'marburg'], 'manage_group by default: every membership')
    t.same(annas.body.result.map((o: { capacity: string }) => o.capacity), ['member', 'editor'])
    t.equal(annas.body.result[0].is_organization, true)
    t.same(names(await call(app, anna, 'organization_list_for_user', { permission: 'create_dataset' })), ['marburg'], 'editors create datasets')
    t.same(names(await call(app, bernd, 'organization_list_for_user', { permission: 'update_dataset' })), [], 'members do not')
    t.same(names(await call(app, bernd, 'organization_list_for_user', { permission: 'read' })), ['kassel'])
    t.same(names(await call(app, carla, 'organization_list_for_user', { permission: 'membership' })), ['kassel'], 'admins may do everything')
    t.same(names(await call(app, anna, 'organization_list_for_user', { permission: 'membership' })), [])
    const all = await call(app, sysadmin, 'organization_list_for_user', { permission: 'admin', include_dataset_count: 'true' })
    t.equal(all.body.result.length, app.service.reference.organizations.size, 'sysadmins have every Kommune')
    t.ok(all.body.result.every((o: { capacity: string; package_count: number }) => o.capacity === 'admin' && typeof o.package_count === 'number'))
    t.same((await call(app, ANONYMOUS, 'organization_list_for_user', {})).body.result, [], 'anonymous: []')
    t.same(names(await call(app, sysadmin, 'organization_list_for_user', { id: 'bernd' })), ['kassel'], 'sysadmins may ask about anyone')
    t.same(names(await call(app, bernd, 'organization_list_for_user', { id: 'bernd' })), ['kassel'], 'anyone about themself')
    t.equal((await call(app, bernd, 'organization_list_for_user', { id: 'anna' })).status, 403, 'nobody else about others')
    t.equal((await call(app, ANONYMOUS, 'organization_list_for_user', { id: 'anna' })).status, 403)
  })

  await t.test('package_autocomplete: names and titles of the datasets the caller may see', async (t) => {
    const anonymous = await call(app, ANONYMOUS, 'package_autocomplete', { q: 'haush' })
    t.same(anonymous.body.result, [{ name: 'haushaltsplan-marburg', title: 'Haushaltsplan der Stadt Marburg', match_field: 'name', match_displayed: 'haushaltsplan-marburg' }])
    const member = await call(app, anna, 'package_autocomplete', { q: 'Haushalt' })
    t.same(member.body.result.map((r: { name: string }) => r.name).sort(), ['geheimer-haushalt', 'haushaltsplan-marburg'], 'members see their Kommune’s private datasets')
    const byTitle = await call(app, ANONYMOUS, 'package_autocomplete', { q: 'Stadt Mar' })
    t.same(byTitle.body.result, [{ name: 'haushaltsplan-marburg', title: 'Haushaltsplan der Stadt Marburg', match_field: 'title', match_displayed: 'Haushaltsplan der Stadt Marburg (haushaltsplan-marburg)' }])
    t.same((await call(app, ANONYMOUS, 'package_autocomplete', { q: 'Entwurf' })).body.result, [], 'no private titles to anonymous callers')
    t.equal((await call(app, anna, 'package_autocomplete', { q: 'haushalt', limit: '1' })).body.result.length, 1)
    t.same((await call(app, ANONYMOUS, 'package_autocomplete', { q: '' })).body.result, [])
    t.equal((await call(app, ANONYMOUS, 'package_autocomplete', { q: 'a:b* OR (x' })).status, 200, 'query syntax is read as text')
  })

  await t.test('format_autocomplete and tag_autocomplete: values in use, visible to the caller', async (t) => {
    t.same((await call(app, ANONYMOUS, 'format_autocomplete', { q: 'S' })).body.result.sort(), ['csv', 'json'], 'lower case, as CKAN')
    t.same((await call(app, anna, 'format_autocomplete', { q: 'xls' })).body.result, ['xlsx'], 'formats of private datasets to members')
    t.same((await call(app, ANONYMOUS, 'format_autocomplete', { q: 'xls' })).body.result, [])
    t.equal((await call(app, ANONYMOUS, 'format_autocomplete', { q: 's', limit: 1 })).body.result.length, 1)
    t.same((await call(app, ANONYMOUS, 'tag_autocomplete', { q: 'HAUS' })).body.result, ['haushalt'])
    t.same((await call(app, anna, 'tag_autocomplete', { q: 'haus' })).body.result.sort(), ['haushalt', 'haushaltsgeheimnis'])
    t.same((await call(app, ANONYMOUS, 'tag_autocomplete', { query: 'finanz' })).body.result, ['finanzen'], 'query is an alias of q')
    t.same((await call(app, ANONYMOUS, 'tag_autocomplete', { q: '' })).body.result, [])
    const get = await app.fastify.inject({ url: '/api/3/action/tag_autocomplete?q=haus&limit=5' })
    t.same(get.json().result, ['haushalt'], 'by GET too')
  })

  await t.test('the new actions are documented in OpenAPI', async (t) => {
    const doc = app.fastify.swagger() as { paths: Record<string, unknown> }
    for (const name of ['user_show', 'user_list', 'organization_list_for_user', 'package_autocomplete', 'format_autocomplete', 'tag_autocomplete']) {
      t.ok(doc.paths[`/api/3/action/${name}`], name)
    }
  })
})
