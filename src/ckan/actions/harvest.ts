import { Type } from '@sinclair/typebox'
import { requireLoggedIn, requireOrganizationAdmin } from '../../auth/rules.js'
import { notFound, validationError } from '../../errors.js'
import { defineAction, type ActionContext } from '../action.js'
import { Bool } from '../schemas.js'
import { HarvestJobs, jobDict, sourceDict, type SourceFields } from '../../harvest/jobs.js'
import { detachSource } from '../../harvest/detach.js'
import type { HarvestSourceTable, SourceConfig } from '../../harvest/tables.js'

/**
 * ckanext-harvest's actions: harvest sources of a Kommune, managed by its admins and sysadmins; jobs are created
 * here and run in the background by the harvest scheduler (HARVEST_SCHEDULER=on) or `godonu harvest run`, never
 * on the request path. Sources, jobs and their reports are public, as ckanext-harvest shows them.
 */
const TAGS = ['harvest']

const SourceConfigSchema = Type.Object(
  {
    organizations: Type.Optional(
      Type.Array(Type.String({ maxLength: 100 }), {
        maxItems: 100,
        description: 'CKAN sources: only datasets of these organizations (their names at the source)',
      }),
    ),
    format: Type.Optional(
      Type.Union([Type.Literal('ttl'), Type.Literal('rdf'), Type.Literal('jsonld'), Type.Literal('nt')], {
        description: 'DCAT sources: the RDF format, whatever the Content-Type says',
      }),
    ),
    rows: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1000, description: 'CKAN sources: datasets per page (default 100)' }),
    ),
    margin_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 31_536_000,
        description:
          'CKAN incremental runs ask for datasets modified since the last successful run started minus this margin (default 3600)',
      }),
    ),
  },
  { additionalProperties: false },
)

const SourceBody = (description: string) =>
  Type.Object(
    {
      id: Type.Optional(Type.String({ maxLength: 100, description: 'The source (id or name); update and patch' })),
      name: Type.Optional(
        Type.String({ maxLength: 100, description: 'URL name: 2-100 characters of a-z, 0-9, - and _' }),
      ),
      title: Type.Optional(Type.String({ maxLength: 500 })),
      url: Type.Optional(
        Type.String({
          maxLength: 2000,
          description: 'CKAN: the site or its Action API base; DCAT: the catalog document',
        }),
      ),
      source_type: Type.Optional(Type.Union([Type.Literal('ckan'), Type.Literal('dcat')])),
      owner_org: Type.Optional(
        Type.String({ maxLength: 100, description: 'The Kommune the harvested datasets belong to' }),
      ),
      frequency_hours: Type.Optional(
        Type.Integer({
          minimum: 0,
          maximum: 8760,
          description: 'Hours between scheduled runs (0: manual only); default 24',
        }),
      ),
      config: Type.Optional(SourceConfigSchema),
    },
    { additionalProperties: false, description },
  )

const SourceResult = Type.Object({}, { additionalProperties: true, description: 'A harvest source' })
const JobResult = Type.Object(
  {},
  { additionalProperties: true, description: 'A harvest job with its counts (stats) and error' },
)

function jobsOf(ctx: ActionContext): HarvestJobs {
  return new HarvestJobs(ctx.service.store)
}

function organizationId(ctx: ActionContext, idOrName: unknown): string {
  if (typeof idOrName !== 'string' || !idOrName) throw validationError({ owner_org: ['Missing value'] })
  const org = ctx.service.reference.organization(idOrName)
  if (!org || org.state !== 'active') throw validationError({ owner_org: ['Organization does not exist'] })
  return org.id
}

async function sourceFor(ctx: ActionContext, idOrName: unknown): Promise<HarvestSourceTable> {
  if (typeof idOrName !== 'string' || !idOrName) throw validationError({ id: ['Missing value'] })
  const source = await jobsOf(ctx).source(idOrName)
  if (!source) throw notFound('Harvest source not found')
  return source
}

async function adminSource(ctx: ActionContext, idOrName: unknown, action: string): Promise<HarvestSourceTable> {
  requireLoggedIn(ctx.viewer, action)
  const source = await sourceFor(ctx, idOrName)
  requireOrganizationAdmin(ctx.viewer, source.owner_org, action)
  return source
}

export const harvestSourceCreate = defineAction({
  name: 'harvest_source_create',
  sideEffectFree: false,
  summary: 'Add a harvest source to a Kommune (its admins, sysadmins)',
  description:
    'A CKAN portal (`source_type` ckan: its Action API, paged by start with sort=id asc) or a DCAT-AP document (`source_type` dcat: Turtle, RDF/XML, JSON-LD or N-Triples by Content-Type, following hydra:next). ' +
    'Its datasets belong to `owner_org`. Nothing is fetched now: harvest_job_create or the scheduler runs it.',
  tags: TAGS,
  input: SourceBody('A harvest source'),
  result: SourceResult,
  handler: async (ctx, body) => {
    requireLoggedIn(ctx.viewer, 'harvest_source_create')
    const owner = organizationId(ctx, body.owner_org)
    requireOrganizationAdmin(ctx.viewer, owner, 'harvest_source_create')
    if (!body.name) throw validationError({ name: ['Missing value'] })
    const row = await jobsOf(ctx).createSource({
      name: body.name,
      title: body.title,
      type: body.source_type as SourceFields['type'],
      url: body.url ?? '',
      owner_org: owner,
      config: body.config,
      interval_hours: body.frequency_hours,
    })
    return sourceDict(row)
  },
})

async function changeSource(ctx: ActionContext, body: Record<string, unknown>, action: string, replace: boolean) {
  const source = await adminSource(ctx, body.id ?? body.name, action)
  const fields: Partial<SourceFields> = {}
  if (body.owner_org !== undefined) {
    fields.owner_org = organizationId(ctx, body.owner_org)
    requireOrganizationAdmin(ctx.viewer, fields.owner_org, action)
  }
  if (body.name !== undefined && body.name !== source.name && body.id !== undefined) fields.name = body.name as string
  if (body.title !== undefined) fields.title = body.title as string
  if (body.url !== undefined) fields.url = body.url as string
  if (body.source_type !== undefined) fields.type = body.source_type as SourceFields['type']
  if (body.frequency_hours !== undefined) fields.interval_hours = body.frequency_hours as number
  if (body.config !== undefined)
    fields.config = replace
      ? (body.config as SourceConfig)
      : { ...(JSON.parse(source.config) as SourceConfig), ...(body.config as SourceConfig) }
  else if (replace) fields.config = {}
  return sourceDict(await jobsOf(ctx).updateSource(source.id, fields))
}

export const harvestSourceUpdate = defineAction({
  name: 'harvest_source_update',
  sideEffectFree: false,
  summary: 'Change a harvest source (config replaced)',
  description:
    'As ckanext-harvest harvest_source_update: the given fields replace the stored ones; `config` left out is cleared. The next job uses the new settings.',
  tags: TAGS,
  input: SourceBody('The source (id) and its new fields'),
  result: SourceResult,
  handler: (ctx, body) => changeSource(ctx, body, 'harvest_source_update', true),
})

export const harvestSourcePatch = defineAction({
  name: 'harvest_source_patch',
  sideEffectFree: false,
  summary: 'Change some fields of a harvest source',
  description: 'The given fields replace the stored ones; `config` keys are merged into the stored config.',
  tags: TAGS,
  input: SourceBody('The source (id) and the fields to change'),
  result: SourceResult,
  handler: (ctx, body) => changeSource(ctx, body, 'harvest_source_patch', false),
})

export const harvestSourceDelete = defineAction({
  name: 'harvest_source_delete',
  sideEffectFree: false,
  summary: 'Delete a harvest source; its datasets are detached (kept, editable) or, with clear, withdrawn',
  description:
    'Jobs not yet started are aborted, a running one is asked to stop. With `clear=false` (default) the datasets it harvested stay and become ordinary datasets of the Kommune (the harvest extras are removed; editors may edit them). ' +
    'With `clear=true` they are deleted (state=deleted).',
  tags: TAGS,
  input: Type.Object(
    {
      id: Type.Optional(Type.String({ maxLength: 100 })),
      clear: Type.Optional(Bool('Delete the harvested datasets instead of detaching them', false)),
    },
    { additionalProperties: false },
  ),
  result: Type.Object({ detached: Type.Integer(), deleted: Type.Integer() }),
  handler: async (ctx, body) => {
    requireLoggedIn(ctx.viewer, 'harvest_source_delete')
    if (typeof body.id !== 'string' || !body.id) throw validationError({ id: ['Missing value'] })
    const jobs = jobsOf(ctx)
    // A retry of a delete that did not end finds the source `deleting` (or, by id, deleted) and ends it.
    const source = await jobs.sourceToDelete(body.id)
    if (!source) throw notFound('Harvest source not found')
    requireOrganizationAdmin(ctx.viewer, source.owner_org, 'harvest_source_delete')
    await jobs.beginDeleteSource(source.id)
    const result = await detachSource(ctx.service, source.id, body.clear === true || (body.clear as unknown) === 'true')
    await jobs.endDeleteSource(source.id)
    return result
  },
})

export const harvestSourceList = defineAction({
  name: 'harvest_source_list',
  sideEffectFree: true,
  summary: 'The harvest sources (of one Kommune)',
  description: 'Every active harvest source, by name; `organization` limits them to one Kommune.',
  tags: TAGS,
  input: Type.Object({ organization: Type.Optional(Type.String({ maxLength: 100 })) }),
  result: Type.Array(SourceResult),
  handler: async (ctx, input) => {
    const org = input.organization ? ctx.service.reference.organization(input.organization) : undefined
    if (input.organization && !org) throw notFound('Organization was not found.')
    return (await jobsOf(ctx).listSources(org?.id)).map(sourceDict)
  },
})

export const harvestSourceShow = defineAction({
  name: 'harvest_source_show',
  sideEffectFree: true,
  summary: 'A harvest source with its last job',
  description: 'The source and its newest job (`status`), as ckanext-harvest harvest_source_show.',
  tags: TAGS,
  input: Type.Object({ id: Type.Optional(Type.String({ maxLength: 100 })) }),
  result: SourceResult,
  handler: async (ctx, input) => {
    const source = await sourceFor(ctx, input.id)
    const [last] = await jobsOf(ctx).listJobs(source.id, 1)
    return { ...sourceDict(source), status: last ? jobDict(last) : null }
  },
})

export const harvestJobCreate = defineAction({
  name: 'harvest_job_create',
  sideEffectFree: false,
  summary: 'Run a harvest source now (queues a job)',
  description:
    'Queues a job for the source; the harvest scheduler (HARVEST_SCHEDULER=on) or `godonu harvest run` runs it. 409 when a job of the source is already waiting or running. ' +
    '`full` asks a CKAN source for all its datasets (a complete run, which alone withdraws datasets that vanished); `confirm_withdrawals` lets that run withdraw more than the allowed share.',
  tags: TAGS,
  input: Type.Object(
    {
      source_id: Type.Optional(Type.String({ maxLength: 100, description: 'The source (id or name)' })),
      full: Type.Optional(Bool('A complete run', false)),
      confirm_withdrawals: Type.Optional(Bool('Withdraw even more than the allowed share', false)),
    },
    { additionalProperties: false },
  ),
  result: JobResult,
  handler: async (ctx, body) => {
    const source = await adminSource(ctx, body.source_id, 'harvest_job_create')
    const truthy = (v: unknown) => v === true || v === 'true'
    return jobDict(
      await jobsOf(ctx).createJob(source.id, {
        full: truthy(body.full),
        confirmWithdrawals: truthy(body.confirm_withdrawals),
      }),
    )
  },
})

export const harvestJobList = defineAction({
  name: 'harvest_job_list',
  sideEffectFree: true,
  summary: 'The jobs of a harvest source, newest first',
  description: 'Jobs with their status, counts (stats) and error; `status` filters them.',
  tags: TAGS,
  input: Type.Object({
    source_id: Type.Optional(Type.String({ maxLength: 100 })),
    status: Type.Optional(Type.String({ maxLength: 20 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 20 })),
  }),
  result: Type.Array(JobResult),
  handler: async (ctx, input) => {
    const source = input.source_id ? await sourceFor(ctx, input.source_id) : undefined
    return (await jobsOf(ctx).listJobs(source?.id, input.limit ?? 20, input.status)).map(jobDict)
  },
})

export const harvestJobShow = defineAction({
  name: 'harvest_job_show',
  sideEffectFree: true,
  summary: 'One harvest job',
  description:
    'Its status, start and end, counts (added, updated, unchanged, withdrawn, skipped, failed, pages) and error.',
  tags: TAGS,
  input: Type.Object({ id: Type.Optional(Type.String({ maxLength: 100 })) }),
  result: JobResult,
  handler: async (ctx, input) => {
    if (!input.id) throw validationError({ id: ['Missing value'] })
    const job = await jobsOf(ctx).job(input.id)
    if (!job) throw notFound('Harvest job not found')
    return jobDict(job)
  },
})

export const harvestJobAbort = defineAction({
  name: 'harvest_job_abort',
  sideEffectFree: false,
  summary: "Abort a harvest job (or a source's current one)",
  description:
    'A waiting job ends at once; a running one stops at its next step and deletes nothing. Give the job `id`, or the `source_id` to abort its current job.',
  tags: TAGS,
  input: Type.Object(
    { id: Type.Optional(Type.String({ maxLength: 100 })), source_id: Type.Optional(Type.String({ maxLength: 100 })) },
    { additionalProperties: false },
  ),
  result: JobResult,
  handler: async (ctx, body) => {
    const jobs = jobsOf(ctx)
    let jobId = body.id
    if (!jobId) {
      const source = await adminSource(ctx, body.source_id, 'harvest_job_abort')
      const current = (await jobs.listJobs(source.id, 5)).find((j) => j.status === 'new' || j.status === 'running')
      if (!current) throw notFound('The source has no waiting or running job')
      jobId = current.id
    }
    const job = await jobs.job(jobId)
    if (!job) throw notFound('Harvest job not found')
    const source = await jobs.db
      .selectFrom('harvest_source')
      .select('owner_org')
      .where('id', '=', job.source_id)
      .executeTakeFirstOrThrow()
    requireLoggedIn(ctx.viewer, 'harvest_job_abort')
    requireOrganizationAdmin(ctx.viewer, source.owner_org, 'harvest_job_abort')
    return jobDict(await jobs.abort(job.id))
  },
})

export const harvestLogList = defineAction({
  name: 'harvest_log_list',
  sideEffectFree: true,
  summary: "A harvest job's report: its errors, warnings and notes",
  description:
    'The log of one job (per-dataset errors and findings, with the source identity of the dataset as `guid`), oldest first; `level` filters (info, warning, error).',
  tags: TAGS,
  input: Type.Object({
    job_id: Type.Optional(Type.String({ maxLength: 100 })),
    level: Type.Optional(Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 })),
  }),
  result: Type.Array(Type.Object({}, { additionalProperties: true })),
  handler: async (ctx, input) => {
    if (!input.job_id) throw validationError({ job_id: ['Missing value'] })
    const jobs = jobsOf(ctx)
    if (!(await jobs.job(input.job_id))) throw notFound('Harvest job not found')
    return jobs.logs(input.job_id, input.limit ?? 100, input.offset ?? 0, input.level)
  },
})

export const HARVEST_WRITE_ACTIONS = [
  harvestSourceCreate,
  harvestSourceUpdate,
  harvestSourcePatch,
  harvestSourceDelete,
  harvestJobCreate,
  harvestJobAbort,
]
export const HARVEST_READ_ACTIONS = [
  harvestSourceList,
  harvestSourceShow,
  harvestJobList,
  harvestJobShow,
  harvestLogList,
]
