import { Type } from '@sinclair/typebox'
import { requireLoggedIn } from '../../auth/rules.js'
import { USER_ORDERS, type UserOrder } from '../../auth/users.js'
import type { Viewer } from '../../auth/viewer.js'
import type { UserTable } from '../../db/types.js'
import { notAuthorized, notFound, validationError } from '../../errors.js'
import { defineAction, type ActionContext } from '../action.js'
import { Bool, GroupDictSchema, IdOrName, LooseObject, Natural } from '../schemas.js'

/**
 * CKAN's ROLE_PERMISSIONS: what each capacity in an organization may do. Admins may do everything
 * (authz.has_user_permission_for_group_or_org); an unknown permission is nobody's but theirs.
 */
const ROLE_PERMISSIONS: Record<string, readonly string[]> = {
  editor: ['read', 'delete_dataset', 'create_dataset', 'update_dataset', 'manage_group'],
  member: ['read', 'manage_group'],
}

function capacityGrants(capacity: string, permission: string): boolean {
  return capacity === 'admin' || (ROLE_PERMISSIONS[capacity]?.includes(permission) ?? false)
}

/** Who sees a user's private fields (e-mail, private and draft datasets): the user and sysadmins. */
function seesPrivateFields(viewer: Viewer, user: UserTable): boolean {
  return viewer.sysadmin || viewer.userId === user.id
}

export const UserDict = LooseObject('User', {
  id: Type.String(),
  name: Type.String(),
  fullname: Type.Union([Type.String(), Type.Null()]),
  display_name: Type.String(),
  about: Type.Union([Type.String(), Type.Null()]),
  created: Type.String(),
  state: Type.String(),
  sysadmin: Type.Boolean(),
  image_url: Type.String(),
  image_display_url: Type.String(),
  number_created_packages: Type.Integer(),
  email: Type.Optional(Type.String({ description: 'Only to the user themself and to sysadmins' })),
})

/** The datasets a user created that the viewer may see, through package_search (CKAN's `+creator_user_id:`). */
async function createdDatasets(ctx: ActionContext, user: UserTable, rows: number): Promise<{ count: number; results: unknown[] }> {
  const all = seesPrivateFields(ctx.viewer, user)
  const page = await ctx.search.search(
    {
      fq: `creator_user_id:"${user.id}"`,
      rows,
      start: 0,
      facetFields: [],
      facetLimit: 0,
      facetMinCount: 1,
      includePrivate: all,
      includeDrafts: all,
      includeDeleted: false,
    },
    ctx.viewer,
  )
  const results: unknown[] = []
  for await (const item of page.results as Iterable<unknown> | AsyncIterable<unknown>) results.push(item)
  return { count: page.count, results }
}

/**
 * CKAN's user_dictize: the public fields for everyone; the e-mail address only for the user themself and
 * sysadmins (never to others, not even hashed).
 */
async function userDict(ctx: ActionContext, user: UserTable): Promise<Record<string, unknown>> {
  const { count } = await createdDatasets(ctx, user, 0)
  const dict: Record<string, unknown> = {
    id: user.id,
    name: user.name,
    fullname: user.fullname || null,
    display_name: user.fullname || user.name,
    about: null,
    created: user.created,
    state: user.state,
    sysadmin: user.sysadmin === 1,
    image_url: '',
    image_display_url: '',
    number_created_packages: count,
  }
  if (seesPrivateFields(ctx.viewer, user)) dict.email = user.email
  return dict
}

export const userShow = defineAction({
  name: 'user_show',
  sideEffectFree: true,
  summary: 'One user account',
  description:
    'As CKAN user_show: the public fields of the user (name, full name, created, sysadmin, number_created_packages). ' +
    'The e-mail address only to the user themself and to sysadmins. include_datasets adds up to 50 of the datasets the user created that the caller may see ' +
    '(private and draft ones only to the user themself and sysadmins, as CKAN).',
  tags: ['users'],
  input: Type.Object({
    id: Type.Optional(IdOrName('The id or name of the user')),
    include_datasets: Type.Optional(Bool('Include the datasets the user created (at most 50)', false)),
    include_num_followers: Type.Optional(Bool('Accepted for compatibility (always 0)', false)),
    include_plugin_extras: Type.Optional(Bool('Accepted for compatibility')),
  }),
  result: UserDict,
  handler: async (ctx, input) => {
    const user = input.id ? await ctx.users.findUser(input.id) : undefined
    // Deleted accounts are only the sysadmins' business.
    if (!user || (user.state !== 'active' && !ctx.viewer.sysadmin)) throw notFound('User not found')
    const dict = await userDict(ctx, user)
    if (input.include_num_followers) dict.num_followers = 0
    if (input.include_datasets) dict.datasets = (await createdDatasets(ctx, user, 50)).results
    return dict
  },
})

const USER_LIST_MAX = 1000

export const userList = defineAction({
  name: 'user_list',
  sideEffectFree: true,
  summary: 'The user accounts',
  description:
    'As CKAN user_list (public, as with CKAN\'s default ckan.auth.public_user_details): user dicts (or names with all_fields=false), ' +
    'ordered by order_by (display_name by default, as CKAN; also name, fullname, created, id, sysadmin), paged with limit (default 20) and offset. ' +
    '`q` filters by a substring of the name or full name (and, for sysadmins, of the e-mail address); `email` (sysadmins only) by the exact address. ' +
    'E-mail addresses are shown only to sysadmins (and each user their own).',
  tags: ['users'],
  input: Type.Object({
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of the name or full name' })),
    email: Type.Optional(Type.String({ maxLength: 255, description: 'Exact e-mail address (sysadmins only)' })),
    order_by: Type.Optional(Type.String({ description: `One of ${['display_name', ...USER_ORDERS.filter((o) => o !== 'display_name')].join(', ')}`, default: 'display_name' })),
    all_fields: Type.Optional(Bool('Return user dicts (default) or names', true)),
    limit: Type.Optional(Natural('Users per page (default 20)', { maximum: USER_LIST_MAX })),
    offset: Type.Optional(Natural('Users to skip')),
    include_site_user: Type.Optional(Bool('Accepted for compatibility (there is no site user)', false)),
  }),
  result: Type.Union([Type.Array(UserDict), Type.Array(Type.String())]),
  handler: async (ctx, input) => {
    const orderBy = (input.order_by ?? 'display_name') as UserOrder
    if (!(USER_ORDERS as readonly string[]).includes(orderBy)) throw validationError({ order_by: [`Cannot sort by field \`${input.order_by}\``] })
    if (input.email !== undefined && !ctx.viewer.sysadmin) throw notAuthorized('Only sysadmins may filter users by e-mail address')
    const users = await ctx.users.listUsers({
      q: input.q?.trim() || undefined,
      searchEmail: ctx.viewer.sysadmin,
      email: input.email,
      orderBy,
      limit: input.limit ?? 20,
      offset: input.offset ?? 0,
    })
    if (input.all_fields === false) return users.map((u) => u.name)
    const dicts: unknown[] = []
    for (const user of users) dicts.push(await userDict(ctx, user))
    return dicts
  },
})

export const organizationListForUser = defineAction({
  name: 'organization_list_for_user',
  sideEffectFree: true,
  summary: 'The Kommunen in which a user has a permission',
  description:
    'As CKAN organization_list_for_user: the organizations in which the user (default: the caller) has `permission` ' +
    '(default manage_group, which every member has; read, create_dataset, update_dataset, delete_dataset for editors; any other only for admins), ' +
    'each with the user\'s `capacity`. Sysadmins have every organization (capacity admin); anonymous callers get []. ' +
    'Only sysadmins may ask about another user.',
  tags: ['organizations'],
  input: Type.Object({
    id: Type.Optional(IdOrName('The id or name of the user (default: the caller)')),
    permission: Type.Optional(Type.String({ maxLength: 100, default: 'manage_group', description: 'manage_group, read, create_dataset, update_dataset, delete_dataset, admin, membership' })),
    include_dataset_count: Type.Optional(Bool('Include package_count', false)),
  }),
  result: Type.Array(GroupDictSchema),
  handler: async (ctx, input) => {
    let userId = ctx.viewer.userId
    let sysadmin = ctx.viewer.sysadmin
    let roles: ReadonlyMap<string, string> = ctx.viewer.orgRoles
    if (input.id) {
      const user = await ctx.users.findUser(input.id)
      if (user?.id !== ctx.viewer.userId) {
        // Another user's memberships are their data: only sysadmins see them.
        requireLoggedIn(ctx.viewer, 'organization_list_for_user')
        if (!ctx.viewer.sysadmin) throw notAuthorized(`User ${ctx.viewer.userName} not authorized to list the organizations of another user`)
        if (!user || user.state !== 'active') throw notFound('User not found')
        userId = user.id
        sysadmin = user.sysadmin === 1
        roles = await ctx.users.memberships(user.id)
      }
    }
    if (!userId) return []
    const permission = input.permission || 'manage_group'
    const reference = ctx.service.reference
    const capacities = new Map<string, string>()
    for (const org of reference.organizations.values()) {
      if (org.state !== 'active') continue
      const capacity = sysadmin ? 'admin' : roles.get(org.id)
      if (capacity && (sysadmin || capacityGrants(capacity, permission))) capacities.set(org.name, capacity)
    }
    if (!capacities.size) return []
    const dicts = (await ctx.service.listOrganizations({
      allFields: true,
      sort: 'name asc',
      limit: capacities.size,
      offset: 0,
      names: [...capacities.keys()],
      includeDatasetCount: input.include_dataset_count ?? false,
      includeExtras: false,
      includeUsers: false,
      includeGroups: false,
      includeTags: false,
    })) as Array<Record<string, unknown>>
    return dicts.map((dict) => ({ ...dict, capacity: capacities.get(dict.name as string) }))
  },
})
