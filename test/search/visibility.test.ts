import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { call, userWithToken, type Caller } from '../helpers/users.js'
import type { App } from '../../src/app.js'
import { validDataset } from '../helpers/bodies.js'

/**
 * One visibility rule on every surface (auth/viewer.ts): drafts only to the editors and admins of their
 * Kommune and to sysadmins, private datasets to its members, deleted ones to sysadmins, each only when
 * asked for in a search. Both search paths (the in-memory index and SQL) and the documents they load.
 */
await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const [draft, privateOne, deleted, open] = await insertDatasets(app, [
    { name: 'entwurf-marburg', title: 'Entwurf Marburg', owner_org: 'marburg', state: 'draft' },
    { name: 'privat-marburg', title: 'Privat Marburg', owner_org: 'marburg', private: true },
    { name: 'geloescht-marburg', title: 'Geloescht Marburg', owner_org: 'marburg', state: 'deleted' },
    { name: 'offen-marburg', title: 'Offen Marburg', owner_org: 'marburg' },
  ])
  const callers: Record<string, Caller | null> = {
    anonymous: null,
    kasselEditor: await userWithToken(app, 'kassel-editor', { org: 'kassel', role: 'editor' }),
    kasselAdmin: await userWithToken(app, 'kassel-admin', { org: 'kassel', role: 'admin' }),
    marburgMember: await userWithToken(app, 'marburg-member', { org: 'marburg', role: 'member' }),
    marburgEditor: await userWithToken(app, 'marburg-editor', { org: 'marburg', role: 'editor' }),
    sysadmin: await userWithToken(app, 'root', { sysadmin: true }),
  }

  /** Names found with every include flag set, through the in-memory path (no facets) and the SQL path (an author facet). */
  async function found(app: App, caller: Caller | null, extra: Record<string, unknown> = {}): Promise<string[][]> {
    const base = { q: '*:*', rows: 100, include_drafts: true, include_private: true, include_deleted: true, ...extra }
    const paths = [base, { ...base, 'facet.field': ['author'] }]
    const answers = []
    for (const params of paths) {
      const res = await call(app, caller, 'package_search', params)
      t.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300))
      const names = (res.body.result.results as Array<{ name: string }>).map((r) => r.name).sort()
      t.equal(res.body.result.count, names.length, 'the count is what is shown')
      answers.push(names)
    }
    t.same(answers[0], answers[1], 'both search paths agree')
    return answers
  }

  const expected: Record<string, string[]> = {
    anonymous: ['offen-marburg'],
    kasselEditor: ['offen-marburg'],
    kasselAdmin: ['offen-marburg'],
    marburgMember: ['offen-marburg', 'privat-marburg'],
    marburgEditor: ['entwurf-marburg', 'offen-marburg', 'privat-marburg'],
    sysadmin: ['entwurf-marburg', 'geloescht-marburg', 'offen-marburg', 'privat-marburg'],
  }
  for (const [who, caller] of Object.entries(callers)) {
    await t.test(`package_search as ${who}`, async (t) => {
      const [names] = await found(app, caller)
      t.same(names, expected[who])
    })
    await t.test(`package_show as ${who}`, async (t) => {
      for (const [name, id] of [['entwurf-marburg', draft], ['privat-marburg', privateOne], ['geloescht-marburg', deleted], ['offen-marburg', open]] as const) {
        const res = await call(app, caller, 'package_show', { id })
        const readable = res.status === 200
        const shouldRead = expected[who]!.includes(name) || (who === 'marburgEditor' && name === 'geloescht-marburg')
        t.equal(readable, shouldRead, `${name}: ${res.status}`)
        const dcat = await app.fastify.inject({ method: 'GET', url: `/dataset/${id}.ttl`, headers: caller?.token ? { authorization: caller.token } : {} })
        t.equal(dcat.statusCode === 200, shouldRead, `${name} as RDF: ${dcat.statusCode}`)
      }
    })
  }

  await t.test('a dataset made private or draft leaves every search at once, whatever path', async (t) => {
    const editor = callers.marburgEditor!
    // A dataset complete enough for DCAT-AP.de, so that the patch is valid.
    const created = await call(app, editor, 'package_create', validDataset('marburg', { name: 'oeffentlich-marburg', title: 'Offen und vollständig' }))
    t.equal(created.status, 200, JSON.stringify(created.body).slice(0, 300))
    const before = await call(app, null, 'package_search', { q: 'Offen', rows: 10 })
    t.equal(before.body.result.count, 2)
    const patched = await call(app, editor, 'package_patch', { id: created.body.result.id, private: true })
    t.equal(patched.status, 200, JSON.stringify(patched.body).slice(0, 300))
    const [names] = await found(app, null)
    t.same(names, ['offen-marburg'])
    const byWord = await call(app, null, 'package_search', { q: 'Offen', rows: 10 })
    t.same(byWord.body.result.results.map((r: { name: string }) => r.name), ['offen-marburg'])
    t.equal(byWord.body.result.count, 1)
    t.notMatch(JSON.stringify(byWord.body), /"private":true/)
    // Activities follow the same rule (canReadPackage in SQL): the private dataset's are its Kommune's alone.
    const objects = async (caller: Caller | null) =>
      ((await call(app, caller, 'recently_changed_packages_activity_list', { limit: 100 })).body.result as Array<{ object_id: string }>).map((a) => a.object_id)
    t.notOk((await objects(null)).includes(created.body.result.id), 'not in the anonymous activity stream')
    t.notOk((await objects(callers.kasselAdmin!)).includes(created.body.result.id), "not in another Kommune's")
    t.ok((await objects(callers.marburgMember!)).includes(created.body.result.id), "in its Kommune's")
    t.equal((await call(app, null, 'package_list', {})).body.result.includes('oeffentlich-marburg'), false, 'not in package_list')
  })
})
