import { Type } from '@sinclair/typebox'
import { notFound, validationError } from '../errors.js'
import { defineAction, type ActionDefinition } from './action.js'
import { groupList, groupShow, organizationList, organizationShow, tagList } from './actions/groups.js'
import { packageList, packageShow, resourceShow } from './actions/package_read.js'
import { currentPackageListWithResources, packageSearch } from './actions/package_search.js'
import { licenseList, siteRead, statusShow } from './actions/site.js'

const READ_ACTIONS: ActionDefinition<any>[] = [
  siteRead,
  statusShow,
  licenseList,
  packageList,
  packageShow,
  packageSearch,
  currentPackageListWithResources,
  resourceShow,
  organizationList,
  organizationShow,
  groupList,
  groupShow,
  tagList,
]

/** help_show needs the registry itself, so it is defined beside it. */
const helpShow = defineAction({
  name: 'help_show',
  sideEffectFree: true,
  summary: 'The documentation of an action',
  description: 'As CKAN help_show: the description of the named action.',
  tags: ['site'],
  input: Type.Object({ name: Type.Optional(Type.String({ maxLength: 100 })) }),
  result: Type.String(),
  handler: async (_ctx, input) => {
    if (!input.name) throw validationError({ name: ['Missing value'] })
    const action = allActions().find((a) => a.name === input.name)
    if (!action) throw notFound(`Action function not found`)
    return `${action.summary}\n\n${action.description}`
  },
})

export function allActions(): ActionDefinition<any>[] {
  return [...READ_ACTIONS, helpShow]
}
