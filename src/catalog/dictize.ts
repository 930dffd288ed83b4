import type { OrganizationTable, ThemeTable } from '../db/types.js'

/** CKAN dict shapes of organizations and groups (ckan/lib/dictization/model_dictize.py group_dictize). */

export function organizationExtras(org: OrganizationTable): Array<{ key: string; value: string }> {
  const own = JSON.parse(org.extras) as Record<string, string>
  const kommune: Record<string, string | null> = {
    contributor_id: org.contributor_id,
    email: org.email,
    homepage: org.homepage,
    political_geocoding_level_uri: org.political_geocoding_level_uri,
    political_geocoding_uri: org.political_geocoding_uri,
    regional_key: org.regional_key,
  }
  return Object.entries({ ...kommune, ...own })
    .filter(([, value]) => value !== null && value !== '')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, value]) => ({ key, value: String(value) }))
}

/** The organization as embedded in a package dict. */
export function packageOrganization(org: OrganizationTable): Record<string, unknown> {
  return {
    id: org.id,
    name: org.name,
    title: org.title,
    type: 'organization',
    description: org.description,
    image_url: org.image_url,
    created: org.created,
    is_organization: true,
    approval_status: org.approval_status,
    state: org.state,
  }
}

/** A theme group as embedded in a package dict. */
export function packageGroup(theme: ThemeTable): Record<string, unknown> {
  return {
    description: theme.description,
    display_name: theme.title,
    id: theme.id,
    image_display_url: theme.image_url,
    name: theme.name,
    title: theme.title,
  }
}

export interface GroupDictOptions {
  packageCount?: number
  includeExtras?: boolean
  includeUsers?: boolean
  includeGroups?: boolean
  includeTags?: boolean
  includeFollowers?: boolean
}

function baseGroupDict(
  fields: { id: string; name: string; title: string; description: string; image_url: string; created: string; state: string; approval_status: string },
  isOrganization: boolean,
  opts: GroupDictOptions,
): Record<string, unknown> {
  const dict: Record<string, unknown> = {
    approval_status: fields.approval_status,
    created: fields.created,
    description: fields.description,
    display_name: fields.title || fields.name,
    id: fields.id,
    image_display_url: fields.image_url,
    image_url: fields.image_url,
    is_organization: isOrganization,
    name: fields.name,
    num_followers: 0,
    state: fields.state,
    title: fields.title,
    type: isOrganization ? 'organization' : 'group',
  }
  if (opts.packageCount !== undefined) dict.package_count = opts.packageCount
  if (opts.includeUsers) dict.users = []
  if (opts.includeGroups) dict.groups = []
  if (opts.includeTags) dict.tags = []
  return dict
}

export function organizationDict(org: OrganizationTable, opts: GroupDictOptions): Record<string, unknown> {
  const dict = baseGroupDict(org, true, opts)
  if (opts.includeExtras) dict.extras = organizationExtras(org)
  return dict
}

export function groupDict(theme: ThemeTable, opts: GroupDictOptions): Record<string, unknown> {
  const dict = baseGroupDict({ ...theme, approval_status: 'approved' }, false, opts)
  if (opts.includeExtras) {
    dict.extras = [
      { key: 'code', value: theme.code },
      { key: 'title_en', value: theme.title_en },
      { key: 'uri', value: theme.uri },
    ]
  }
  return dict
}
