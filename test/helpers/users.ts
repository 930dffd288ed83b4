import type { App } from '../../src/app.js'
import type { Role } from '../../src/auth/users.js'

export interface Caller {
  label: string
  token: string | null
}

/** Creates a user with a role (or sysadmin) and returns an API token for it. */
export async function userWithToken(app: App, name: string, opts: { sysadmin?: boolean; org?: string; role?: Role } = {}): Promise<Caller> {
  const user = await app.users.addUser({ name, sysadmin: opts.sysadmin })
  if (opts.org && opts.role) await app.users.setMembership(user.id, app.service.reference.organization(opts.org)!.id, opts.role)
  const { token } = await app.users.createToken(user.id, 'test', null)
  return { label: name, token }
}

export interface CallOptions {
  /** The URL prefix (CKAN also answers under /api/action). */
  prefix?: '/api/3/action' | '/api/action'
  /** The client address the request comes from. */
  remoteAddress?: string
}

export async function call(app: App, caller: Caller | null, action: string, body: unknown, headers: Record<string, string> = {}, options: CallOptions = {}) {
  const response = await app.fastify.inject({
    method: 'POST',
    url: `${options.prefix ?? '/api/3/action'}/${action}`,
    payload: body as Record<string, unknown>,
    headers: { ...(caller?.token ? { authorization: caller.token } : {}), ...headers },
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  })
  let json: any
  try {
    json = response.json()
  } catch {
    json = response.body
  }
  return { status: response.statusCode, body: json, headers: response.headers }
}
