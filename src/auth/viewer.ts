/** Who is asking: anonymous callers have no user; roles arrive with the write API. */
export interface Viewer {
  userId: string | null
  userName: string | null
  sysadmin: boolean
  /** Organization id -> capacity ('admin' | 'editor' | 'member'). */
  orgRoles: ReadonlyMap<string, string>
}

export const ANONYMOUS: Viewer = { userId: null, userName: null, sysadmin: false, orgRoles: new Map() }

/** CKAN's package_show rule: private and non-active datasets need membership of the owning organization. */
export function canReadPackage(viewer: Viewer, pkg: { owner_org: string | null; private: number; state: string }): boolean {
  if (viewer.sysadmin) return true
  if (pkg.private === 0 && pkg.state === 'active') return true
  if (!pkg.owner_org) return false
  const role = viewer.orgRoles.get(pkg.owner_org)
  if (!role) return false
  // Deleted and draft datasets are visible to those who may edit them.
  return pkg.state === 'active' || role === 'admin' || role === 'editor'
}

/** Organization ids whose private datasets the viewer may see in search. */
export function readableOrgIds(viewer: Viewer): string[] {
  return [...viewer.orgRoles.keys()]
}
