import { Type } from '@sinclair/typebox'
import { requireDatasetEditor, requireLoggedIn, requireSysadmin } from '../../auth/rules.js'
import { packageFromDict, resourceFromDict, type FieldErrors } from '../../catalog/package-input.js'
import type { PackageInput } from '../../catalog/package.js'
import { CatalogError, notFound, validationError } from '../../errors.js'
import { defineAction, type ActionContext } from '../action.js'
import { Bool, PackageDict, ResourceDict } from '../schemas.js'

type Dict = Record<string, unknown>

const PackageBody = (description: string) =>
  Type.Object(
    {
      id: Type.Optional(Type.String({ maxLength: 100, description: 'The dataset id (update: id or name)' })),
      name: Type.Optional(Type.String({ maxLength: 200, description: 'URL name: 2-100 characters of a-z, 0-9, - and _' })),
      title: Type.Optional(Type.String()),
      notes: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      owner_org: Type.Optional(Type.String({ description: 'The Kommune (organization id or name)' })),
      license_id: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'dcat-ap.de licence URI or a known short form (dl-by-de/2.0)' })),
      private: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
      state: Type.Optional(Type.String({ description: 'active or draft (drafts skip the DCAT-AP.de completeness rules)' })),
      url: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      version: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      author: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      author_email: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      maintainer: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      maintainer_email: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      tags: Type.Optional(Type.Array(Type.Any(), { description: '[{"name": "verkehr"}]' })),
      groups: Type.Optional(Type.Array(Type.Any(), { description: '[{"name": "tran"}] (EU data themes)' })),
      extras: Type.Optional(Type.Array(Type.Any(), { description: '[{"key": "frequency", "value": "ANNUAL"}]' })),
      resources: Type.Optional(Type.Array(Type.Any(), { description: 'Resource dicts; each needs a url' })),
      return_id_only: Type.Optional(Bool('Return only the id')),
    },
    { additionalProperties: true, description },
  )

/** If-Match: `"<id>.<revision>"` as package_show's ETag gave it. */
function expectedRevision(ctx: ActionContext, id: string): number | undefined {
  const header = ctx.request.headers['if-match']
  if (!header) return undefined
  const value = Array.isArray(header) ? header[0]! : header
  const match = /^(?:W\/)?"([^".]+)\.(\d+)"$/.exec(value.trim())
  if (!match || match[1] !== id) throw new CatalogError('conflict', 'The If-Match header does not name a revision of this dataset')
  return Number(match[2])
}

async function currentDict(ctx: ActionContext, idOrName: unknown): Promise<Dict> {
  if (typeof idOrName !== 'string' || !idOrName) throw validationError({ id: ['Missing value'] })
  requireLoggedIn(ctx.viewer, 'update')
  const { dict } = await ctx.service.showPackage(idOrName, { ...ctx.viewer, sysadmin: true })
  return dict
}

/** CKAN validation and the DCAT-AP.de rules in one pass: one error with every field's messages. */
async function validatedInput(ctx: ActionContext, dict: Dict): Promise<PackageInput> {
  const { input, errors } = packageFromDict(dict, { reference: ctx.service.reference, vocab: ctx.service.vocab })
  const allErrors: FieldErrors = { ...errors }
  if (Object.keys(errors).length === 0 && input.state !== 'draft' && ctx.datasetRules) {
    const findings = await ctx.datasetRules(input)
    if (findings.length) allErrors.dcat_ap_de = findings
  }
  if (Object.keys(allErrors).length) throw validationError(allErrors)
  return input
}

async function respondWithPackage(ctx: ActionContext, id: string, returnIdOnly?: boolean): Promise<unknown> {
  const { dict, revision } = await ctx.service.showPackage(id, { ...ctx.viewer, sysadmin: true })
  ctx.reply.header('ETag', `"${id}.${revision}"`)
  return returnIdOnly ? id : dict
}

async function update(ctx: ActionContext, current: Dict, next: Dict, activity = 'changed package'): Promise<void> {
  const id = current.id as string
  requireDatasetEditor(ctx.viewer, current.owner_org as string, 'update')
  const input = await validatedInput(ctx, { ...next, id })
  if (input.owner_org !== current.owner_org) requireDatasetEditor(ctx.viewer, input.owner_org, 'move')
  const ok = await ctx.service.updatePackage(id, input, expectedRevision(ctx, id), ctx.viewer, activity)
  if (!ok) throw new CatalogError('conflict', 'The dataset was changed by someone else since you read it (If-Match does not match its revision)')
}

export const packageCreate = defineAction({
  name: 'package_create',
  sideEffectFree: false,
  summary: 'Publish a new dataset of your Kommune',
  description: 'As CKAN package_create. Editors and admins of the owning organization may call it. Every write is validated (CKAN rules and, unless state is draft, the DCAT-AP.de rules); errors come back as 409 Validation Error with a field map.',
  tags: ['datasets (write)'],
  input: PackageBody('A CKAN package dict'),
  result: PackageDict,
  handler: async (ctx, body) => {
    requireLoggedIn(ctx.viewer, 'package_create')
    const org = typeof body.owner_org === 'string' ? ctx.service.reference.organization(body.owner_org) : undefined
    if (org) requireDatasetEditor(ctx.viewer, org.id, 'create')
    else if (!ctx.viewer.sysadmin && ctx.viewer.orgRoles.size === 0) requireDatasetEditor(ctx.viewer, null, 'create')
    const input = await validatedInput(ctx, body as Dict)
    const id = await ctx.service.createPackage({ ...input, creator_user_id: ctx.viewer.userId }, ctx.viewer)
    return respondWithPackage(ctx, id, body.return_id_only)
  },
})

export const packageUpdate = defineAction({
  name: 'package_update',
  sideEffectFree: false,
  summary: 'Replace a dataset (send If-Match to avoid lost updates)',
  description: 'As CKAN package_update: top-level fields are replaced; resources, tags, groups and extras are kept when omitted. With `If-Match: <ETag of package_show>` the update fails with 409 Conflict when the dataset changed in between.',
  tags: ['datasets (write)'],
  input: PackageBody('A full CKAN package dict'),
  result: PackageDict,
  handler: async (ctx, body) => {
    const current = await currentDict(ctx, body.id ?? body.name)
    const next: Dict = { ...body }
    for (const list of ['resources', 'tags', 'groups', 'extras']) if (!(list in body)) next[list] = current[list]
    if (!('owner_org' in body)) next.owner_org = current.owner_org
    await update(ctx, current, next)
    return respondWithPackage(ctx, current.id as string, body.return_id_only)
  },
})

export const packagePatch = defineAction({
  name: 'package_patch',
  sideEffectFree: false,
  summary: 'Change some fields of a dataset',
  description: 'As CKAN package_patch: package_show merged with the given top-level keys; a nested list given replaces the whole list. Honours If-Match like package_update.',
  tags: ['datasets (write)'],
  input: PackageBody('The fields to change, with id'),
  result: PackageDict,
  handler: async (ctx, body) => {
    const current = await currentDict(ctx, body.id ?? body.name)
    const { id: _id, ...changes } = body as Dict
    await update(ctx, current, { ...current, ...changes })
    return respondWithPackage(ctx, current.id as string, body.return_id_only)
  },
})

export const packageDelete = defineAction({
  name: 'package_delete',
  sideEffectFree: false,
  summary: 'Delete a dataset (it stays for its editors as state=deleted)',
  description: 'As CKAN package_delete: sets state to deleted; the dataset leaves search, lists and the DCAT catalog.',
  tags: ['datasets (write)'],
  input: Type.Object({ id: Type.Optional(Type.String({ maxLength: 100 })) }),
  result: Type.Null(),
  handler: async (ctx, body) => {
    const current = await currentDict(ctx, body.id)
    requireDatasetEditor(ctx.viewer, current.owner_org as string, 'delete')
    const { input } = packageFromDict(current, { reference: ctx.service.reference, vocab: ctx.service.vocab })
    await ctx.service.updatePackage(current.id as string, { ...input, state: 'deleted' }, expectedRevision(ctx, current.id as string), ctx.viewer, 'deleted package')
    return null
  },
})

export const datasetPurge = defineAction({
  name: 'dataset_purge',
  sideEffectFree: false,
  summary: 'Remove a dataset for good (sysadmins)',
  description: 'As CKAN dataset_purge: the dataset, its resources and its history are removed.',
  tags: ['datasets (write)'],
  input: Type.Object({ id: Type.Optional(Type.String({ maxLength: 100 })) }),
  result: Type.Null(),
  handler: async (ctx, body) => {
    requireSysadmin(ctx.viewer, 'dataset_purge')
    const current = await currentDict(ctx, body.id)
    await ctx.service.purgePackage(current.id as string)
    return null
  },
})

function resources(dict: Dict): Dict[] {
  return (dict.resources as Dict[]) ?? []
}

async function packageOfResource(ctx: ActionContext, resourceId: unknown): Promise<Dict> {
  if (typeof resourceId !== 'string' || !resourceId) throw validationError({ id: ['Missing value'] })
  requireLoggedIn(ctx.viewer, 'update')
  const packageId = await ctx.service.packageIdOfResource(resourceId)
  if (!packageId) throw notFound('Resource was not found.')
  return currentDict(ctx, packageId)
}

const ResourceBody = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 100 })),
    package_id: Type.Optional(Type.String({ maxLength: 100 })),
    url: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    format: Type.Optional(Type.String()),
    mimetype: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
)

function checkResource(dict: Dict): void {
  const { errors } = resourceFromDict(dict)
  if (Object.keys(errors).length) throw validationError(errors)
}

export const resourceCreate = defineAction({
  name: 'resource_create',
  sideEffectFree: false,
  summary: 'Add a resource (distribution) to a dataset',
  description: 'As CKAN resource_create: package_id and url are required; returns the new resource.',
  tags: ['datasets (write)'],
  input: ResourceBody,
  result: ResourceDict,
  handler: async (ctx, body) => {
    if (!body.package_id) throw validationError({ package_id: ['Missing value'] })
    const current = await currentDict(ctx, body.package_id)
    const { package_id: _p, ...resource } = body as Dict
    checkResource(resource)
    await update(ctx, current, { ...current, resources: [...resources(current), resource] })
    const after = (await respondWithPackage(ctx, current.id as string)) as Dict
    return resources(after).at(-1)
  },
})

function resourceWriteAction(name: 'resource_update' | 'resource_patch') {
  return defineAction({
    name,
    sideEffectFree: false,
    summary: name === 'resource_update' ? 'Replace a resource' : 'Change some fields of a resource',
    description: `As CKAN ${name}.`,
    tags: ['datasets (write)'],
    input: ResourceBody,
    result: ResourceDict,
    handler: async (ctx, body) => {
      const current = await packageOfResource(ctx, body.id)
      const list = resources(current)
      const index = list.findIndex((r) => r.id === body.id)
      const replacement = name === 'resource_update' ? { ...body, id: body.id } : { ...list[index], ...body }
      checkResource(replacement as Dict)
      const next = list.map((r, i) => (i === index ? replacement : r))
      await update(ctx, current, { ...current, resources: next })
      const after = (await respondWithPackage(ctx, current.id as string)) as Dict
      return resources(after).find((r) => r.id === body.id)
    },
  })
}

export const resourceUpdate = resourceWriteAction('resource_update')
export const resourcePatch = resourceWriteAction('resource_patch')

export const resourceDelete = defineAction({
  name: 'resource_delete',
  sideEffectFree: false,
  summary: 'Remove a resource from its dataset',
  description: 'As CKAN resource_delete.',
  tags: ['datasets (write)'],
  input: Type.Object({ id: Type.Optional(Type.String({ maxLength: 100 })) }),
  result: Type.Null(),
  handler: async (ctx, body) => {
    const current = await packageOfResource(ctx, body.id)
    await update(ctx, current, { ...current, resources: resources(current).filter((r) => r.id !== body.id) })
    return null
  },
})

export const packageResourceReorder = defineAction({
  name: 'package_resource_reorder',
  sideEffectFree: false,
  summary: 'Reorder the resources of a dataset',
  description: 'As CKAN package_resource_reorder: `order` lists resource ids; those not listed follow in their old order.',
  tags: ['datasets (write)'],
  input: Type.Object({ id: Type.Optional(Type.String({ maxLength: 100 })), order: Type.Optional(Type.Array(Type.String())) }),
  result: Type.Object({ id: Type.String(), order: Type.Array(Type.String()) }),
  handler: async (ctx, body) => {
    const current = await currentDict(ctx, body.id)
    if (!body.order) throw validationError({ order: ['Missing value'] })
    const list = resources(current)
    const byId = new Map(list.map((r) => [r.id as string, r]))
    const unknown = body.order.filter((id) => !byId.has(id))
    if (unknown.length || new Set(body.order).size !== body.order.length) {
      throw validationError({ order: ['Invalid resource ids or duplicates in order'] })
    }
    const reordered = [...body.order.map((id) => byId.get(id)!), ...list.filter((r) => !body.order!.includes(r.id as string))]
    await update(ctx, current, { ...current, resources: reordered })
    return { id: current.id as string, order: reordered.map((r) => r.id as string) }
  },
})

const ActivityPaging = {
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'At most 100 (default 31)' })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
}

export const packageActivityList = defineAction({
  name: 'package_activity_list',
  sideEffectFree: true,
  summary: 'Who changed a dataset, when, with the diff',
  description: 'As CKAN package_activity_list: newest first; each activity holds the dataset after the change and the changed fields.',
  tags: ['activity'],
  input: Type.Object({ id: Type.Optional(Type.String({ maxLength: 100 })), ...ActivityPaging }),
  result: Type.Array(Type.Any()),
  handler: async (ctx, body) => {
    if (!body.id) throw validationError({ id: ['Missing value'] })
    const { dict } = await ctx.service.showPackage(body.id, ctx.viewer)
    return ctx.service.activities({ packageId: dict.id as string }, { ...ctx.viewer, sysadmin: true }, body.limit ?? 31, body.offset ?? 0)
  },
})

export const organizationActivityList = defineAction({
  name: 'organization_activity_list',
  sideEffectFree: true,
  summary: "Changes to a Kommune's datasets, newest first",
  description: 'As CKAN organization_activity_list (activities of datasets the caller may not read are left out).',
  tags: ['activity'],
  input: Type.Object({ id: Type.Optional(Type.String({ maxLength: 100 })), ...ActivityPaging }),
  result: Type.Array(Type.Any()),
  handler: async (ctx, body) => {
    if (!body.id) throw validationError({ id: ['Missing value'] })
    const org = ctx.service.reference.organization(body.id)
    if (!org) throw notFound('Organization was not found.')
    return ctx.service.activities({ organizationId: org.id }, ctx.viewer, body.limit ?? 31, body.offset ?? 0)
  },
})

export const recentlyChangedPackagesActivityList = defineAction({
  name: 'recently_changed_packages_activity_list',
  sideEffectFree: true,
  summary: 'The latest changes to datasets across the catalog',
  description: 'As CKAN recently_changed_packages_activity_list.',
  tags: ['activity'],
  input: Type.Object(ActivityPaging),
  result: Type.Array(Type.Any()),
  handler: async (ctx, body) => ctx.service.activities({}, ctx.viewer, body.limit ?? 31, body.offset ?? 0),
})
