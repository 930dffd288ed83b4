import { Type } from '@sinclair/typebox'
import { requireDatasetEditor, requireLoggedIn, requireSysadmin } from '../../auth/rules.js'
import { addTextProblem, checkText, packageFromDict, resourceFromDict, type DictContext, type FieldErrors } from '../../catalog/package-input.js'
import type { PackageInput } from '../../catalog/package.js'
import { revisionInTag, revisionTag } from '../../catalog/revision-tag.js'
import { CatalogError, notFound, validationError } from '../../errors.js'
import { defineAction, type ActionContext } from '../action.js'
import { Bool, PackageDict, ResourceDict } from '../schemas.js'

type Dict = Record<string, unknown>

const PackageBody = (description: string) =>
  Type.Object(
    {
      id: Type.Optional(Type.String({ maxLength: 100, description: 'The dataset id (update: id or name). On create only sysadmins may give one, a UUID.' })),
      name: Type.Optional(Type.String({ maxLength: 200, description: 'URL name: 2-100 characters of a-z, 0-9, - and _' })),
      title: Type.Optional(Type.String()),
      notes: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      owner_org: Type.Optional(Type.String({ description: 'The Kommune (organization id or name)' })),
      license_id: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'dcat-ap.de licence URI or a known short form (dl-by-de/2.0)' })),
      private: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
      state: Type.Optional(Type.String({ description: 'active or draft (drafts skip the DCAT-AP.de completeness rules); only package_delete deletes' })),
      url: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      version: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      author: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      author_email: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      maintainer: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      maintainer_email: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      tags: Type.Optional(Type.Array(Type.Any(), { description: '[{"name": "verkehr"}]' })),
      groups: Type.Optional(Type.Array(Type.Any(), { description: '[{"name": "tran"}] (EU data themes)' })),
      extras: Type.Optional(Type.Array(Type.Any(), { description: '[{"key": "frequency", "value": "ANNUAL"}]; a `uri` extra must be an absolute http(s) IRI' })),
      resources: Type.Optional(Type.Array(Type.Any(), { description: 'Resource dicts; each needs a url' })),
      return_id_only: Type.Optional(Bool('Return only the id')),
    },
    { additionalProperties: true, description },
  )

const CONFLICT = 'The dataset was changed by someone else since you read it (If-Match does not match its revision)'

/** If-Match: `"<id>.<revision>"` as package_show's ETag gave it. */
function expectedRevision(ctx: ActionContext, id: string): number | undefined {
  const header = ctx.request.headers['if-match']
  if (!header) return undefined
  const value = Array.isArray(header) ? header[0]! : header
  const revision = revisionInTag(value, id)
  if (revision === undefined) throw new CatalogError('conflict', 'The If-Match header does not name a revision of this dataset')
  return revision
}

/** The dataset by id or name, for a purge (sysadmins only: no owner to check). */
async function readDataset(ctx: ActionContext, idOrName: unknown): Promise<Dict> {
  if (typeof idOrName !== 'string' || !idOrName) throw validationError({ id: ['Missing value'] })
  requireLoggedIn(ctx.viewer, 'update')
  return (await ctx.service.showPackage(idOrName, { ...ctx.viewer, sysadmin: true })).dict
}

function resources(dict: Dict | undefined): Dict[] {
  return (dict?.resources as Dict[] | undefined) ?? []
}

/** How a dict of this write is read: the stored resources keep their ids, the catalog's URIs are its own. */
function dictContext(ctx: ActionContext, current: Dict | undefined, newDataset?: DictContext['newDataset']): DictContext {
  return {
    reference: ctx.service.reference,
    vocab: ctx.service.vocab,
    baseUrl: ctx.config.baseUrl,
    existingResourceIds: new Set(resources(current).map((r) => r.id as string)),
    newDataset,
  }
}

/**
 * CKAN validation and the DCAT-AP.de rules in one pass: one error with every field's messages. The rules
 * judge whatever could be read of the dict even when CKAN's rules found errors (packageFromDict leaves out
 * only the values it refused), so a client sees every problem at once; drafts skip them.
 */
async function validatedInput(ctx: ActionContext, dict: Dict, current: Dict | undefined, newDataset?: DictContext['newDataset']): Promise<PackageInput> {
  const { input, errors } = packageFromDict(dict, dictContext(ctx, current, newDataset))
  const allErrors: FieldErrors = { ...errors }
  if (input.state !== 'draft' && ctx.datasetRules) {
    const findings = await ctx.datasetRules(input)
    if (findings.length) allErrors.dcat_ap_de = findings
  }
  if (Object.keys(allErrors).length) throw validationError(allErrors)
  return input
}

async function respondWithPackage(ctx: ActionContext, id: string, returnIdOnly?: boolean): Promise<unknown> {
  const { dict, revision } = await ctx.service.showPackage(id, { ...ctx.viewer, sysadmin: true })
  ctx.reply.header('ETag', revisionTag(id, revision))
  // The MQA score the write just stored (src/quality/): read back, never computed here.
  if (!returnIdOnly) dict.quality = (await ctx.service.quality.summary(ctx.service.db, id)) ?? null
  return returnIdOnly ? id : dict
}

/**
 * Every change of a stored dataset, through the catalog service's modifyPackage: the dataset is read from
 * the database inside the write's own transaction (never from a cache), and authorization, If-Match and the
 * new input are all decided on that state. So the owner checked is the owner of what is replaced, and no
 * write merges onto an older copy. Returns the dataset id.
 */
async function writeDataset(
  ctx: ActionContext,
  idOrName: unknown,
  action: 'update' | 'delete',
  build: (current: Dict) => Promise<PackageInput>,
  activity = 'changed package',
): Promise<string> {
  if (typeof idOrName !== 'string' || !idOrName) throw validationError({ id: ['Missing value'] })
  requireLoggedIn(ctx.viewer, action)
  const { id } = await ctx.service.modifyPackage(idOrName, ctx.viewer, async (current) => {
    requireDatasetEditor(ctx.viewer, current.owner_org, action)
    const expected = expectedRevision(ctx, current.id)
    // A stale If-Match is told before the work of building and validating the new dataset.
    if (expected !== undefined && expected !== current.revision) throw new CatalogError('conflict', CONFLICT)
    const input = await build(current.dict)
    if (input.owner_org !== current.owner_org) requireDatasetEditor(ctx.viewer, input.owner_org, 'move')
    return { input, expectedRevision: expected, activity }
  })
  return id
}

export const packageCreate = defineAction({
  name: 'package_create',
  sideEffectFree: false,
  summary: 'Publish a new dataset of your Kommune',
  description:
    'As CKAN package_create. Editors and admins of the owning organization may call it. Every write is validated in one pass (CKAN rules and, unless state is draft, the DCAT-AP.de rules): ' +
    'one 409 Validation Error whose field map names every problem, the DCAT-AP.de findings under `dcat_ap_de`; errors of tags, extras and resources item by item (`{"resources": [{}, {"format": [...]}]}`). ' +
    'Vocabulary fields take only their vocabularies\' terms: a resource `format` is an EU file-type code, URI or an IANA media type that names one (text/csv), `mimetype` an IANA media type, ' +
    '`license_id` and a resource `license` dcat-ap.de licences, the `language` and `frequency` extras EU terms. Extras need a value; no text may hold NUL, lone surrogates or invalid UTF-8. ' +
    'Only sysadmins may choose the `id` (a UUID); as CKAN\'s `empty_if_not_sysadmin`, an `id` from anyone else is refused with "The input field id was not expected.", not ignored. ' +
    'A `uri` extra and the `uri`, `access_url` and `download_url` of resources must be absolute http(s) IRIs; given resource ids must be UUIDs.',
  tags: ['datasets (write)'],
  input: PackageBody('A CKAN package dict'),
  result: PackageDict,
  handler: async (ctx, body) => {
    requireLoggedIn(ctx.viewer, 'package_create')
    const org = typeof body.owner_org === 'string' ? ctx.service.reference.organization(body.owner_org) : undefined
    if (org) requireDatasetEditor(ctx.viewer, org.id, 'create')
    else if (!ctx.viewer.sysadmin && ctx.viewer.orgRoles.size === 0) requireDatasetEditor(ctx.viewer, null, 'create')
    const input = await validatedInput(ctx, body as Dict, undefined, { mayChooseId: ctx.viewer.sysadmin })
    requireDatasetEditor(ctx.viewer, input.owner_org, 'create')
    const id = await ctx.service.createPackage({ ...input, creator_user_id: ctx.viewer.userId }, ctx.viewer)
    return respondWithPackage(ctx, id, body.return_id_only)
  },
})

export const packageUpdate = defineAction({
  name: 'package_update',
  sideEffectFree: false,
  summary: 'Replace a dataset (send If-Match to avoid lost updates)',
  description: 'As CKAN package_update: top-level fields are replaced; resources, tags, groups and extras are kept when omitted. With `If-Match: <ETag of package_show>` the update fails with 409 Conflict when the dataset changed in between. `state` may be active or draft; only package_delete deletes.',
  tags: ['datasets (write)'],
  input: PackageBody('A full CKAN package dict'),
  result: PackageDict,
  handler: async (ctx, body) => {
    const id = await writeDataset(ctx, body.id ?? body.name, 'update', (current) => {
      const next: Dict = { ...body }
      for (const list of ['resources', 'tags', 'groups', 'extras']) if (!(list in body)) next[list] = current[list]
      if (!('owner_org' in body)) next.owner_org = current.owner_org
      return validatedInput(ctx, { ...next, id: current.id }, current)
    })
    return respondWithPackage(ctx, id, body.return_id_only)
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
    const { id: _id, ...changes } = body as Dict
    const id = await writeDataset(ctx, body.id ?? body.name, 'update', (current) => validatedInput(ctx, { ...current, ...changes, id: current.id }, current))
    return respondWithPackage(ctx, id, body.return_id_only)
  },
})

export const packageDelete = defineAction({
  name: 'package_delete',
  sideEffectFree: false,
  summary: 'Delete a dataset (it stays for its editors as state=deleted)',
  description: 'As CKAN package_delete: sets state to deleted; the dataset leaves search, lists and the DCAT catalog. The only way to delete. With a stale If-Match: 409 Conflict, nothing deleted.',
  tags: ['datasets (write)'],
  input: Type.Object({ id: Type.Optional(Type.String({ maxLength: 100 })) }),
  result: Type.Null(),
  handler: async (ctx, body) => {
    if (typeof body.id !== 'string' || !body.id) throw validationError({ id: ['Missing value'] })
    requireLoggedIn(ctx.viewer, 'delete')
    // Only the state changes: the stored dataset is kept as it is, even where older data fails today's rules.
    await ctx.service.modifyPackage(body.id, ctx.viewer, async (current) => {
      requireDatasetEditor(ctx.viewer, current.owner_org, 'delete')
      const expected = expectedRevision(ctx, current.id)
      if (expected !== undefined && expected !== current.revision) throw new CatalogError('conflict', CONFLICT)
      return { state: 'deleted', expectedRevision: expected, activity: 'deleted package' }
    })
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
    const dict = await readDataset(ctx, body.id)
    await ctx.service.purgePackage(dict.id as string)
    return null
  },
})

/** The id of the dataset a resource belongs to, read from the database. */
async function packageOfResource(ctx: ActionContext, resourceId: unknown): Promise<string> {
  if (typeof resourceId !== 'string' || !resourceId) throw validationError({ id: ['Missing value'] })
  requireLoggedIn(ctx.viewer, 'update')
  const packageId = await ctx.service.packageIdOfResource(resourceId)
  if (!packageId) throw notFound('Resource was not found.')
  return packageId
}

const ResourceBody = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 100, description: 'resource_create: a UUID, if given' })),
    package_id: Type.Optional(Type.String({ maxLength: 100 })),
    url: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    format: Type.Optional(Type.String()),
    mimetype: Type.Optional(Type.String()),
    uri: Type.Optional(Type.String({ description: 'The distribution URI: an absolute http(s) IRI' })),
  },
  { additionalProperties: true },
)

/** The resource's own errors as a flat field map (as CKAN's resource actions answer), before the dataset's. */
function checkResource(ctx: ActionContext, dict: Dict, current: Dict): void {
  const existingResourceIds = new Set(resources(current).map((r) => r.id as string))
  const { problems, cleaned } = checkText(dict)
  const { errors } = resourceFromDict(cleaned, { existingResourceIds, baseUrl: ctx.config.baseUrl, packageId: current.id as string, vocab: ctx.service.vocab })
  for (const problem of problems) addTextProblem(errors, problem)
  if (Object.keys(errors).length) throw validationError(errors)
}

export const resourceCreate = defineAction({
  name: 'resource_create',
  sideEffectFree: false,
  summary: 'Add a resource (distribution) to a dataset',
  description: 'As CKAN resource_create: package_id and url are required; returns the new resource. A given id must be a UUID; uri, access_url and download_url must be absolute http(s) IRIs.',
  tags: ['datasets (write)'],
  input: ResourceBody,
  result: ResourceDict,
  handler: async (ctx, body) => {
    if (!body.package_id) throw validationError({ package_id: ['Missing value'] })
    const { package_id: _p, ...resource } = body as Dict
    const id = await writeDataset(ctx, body.package_id, 'update', (current) => {
      checkResource(ctx, resource, current)
      return validatedInput(ctx, { ...current, resources: [...resources(current), resource] }, current)
    })
    const after = (await respondWithPackage(ctx, id)) as Dict
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
      const packageId = await packageOfResource(ctx, body.id)
      const id = await writeDataset(ctx, packageId, 'update', (current) => {
        const list = resources(current)
        const index = list.findIndex((r) => r.id === body.id)
        if (index < 0) throw notFound('Resource was not found.')
        const replacement = name === 'resource_update' ? { ...body, id: body.id } : { ...list[index], ...body }
        checkResource(ctx, replacement as Dict, current)
        return validatedInput(ctx, { ...current, resources: list.map((r, i) => (i === index ? replacement : r)) }, current)
      })
      const after = (await respondWithPackage(ctx, id)) as Dict
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
    const packageId = await packageOfResource(ctx, body.id)
    await writeDataset(ctx, packageId, 'update', (current) =>
      validatedInput(ctx, { ...current, resources: resources(current).filter((r) => r.id !== body.id) }, current),
    )
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
    const order = body.order
    let reordered: Dict[] = []
    const id = await writeDataset(ctx, body.id, 'update', (current) => {
      if (!order) throw validationError({ order: ['Missing value'] })
      const list = resources(current)
      const byId = new Map(list.map((r) => [r.id as string, r]))
      const unknown = order.filter((id) => !byId.has(id))
      if (unknown.length || new Set(order).size !== order.length) {
        throw validationError({ order: ['Invalid resource ids or duplicates in order'] })
      }
      reordered = [...order.map((id) => byId.get(id)!), ...list.filter((r) => !order.includes(r.id as string))]
      return validatedInput(ctx, { ...current, resources: reordered }, current)
    })
    return { id, order: reordered.map((r) => r.id as string) }
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
