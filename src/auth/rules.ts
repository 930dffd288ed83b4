import { notAuthorized } from '../errors.js'
import type { Viewer } from './viewer.js'

/**
 * Who may do what, in one place (CKAN's logic/auth): each action calls the rule it needs.
 * Capacities per organization: admin > editor > member.
 */
const RANK: Record<string, number> = { member: 1, editor: 2, admin: 3 }

export function hasCapacity(viewer: Viewer, organizationId: string | null | undefined, needed: 'member' | 'editor' | 'admin'): boolean {
  if (viewer.sysadmin) return true
  if (!organizationId) return false
  return (RANK[viewer.orgRoles.get(organizationId) ?? ''] ?? 0) >= RANK[needed]!
}

function who(viewer: Viewer): string {
  return viewer.userName ?? 'anonymous'
}

export function requireLoggedIn(viewer: Viewer, action: string): void {
  if (!viewer.userId) throw notAuthorized(`Action ${action} requires an authenticated user`)
}

export function requireSysadmin(viewer: Viewer, action: string): void {
  requireLoggedIn(viewer, action)
  if (!viewer.sysadmin) throw notAuthorized(`User ${who(viewer)} not authorized to ${action}`)
}

/** Editors and admins of the owning Kommune write its datasets. */
export function requireDatasetEditor(viewer: Viewer, organizationId: string | null | undefined, action: string): void {
  requireLoggedIn(viewer, action)
  if (!hasCapacity(viewer, organizationId, 'editor')) {
    throw notAuthorized(`User ${who(viewer)} not authorized to ${action} datasets of this organization`)
  }
}

export function requireOrganizationAdmin(viewer: Viewer, organizationId: string, action: string): void {
  requireLoggedIn(viewer, action)
  if (!hasCapacity(viewer, organizationId, 'admin')) throw notAuthorized(`User ${who(viewer)} not authorized to ${action}`)
}

/** A user manages their own tokens; sysadmins manage everyone's. */
export function requireSelfOrSysadmin(viewer: Viewer, userId: string, action: string): void {
  requireLoggedIn(viewer, action)
  if (!viewer.sysadmin && viewer.userId !== userId) throw notAuthorized(`User ${who(viewer)} not authorized to ${action} for another user`)
}
