import { Type } from '@sinclair/typebox'
import { validationError } from '../../errors.js'
import { revisionTag } from '../../catalog/revision-tag.js'
import { defineAction } from '../action.js'
import { Bool, IdOrName, Natural, PackageDict, ResourceDict } from '../schemas.js'
import { usageOf } from '../../usage/counter.js'

export const packageList = defineAction({
  name: 'package_list',
  sideEffectFree: true,
  summary: 'Names of all public active datasets, by name',
  description: 'As CKAN package_list: paged with limit/offset.',
  tags: ['datasets'],
  input: Type.Object({
    limit: Type.Optional(Natural('Maximum number of names')),
    offset: Type.Optional(Natural('Names to skip')),
  }),
  result: Type.Array(Type.String()),
  handler: async ({ service }, input) => service.listPackageNames({ limit: input.limit, offset: input.offset }),
})

export const packageShow = defineAction({
  name: 'package_show',
  sideEffectFree: true,
  summary: 'One dataset by id or name',
  description:
    'As CKAN package_show. Answers with an `ETag` header naming the dataset revision (use it as `If-Match` on updates).',
  tags: ['datasets'],
  input: Type.Object({
    id: Type.Optional(IdOrName('The id or name of the dataset')),
    name_or_id: Type.Optional(IdOrName('Alias of id')),
    use_default_schema: Type.Optional(Bool('Accepted for compatibility')),
    include_plugin_data: Type.Optional(Bool('Accepted for compatibility')),
    include_tracking: Type.Optional(Bool('Accepted for compatibility')),
  }),
  result: PackageDict,
  handler: async ({ service, viewer, reply, request }, input) => {
    const id = input.id || input.name_or_id
    if (!id) throw validationError({ name_or_id: ['Missing value'] })
    const shown = await service.showPackageJson(id, viewer)
    usageOf(request)?.datasetView(request, shown.id, 'api')
    reply.header('ETag', revisionTag(shown.id, shown.revision))
    return shown.json
  },
})

export const resourceShow = defineAction({
  name: 'resource_show',
  sideEffectFree: true,
  summary: 'One resource (distribution) by id',
  description: "As CKAN resource_show: the resource dict from its dataset's package_show.",
  tags: ['datasets'],
  input: Type.Object({
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The id of the resource' })),
    include_tracking: Type.Optional(Bool('Accepted for compatibility')),
  }),
  result: ResourceDict,
  handler: async ({ service, viewer }, input) => {
    if (!input.id) throw validationError({ id: ['Missing value'] })
    return service.showResource(input.id, viewer)
  },
})
