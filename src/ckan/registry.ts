import { Type } from '@sinclair/typebox'
import { notFound, validationError } from '../errors.js'
import { defineAction, type ActionDefinition } from './action.js'
import { groupList, groupShow, organizationList, organizationShow, tagList } from './actions/groups.js'
import { packageList, packageShow, resourceShow } from './actions/package_read.js'
import { currentPackageListWithResources, packageSearch } from './actions/package_search.js'
import { licenseList, siteRead, statusShow } from './actions/site.js'
import { organizationListForUser, userList, userShow } from './actions/users.js'
import { packageQualityShow } from './actions/quality.js'
import { formatAutocomplete, packageAutocomplete, tagAutocomplete } from './actions/autocomplete.js'
import {
  datasetPurge, organizationActivityList, packageActivityList, recentlyChangedPackagesActivityList, packageCreate, packageDelete, packagePatch, packageResourceReorder, packageUpdate,
  resourceCreate, resourceDelete, resourcePatch, resourceUpdate,
} from './actions/package_write.js'
import {
  apiTokenCreate, apiTokenList, apiTokenRevoke, groupCreate, groupUpdate, memberRolesList, organizationCreate,
  organizationDelete, organizationMemberCreate, organizationMemberDelete, organizationPatch, organizationUpdate,
} from './actions/admin.js'
import { HARVEST_READ_ACTIONS, HARVEST_WRITE_ACTIONS } from './actions/harvest.js'

const WRITE_ACTIONS: ActionDefinition<any>[] = [
  packageCreate,
  packageUpdate,
  packagePatch,
  packageDelete,
  datasetPurge,
  resourceCreate,
  resourceUpdate,
  resourcePatch,
  resourceDelete,
  packageResourceReorder,
  organizationCreate,
  organizationUpdate,
  organizationPatch,
  organizationDelete,
  groupCreate,
  groupUpdate,
  organizationMemberCreate,
  organizationMemberDelete,
  apiTokenCreate,
  apiTokenRevoke,
  ...HARVEST_WRITE_ACTIONS,
]

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
  organizationListForUser,
  groupList,
  groupShow,
  tagList,
  packageAutocomplete,
  formatAutocomplete,
  tagAutocomplete,
  userShow,
  userList,
  packageActivityList,
  organizationActivityList,
  recentlyChangedPackagesActivityList,
  memberRolesList,
  apiTokenList,
  packageQualityShow,
  ...HARVEST_READ_ACTIONS,
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
  return [...READ_ACTIONS, ...WRITE_ACTIONS, helpShow]
}
