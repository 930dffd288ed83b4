import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken, type Caller } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import type { App } from '../../src/app.js'
import type { Role } from '../../src/auth/users.js'
import { packageFromDict } from '../../src/catalog/package-input.js'

/**
 * Every write action as every role, against the caller's own Kommune (marburg) and a foreign one (fulda):
 * the set of allowed (action, target) pairs must be exactly the expected one; everything else is 403.
 */
type Target = 'own' | 'foreign' | 'none'
interface Case {
  action: string
  target: Target
  /** Builds the request body on fresh data. */
  body: (fx: Fixture) => Record<string, unknown>
  /** Reads instead of writes (private datasets). */
  read?: boolean
}

interface Fixture {
  ownPkg: { id: string; name: string; resourceId: string }
  foreignPkg: { id: string; name: string; resourceId: string }
  org: (target: Target) => string
}

const CASES: Case[] = [
  ...(['own', 'foreign'] as const).flatMap((target): Case[] => {
    const pkg = (fx: Fixture) => (target === 'own' ? fx.ownPkg : fx.foreignPkg)
    return [
      { action: 'package_create', target, body: (fx) => validDataset(fx.org(target)) },
      { action: 'package_update', target, body: (fx) => ({ ...validDataset(fx.org(target)), id: pkg(fx).id, name: pkg(fx).name }) },
      { action: 'package_patch', target, body: (fx) => ({ id: pkg(fx).id, title: 'Geänderter Titel' }) },
      { action: 'package_delete', target, body: (fx) => ({ id: pkg(fx).id }) },
      { action: 'dataset_purge', target, body: (fx) => ({ id: pkg(fx).id }) },
      { action: 'resource_create', target, body: (fx) => ({ package_id: pkg(fx).id, url: 'https://example.org/neu.json', format: 'JSON' }) },
      { action: 'resource_update', target, body: (fx) => ({ id: pkg(fx).resourceId, url: 'https://example.org/neu.csv', format: 'CSV' }) },
      { action: 'resource_patch', target, body: (fx) => ({ id: pkg(fx).resourceId, name: 'Neuer Name' }) },
      { action: 'resource_delete', target, body: (fx) => ({ id: pkg(fx).resourceId }) },
      { action: 'package_resource_reorder', target, body: (fx) => ({ id: pkg(fx).id, order: [pkg(fx).resourceId] }) },
      { action: 'organization_update', target, body: (fx) => ({ id: fx.org(target), title: 'Neuer Titel', description: 'x' }) },
      { action: 'organization_patch', target, body: (fx) => ({ id: fx.org(target), description: 'Neue Beschreibung' }) },
      { action: 'organization_member_create', target, body: (fx) => ({ id: fx.org(target), username: 'bystander', role: 'member' }) },
      { action: 'organization_member_delete', target, body: (fx) => ({ id: fx.org(target), username: 'leaver' }) },
      { action: 'package_show', target, read: true, body: (fx) => ({ id: target === 'own' ? 'privat-own' : 'privat-foreign' }) },
      { action: 'resource_show', target, read: true, body: () => ({ id: target === 'own' ? privateResource.own : privateResource.foreign }) },
    ]
  }),
  { action: 'organization_create', target: 'none', body: () => ({ name: `neue-kommune-${Math.random().toString(36).slice(2, 8)}`, title: 'Neue Kommune' }) },
  { action: 'organization_delete', target: 'none', body: () => ({ id: 'wetzlar' }) },
  { action: 'group_create', target: 'none', body: () => ({ name: `thema-${Math.random().toString(36).slice(2, 8)}`, title: 'Thema', uri: 'http://example.org/thema' }) },
  { action: 'group_update', target: 'none', body: () => ({ id: 'tran', description: 'Verkehr' }) },
]
const privateResource = { own: '', foreign: '' }

const ROLES: Array<{ label: string; sysadmin?: boolean; role?: Role }> = [
  { label: 'anonymous' },
  { label: 'sysadmin', sysadmin: true },
  { label: 'admin', role: 'admin' },
  { label: 'editor', role: 'editor' },
  { label: 'member', role: 'member' },
]

/** The expected allowed set, written out: role -> "action/target". */
const ALLOWED: Record<string, string[]> = {
  anonymous: [],
  sysadmin: CASES.map((c) => `${c.action}/${c.target}`),
  admin: [
    ...['package_create', 'package_update', 'package_patch', 'package_delete', 'resource_create', 'resource_update', 'resource_patch', 'resource_delete', 'package_resource_reorder', 'organization_update', 'organization_patch', 'organization_member_create', 'organization_member_delete', 'package_show', 'resource_show'].map((a) => `${a}/own`),
  ],
  editor: [
    ...['package_create', 'package_update', 'package_patch', 'package_delete', 'resource_create', 'resource_update', 'resource_patch', 'resource_delete', 'package_resource_reorder', 'package_show', 'resource_show'].map((a) => `${a}/own`),
  ],
  member: ['package_show/own', 'resource_show/own'],
}

async function freshPackage(app: App, org: string, extra: Record<string, unknown> = {}) {
  const { input } = packageFromDict(validDataset(org, extra), { reference: app.service.reference, vocab: app.service.vocab })
  const id = await app.service.createPackage(input)
  const { dict } = await app.service.showPackage(id, { userId: 'x', userName: 'x', sysadmin: true, orgRoles: new Map() })
  return { id, name: dict.name as string, resourceId: (dict.resources as Array<{ id: string }>)[0]!.id }
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const callers: Record<string, Caller | null> = {}
  for (const role of ROLES) {
    callers[role.label] = role.label === 'anonymous' ? null : await userWithToken(app, `u-${role.label}`, { sysadmin: role.sysadmin, org: role.role ? 'marburg' : undefined, role: role.role })
  }
  const bystander = await app.users.addUser({ name: 'bystander' })
  const leaver = await app.users.addUser({ name: 'leaver' })
  const privOwn = await freshPackage(app, 'marburg', { name: 'privat-own', private: true })
  const privForeign = await freshPackage(app, 'fulda', { name: 'privat-foreign', private: true })
  privateResource.own = privOwn.resourceId
  privateResource.foreign = privForeign.resourceId
  void bystander

  const allowed: Record<string, string[]> = {}
  for (const role of ROLES) {
    allowed[role.label] = []
    for (const c of CASES) {
      // Fresh data for every case, so that no case depends on another's effect.
      const fx: Fixture = {
        ownPkg: c.read ? privOwn : await freshPackage(app, 'marburg'),
        foreignPkg: c.read ? privForeign : await freshPackage(app, 'fulda'),
        org: (target) => (target === 'own' ? 'marburg' : 'fulda'),
      }
      if (c.action === 'organization_member_delete') {
        for (const org of ['marburg', 'fulda']) await app.users.setMembership(leaver.id, app.service.reference.organization(org)!.id, 'member')
      }
      const response = await call(app, callers[role.label]!, c.action, c.body(fx))
      if (response.status === 200) allowed[role.label]!.push(`${c.action}/${c.target}`)
      else if (response.status !== 403) t.fail(`${role.label} ${c.action}/${c.target}: unexpected ${response.status} ${JSON.stringify(response.body)}`)
      else t.equal(response.body.error.__type, 'Authorization Error', `${role.label} ${c.action}/${c.target} is refused as CKAN does`)
    }
  }
  for (const role of ROLES) {
    t.same(allowed[role.label]!.sort(), ALLOWED[role.label]!.sort(), `${role.label} may do exactly the expected set`)
  }

  await t.test('private datasets in package_search', async (t) => {
    const search = async (caller: Caller | null) =>
      (await call(app, caller, 'package_search', { q: 'name:privat-own OR name:privat-foreign', include_private: true, rows: 10 })).body.result.results.map((r: { name: string }) => r.name).sort()
    t.same(await search(null), [], 'anonymous sees no private dataset')
    t.same(await search(callers.member!), ['privat-own'], 'a member sees the private datasets of their Kommune')
    t.same(await search(callers.sysadmin!), ['privat-foreign', 'privat-own'], 'a sysadmin sees all')
    const withoutFlag = await call(app, callers.member!, 'package_search', { q: 'name:privat-own' })
    t.equal(withoutFlag.body.result.count, 0, 'without include_private, private datasets stay out')
  })
})
