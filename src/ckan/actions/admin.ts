import { Type } from '@sinclair/typebox'
import { requireLoggedIn, requireOrganizationAdmin, requireSelfOrSysadmin, requireSysadmin } from '../../auth/rules.js'
import { ROLES, type Role } from '../../auth/users.js'
import { notFound, validationError } from '../../errors.js'
import { defineAction, type ActionContext } from '../action.js'
import { ckanTimestampIn } from '../../catalog/time.js'
import { isAbsoluteHttpIri, NOT_AN_IRI } from '../../catalog/package-input.js'
import { GroupDictSchema } from '../schemas.js'

const NAME_RE = /^[a-z0-9_-]{2,100}$/

const OrganizationBody = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 100 })),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    title: Type.Optional(Type.String({ maxLength: 255 })),
    description: Type.Optional(Type.String({ maxLength: 10000 })),
    image_url: Type.Optional(Type.String({ maxLength: 1000 })),
    homepage: Type.Optional(Type.String({ maxLength: 1000 })),
    email: Type.Optional(Type.String({ maxLength: 255 })),
    regional_key: Type.Optional(Type.String({ pattern: '^[0-9]{12}$', description: '12-digit Amtlicher Regionalschlüssel' })),
    political_geocoding_uri: Type.Optional(Type.String({ maxLength: 255 })),
    political_geocoding_level_uri: Type.Optional(Type.String({ maxLength: 255 })),
    contributor_id: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: true },
)

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !name) throw validationError({ name: ['Missing value'] })
  if (!NAME_RE.test(name)) throw validationError({ name: ['Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_'] })
  return name
}

/** The fields of a Kommune that its RDF carries as IRIs (foaf:homepage, dcatde:politicalGeocodingURI...). */
const ORGANIZATION_IRI_FIELDS = ['homepage', 'political_geocoding_uri', 'political_geocoding_level_uri'] as const

function checkOrganizationIris(fields: Record<string, unknown>): void {
  const errors: Record<string, string[]> = {}
  for (const field of ORGANIZATION_IRI_FIELDS) {
    const value = fields[field]
    if (typeof value === 'string' && value && !isAbsoluteHttpIri(value)) errors[field] = [NOT_AN_IRI]
  }
  if (Object.keys(errors).length) throw validationError(errors)
}

function organization(ctx: ActionContext, idOrName: unknown) {
  if (typeof idOrName !== 'string' || !idOrName) throw validationError({ id: ['Missing value'] })
  const org = ctx.service.reference.organization(idOrName)
  if (!org) throw notFound('Organization was not found.')
  return org
}

export const organizationCreate = defineAction({
  name: 'organization_create',
  sideEffectFree: false,
  summary: 'Add a Kommune (sysadmins)',
  description: 'As CKAN organization_create, with the Kommune fields (regional_key, political geocoding, contributor_id).',
  tags: ['organizations (write)'],
  input: OrganizationBody,
  result: GroupDictSchema,
  handler: async (ctx, body) => {
    requireSysadmin(ctx.viewer, 'organization_create')
    const name = checkName(body.name)
    if (ctx.service.reference.organization(name)) throw validationError({ name: ['Group name already exists in database'] })
    checkOrganizationIris(body)
    const id = await ctx.service.createOrganization({ ...body, name })
    return ctx.service.showOrganization(id, { includeDatasets: false, includeDatasetCount: true, includeExtras: true, includeUsers: false }, ctx.viewer)
  },
})

/**
 * What organization_update and organization_patch write. Not `state`: CKAN's group schema passes it through
 * `ignore_not_group_admin`, which drops it for everyone but sysadmins; here only organization_delete changes
 * it (to CKAN's `deleted`), so a `state` key is ignored for everyone, and no other value can ever be stored.
 */
const ORGANIZATION_FIELDS = ['name', 'title', 'description', 'image_url', 'homepage', 'email', 'regional_key', 'political_geocoding_uri', 'political_geocoding_level_uri', 'contributor_id'] as const
/** organization_update replaces these with empty text when they are not given (CKAN: a full dict). */
const CLEARED_ON_UPDATE = ['title', 'description', 'image_url', 'homepage', 'email'] as const

function organizationWrite(name: 'organization_update' | 'organization_patch') {
  return defineAction({
    name,
    sideEffectFree: false,
    summary: name === 'organization_update' ? 'Replace a Kommune’s details (its admins)' : 'Change some details of a Kommune (its admins)',
    description: `As CKAN ${name}. A \`state\` key is ignored (as CKAN's group schema does for non-sysadmins): only organization_delete deletes.`,
    tags: ['organizations (write)'],
    input: OrganizationBody,
    result: GroupDictSchema,
    handler: async (ctx, body) => {
      const org = organization(ctx, body.id ?? body.name)
      requireOrganizationAdmin(ctx.viewer, org.id, name)
      const fields: Record<string, string> = {}
      if (name === 'organization_update') for (const field of CLEARED_ON_UPDATE) fields[field] = ''
      for (const field of ORGANIZATION_FIELDS) if (typeof body[field] === 'string') fields[field] = body[field]
      if (fields.name !== undefined) {
        checkName(fields.name)
        const holder = ctx.service.reference.organization(fields.name)
        if (holder && holder.id !== org.id) throw validationError({ name: ['Group name already exists in database'] })
      }
      checkOrganizationIris(fields)
      if (Object.keys(fields).length) await ctx.service.updateOrganization(org.id, fields)
      return ctx.service.showOrganization(org.id, { includeDatasets: false, includeDatasetCount: true, includeExtras: true, includeUsers: false }, ctx.viewer)
    },
  })
}

export const organizationUpdate = organizationWrite('organization_update')
export const organizationPatch = organizationWrite('organization_patch')

export const organizationDelete = defineAction({
  name: 'organization_delete',
  sideEffectFree: false,
  summary: 'Delete a Kommune (sysadmins; only without active datasets)',
  description: 'As CKAN organization_delete: sets state deleted; refused while the Kommune has datasets (private and drafts included; deleted ones do not count).',
  tags: ['organizations (write)'],
  input: Type.Object({ id: Type.Optional(Type.String({ maxLength: 100 })) }),
  result: Type.Null(),
  handler: async (ctx, body) => {
    requireSysadmin(ctx.viewer, 'organization_delete')
    const org = organization(ctx, body.id)
    // Counted in the write itself, private and draft datasets included (they would be orphaned).
    await ctx.service.deleteOrganization(org.id)
    return null
  },
})

const GroupBody = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 100 })),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    title: Type.Optional(Type.String({ maxLength: 255 })),
    description: Type.Optional(Type.String({ maxLength: 10000 })),
    uri: Type.Optional(Type.String({ maxLength: 255, description: 'The concept URI (EU data theme)' })),
  },
  { additionalProperties: true },
)

export const groupCreate = defineAction({
  name: 'group_create',
  sideEffectFree: false,
  summary: 'Add a group (sysadmins)',
  description: 'As CKAN group_create. Groups are the EU data themes; a new group needs its concept URI.',
  tags: ['groups (write)'],
  input: GroupBody,
  result: GroupDictSchema,
  handler: async (ctx, body) => {
    requireSysadmin(ctx.viewer, 'group_create')
    const name = checkName(body.name)
    if (ctx.service.reference.theme(name)) throw validationError({ name: ['Group name already exists in database'] })
    const id = await ctx.service.saveTheme(undefined, { name, title: body.title ?? name, description: body.description ?? '', uri: body.uri ?? '' })
    return ctx.service.showGroup(id, { includeDatasets: false, includeDatasetCount: true, includeExtras: true, includeUsers: false })
  },
})

export const groupUpdate = defineAction({
  name: 'group_update',
  sideEffectFree: false,
  summary: 'Change a group (sysadmins)',
  description: 'As CKAN group_update.',
  tags: ['groups (write)'],
  input: GroupBody,
  result: GroupDictSchema,
  handler: async (ctx, body) => {
    requireSysadmin(ctx.viewer, 'group_update')
    const theme = typeof body.id === 'string' ? ctx.service.reference.theme(body.id) : undefined
    if (!theme) throw notFound('Group was not found.')
    await ctx.service.saveTheme(theme.id, { name: theme.name, title: body.title ?? theme.title, description: body.description ?? theme.description, uri: body.uri ?? theme.uri })
    return ctx.service.showGroup(theme.id, { includeDatasets: false, includeDatasetCount: true, includeExtras: true, includeUsers: false })
  },
})

export const organizationMemberCreate = defineAction({
  name: 'organization_member_create',
  sideEffectFree: false,
  summary: 'Make a user admin, editor or member of a Kommune (its admins)',
  description: 'As CKAN organization_member_create: id (organization), username, role.',
  tags: ['organizations (write)'],
  input: Type.Object({ id: Type.Optional(Type.String()), username: Type.Optional(Type.String()), role: Type.Optional(Type.String()) }),
  result: Type.Object({ table_name: Type.String(), table_id: Type.String(), group_id: Type.String(), capacity: Type.String(), state: Type.String() }),
  handler: async (ctx, body) => {
    const org = organization(ctx, body.id)
    requireOrganizationAdmin(ctx.viewer, org.id, 'organization_member_create')
    if (!body.username) throw validationError({ username: ['Missing value'] })
    if (!body.role || !ROLES.includes(body.role as Role)) throw validationError({ role: [`Role must be one of: ${ROLES.join(', ')}`] })
    const user = await ctx.users.requireUser(body.username)
    await ctx.users.setMembership(user.id, org.id, body.role as Role)
    return { table_name: 'user', table_id: user.id, group_id: org.id, capacity: body.role, state: 'active' }
  },
})

export const organizationMemberDelete = defineAction({
  name: 'organization_member_delete',
  sideEffectFree: false,
  summary: 'Remove a user from a Kommune (its admins)',
  description: 'As CKAN organization_member_delete.',
  tags: ['organizations (write)'],
  input: Type.Object({ id: Type.Optional(Type.String()), username: Type.Optional(Type.String()) }),
  result: Type.Null(),
  handler: async (ctx, body) => {
    const org = organization(ctx, body.id)
    requireOrganizationAdmin(ctx.viewer, org.id, 'organization_member_delete')
    if (!body.username) throw validationError({ username: ['Missing value'] })
    const user = await ctx.users.requireUser(body.username)
    if (!(await ctx.users.removeMembership(user.id, org.id))) throw notFound('User is not a member')
    return null
  },
})

export const memberRolesList = defineAction({
  name: 'member_roles_list',
  sideEffectFree: true,
  summary: 'The roles a user can have in a Kommune',
  description: 'As CKAN member_roles_list.',
  tags: ['organizations'],
  input: Type.Object({ group_type: Type.Optional(Type.String()) }),
  result: Type.Array(Type.Object({ text: Type.String(), value: Type.String() })),
  handler: async () => [
    { text: 'Admin', value: 'admin' },
    { text: 'Editor', value: 'editor' },
    { text: 'Member', value: 'member' },
  ],
})

export const apiTokenCreate = defineAction({
  name: 'api_token_create',
  sideEffectFree: false,
  summary: 'Create an API token for a user (shown once)',
  description: 'As CKAN api_token_create: user (id or name) and name; optional expires_in (seconds). The token is returned once; only its hash is stored.',
  tags: ['users'],
  input: Type.Object({
    user: Type.Optional(Type.String()),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    expires_in: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 365 * 86400 })),
  }),
  result: Type.Object({ token: Type.String(), id: Type.String() }),
  handler: async (ctx, body) => {
    requireLoggedIn(ctx.viewer, 'api_token_create')
    if (!body.user) throw validationError({ user: ['Missing value'] })
    if (!body.name) throw validationError({ name: ['Missing value'] })
    const user = await ctx.users.requireUser(body.user)
    requireSelfOrSysadmin(ctx.viewer, user.id, 'api_token_create')
    const expires = body.expires_in ? ckanTimestampIn(body.expires_in) : null
    return ctx.users.createToken(user.id, body.name, expires)
  },
})

export const apiTokenRevoke = defineAction({
  name: 'api_token_revoke',
  sideEffectFree: false,
  summary: 'Revoke an API token',
  description: 'As CKAN api_token_revoke: by token id (jti) or by the token itself.',
  tags: ['users'],
  input: Type.Object({ jti: Type.Optional(Type.String()), token: Type.Optional(Type.String()) }),
  result: Type.Null(),
  handler: async (ctx, body) => {
    requireLoggedIn(ctx.viewer, 'api_token_revoke')
    const id = body.jti ?? body.token?.split('.')[0]
    if (!id) throw validationError({ jti: ['Missing value'] })
    const owner = await ctx.users.tokenOwner(id)
    if (!owner) throw notFound('Token was not found')
    requireSelfOrSysadmin(ctx.viewer, owner, 'api_token_revoke')
    await ctx.users.revokeToken(id)
    return null
  },
})

export const apiTokenList = defineAction({
  name: 'api_token_list',
  sideEffectFree: true,
  summary: "A user's active API tokens (without secrets)",
  description: 'As CKAN api_token_list.',
  tags: ['users'],
  input: Type.Object({ user_id: Type.Optional(Type.String()), user: Type.Optional(Type.String()) }),
  result: Type.Array(Type.Any()),
  handler: async (ctx, body) => {
    requireLoggedIn(ctx.viewer, 'api_token_list')
    const user = await ctx.users.requireUser(body.user_id ?? body.user ?? ctx.viewer.userId!)
    requireSelfOrSysadmin(ctx.viewer, user.id, 'api_token_list')
    return ctx.users.listTokens(user.id)
  },
})
