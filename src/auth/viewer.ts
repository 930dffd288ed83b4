import { sql, type RawBuilder, type SqlBool } from 'kysely'

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

/** canReadPackage as SQL over the package row `p`: every dataset the viewer may read, whatever its state. */
export function readableBy(viewer: Viewer): RawBuilder<SqlBool> {
  if (viewer.sysadmin) return sql<SqlBool>`1 = 1`
  const members = readableOrgIds(viewer)
  const editors = editableOrgIds(viewer)
  const parts: RawBuilder<SqlBool>[] = [sql<SqlBool>`(p.state = 'active' and p.private = 0)`]
  if (members.length) parts.push(sql<SqlBool>`(p.state = 'active' and p.owner_org in (${sql.join(members)}))`)
  if (editors.length) parts.push(sql<SqlBool>`p.owner_org in (${sql.join(editors)})`)
  return sql<SqlBool>`(${sql.join(parts, sql` or `)})`
}

/** Organization ids whose private datasets the viewer may see in search. */
export function readableOrgIds(viewer: Viewer): string[] {
  return [...viewer.orgRoles.keys()]
}

/** Organization ids whose drafts and deleted datasets the viewer may see: where they edit. */
export function editableOrgIds(viewer: Viewer): string[] {
  return [...viewer.orgRoles.entries()].filter(([, role]) => role === 'admin' || role === 'editor').map(([org]) => org)
}

/** The datasets everybody sees (active, public, of type dataset): the indexed flag that means exactly that. */
export const PUBLIC_DATASETS: RawBuilder<SqlBool> = sql<SqlBool>`p.visible = 1`

/** What a listing asks to see beyond the active public datasets (package_search's include_* flags). */
export interface VisibilityOptions {
  includePrivate?: boolean
  includeDrafts?: boolean
  includeDeleted?: boolean
}

/**
 * Whether the viewer, asking so, sees exactly the active public datasets: then the indexed `visible` flag
 * (and the in-memory index of those datasets) answers.
 */
export function seesPublicOnly(viewer: Viewer, opts: VisibilityOptions): boolean {
  if (opts.includePrivate && (viewer.sysadmin || readableOrgIds(viewer).length > 0)) return false
  if (opts.includeDrafts && (viewer.sysadmin || editableOrgIds(viewer).length > 0)) return false
  if (opts.includeDeleted && viewer.sysadmin) return false
  return true
}

/**
 * The one rule of who sees which dataset, as SQL over the package row `p`: canReadPackage for many rows.
 * Private datasets to members of their Kommune, drafts to its editors and admins (CKAN: to those who may
 * edit them), deleted ones to sysadmins, and all of them only when asked for.
 */
export function visibilityCondition(viewer: Viewer, opts: VisibilityOptions): RawBuilder<SqlBool> {
  const parts: RawBuilder<SqlBool>[] = [sql<SqlBool>`(p.state = 'active' and p.private = 0)`]
  if (opts.includePrivate) {
    const members = readableOrgIds(viewer)
    if (viewer.sysadmin) parts.push(sql<SqlBool>`p.state = 'active'`)
    else if (members.length) parts.push(sql<SqlBool>`(p.state = 'active' and p.owner_org in (${sql.join(members)}))`)
  }
  if (opts.includeDrafts) {
    const editors = editableOrgIds(viewer)
    if (viewer.sysadmin) parts.push(sql<SqlBool>`p.state = 'draft'`)
    else if (editors.length) parts.push(sql<SqlBool>`(p.state = 'draft' and p.owner_org in (${sql.join(editors)}))`)
  }
  if (opts.includeDeleted && viewer.sysadmin) parts.push(sql<SqlBool>`p.state = 'deleted'`)
  return parts.length === 1 ? parts[0]! : sql<SqlBool>`(${sql.join(parts, sql` or `)})`
}
