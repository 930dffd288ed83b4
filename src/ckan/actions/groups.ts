import { Type } from '@sinclair/typebox'
import { validationError } from '../../errors.js'
import { defineAction } from '../action.js'
import { Bool, GroupDictSchema, IdOrName, Natural } from '../schemas.js'

interface GroupListInput {
  all_fields?: boolean
  sort?: string
  limit?: number
  offset?: number
  q?: string
  include_dataset_count?: boolean
  include_extras?: boolean
  include_users?: boolean
  include_groups?: boolean
  include_tags?: boolean
}

const LIST_MAX = 1000
const LIST_ALL_FIELDS_MAX = 25
const SORTS = ['name', 'title', 'package_count', 'packages']

function listAction(kind: 'organization' | 'group') {
  const plural = kind === 'organization' ? 'organizations' : 'groups'
  return defineAction({
    name: `${kind}_list`,
    sideEffectFree: true,
    summary: kind === 'organization' ? 'The participating Kommunen' : 'The groups: the 13 EU data themes',
    description: `As CKAN ${kind}_list: names, or dicts with all_fields (at most ${LIST_ALL_FIELDS_MAX} then, else ${LIST_MAX}).`,
    tags: [plural],
    input: Type.Object({
      all_fields: Type.Optional(Bool('Return dicts instead of names', false)),
      sort: Type.Optional(Type.String({ description: 'name, title or package_count, then asc|desc', default: 'title asc' })),
      limit: Type.Optional(Natural('Maximum number of results')),
      offset: Type.Optional(Natural('Results to skip')),
      [plural]: Type.Optional(Type.Union([Type.Array(Type.String()), Type.String()], { description: 'Only these names' })),
      q: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of name, title or description' })),
      include_dataset_count: Type.Optional(Bool('Include package_count', true)),
      include_extras: Type.Optional(Bool('Include extras', false)),
      include_users: Type.Optional(Bool('Include users', false)),
      include_groups: Type.Optional(Bool('Include sub-groups', false)),
      include_tags: Type.Optional(Bool('Include tags', false)),
      type: Type.Optional(Type.String()),
    }),
    result: Type.Union([Type.Array(Type.String()), Type.Array(GroupDictSchema)]),
    handler: async ({ service }, rawInput) => {
      const input = rawInput as GroupListInput
      const sort = (input.sort ?? 'title asc').trim().toLowerCase() || 'title asc'
      const [field, direction = 'asc', ...rest] = sort.split(/\s+/)
      if (!SORTS.includes(field!) || !['asc', 'desc'].includes(direction) || rest.length) {
        throw validationError({ sort: [`Cannot sort by field \`${input.sort}\``] })
      }
      const allFields = input.all_fields ?? false
      const max = allFields ? LIST_ALL_FIELDS_MAX : LIST_MAX
      const rawNames = (input as Record<string, unknown>)[plural]
      const names = typeof rawNames === 'string' ? parseNameList(rawNames) : (rawNames as string[] | undefined)
      const opts = {
        allFields,
        sort: `${field} ${direction}`,
        limit: Math.min(input.limit ?? max, max),
        offset: input.offset ?? 0,
        names,
        q: input.q,
        includeDatasetCount: input.include_dataset_count ?? true,
        includeExtras: input.include_extras ?? false,
        includeUsers: input.include_users ?? false,
        includeGroups: input.include_groups ?? false,
        includeTags: input.include_tags ?? false,
      }
      return kind === 'organization' ? service.listOrganizations(opts) : service.listGroups(opts)
    },
  })
}

/** A list parameter sent by GET arrives as one string: a JSON list or comma-separated names. */
function parseNameList(raw: string): string[] {
  try {
    const parsed = JSON.parse(raw)
    if (Array.isArray(parsed)) return parsed.map(String)
  } catch {
    /* not JSON */
  }
  return raw.split(',').map((s) => s.trim()).filter(Boolean)
}

function showAction(kind: 'organization' | 'group') {
  return defineAction({
    name: `${kind}_show`,
    sideEffectFree: true,
    summary: kind === 'organization' ? 'One Kommune by id or name' : 'One theme group by id or name',
    description: `As CKAN ${kind}_show. include_datasets adds up to 1000 of the newest public datasets as \`packages\`.`,
    tags: [kind === 'organization' ? 'organizations' : 'groups'],
    input: Type.Object({
      id: Type.Optional(IdOrName()),
      include_datasets: Type.Optional(Bool('Include the datasets as packages', false)),
      include_dataset_count: Type.Optional(Bool('Include package_count', true)),
      include_extras: Type.Optional(Bool('Include extras', true)),
      include_users: Type.Optional(Bool('Include users', false)),
      include_groups: Type.Optional(Bool('Include sub-groups', true)),
      include_tags: Type.Optional(Bool('Include tags', true)),
      include_followers: Type.Optional(Bool('Include num_followers', true)),
      include_member_count: Type.Optional(Bool('Include member_count', false)),
    }),
    result: GroupDictSchema,
    handler: async ({ service, viewer }, input) => {
      if (!input.id) throw validationError({ id: ['Missing value'] })
      const opts = {
        includeDatasets: input.include_datasets ?? false,
        includeDatasetCount: input.include_dataset_count ?? true,
        includeExtras: input.include_extras ?? true,
        includeUsers: input.include_users ?? false,
      }
      return kind === 'organization' ? service.showOrganization(input.id, opts, viewer) : service.showGroup(input.id, opts)
    },
  })
}

export const organizationList = listAction('organization')
export const groupList = listAction('group')
export const organizationShow = showAction('organization')
export const groupShow = showAction('group')

export const tagList = defineAction({
  name: 'tag_list',
  sideEffectFree: true,
  summary: 'Tags (keywords) used by public datasets',
  description: 'As CKAN tag_list: names, or dicts with all_fields; query filters by substring.',
  tags: ['datasets'],
  input: Type.Object({
    query: Type.Optional(Type.String({ maxLength: 100 })),
    q: Type.Optional(Type.String({ maxLength: 100 })),
    vocabulary_id: Type.Optional(Type.String()),
    all_fields: Type.Optional(Bool('Return dicts instead of names', false)),
  }),
  result: Type.Array(Type.Any()),
  handler: async ({ service }, input) => {
    if (input.vocabulary_id) return []
    return service.listTags(input.query ?? input.q, input.all_fields ?? false)
  },
})
