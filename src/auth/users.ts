import { randomUUID } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import type { Store } from '../db/connect.js'
import type { Database, UserTable } from '../db/types.js'
import { ckanNow } from '../catalog/time.js'
import { escapeLike } from '../db/dialect.js'
import { writeTransaction, type DuplicateField } from '../db/write.js'
import { CatalogError, notFound, validationError } from '../errors.js'
import { issueToken, secretMatches, splitToken } from './tokens.js'
import { ANONYMOUS, type Viewer } from './viewer.js'

export const ROLES = ['admin', 'editor', 'member'] as const
export type Role = (typeof ROLES)[number]

const NAME_RE = /^[a-z0-9_-]{2,100}$/

/** Orders of user_list (CKAN's order_by); display_name is the full name, else the login name. */
export const USER_ORDERS = ['name', 'display_name', 'fullname', 'created', 'id', 'sysadmin'] as const
export type UserOrder = (typeof USER_ORDERS)[number]

export interface UserListOptions {
  /** Substring of the name or full name (and of the e-mail address when searchEmail). */
  q?: string
  searchEmail: boolean
  /** Exact e-mail address (CKAN's `email` filter, for sysadmins). */
  email?: string
  orderBy: UserOrder
  limit: number
  offset: number
}

/** The 409 of a login name another writer took first (MySQL names only the key and the value). */
const takenName =
  (name: string): DuplicateField =>
  (value) =>
    value === name ? { field: 'name', message: 'That login name is not available.' } : undefined

/**
 * Users, tokens and memberships: who may do what. Nothing here is cached: the viewer is read from the
 * database on every request, so what one server writes holds on every other at once. Every write goes
 * through writeTransaction, which retries lost lock races and maps database errors to CKAN errors.
 */
export class UserService {
  private readonly db: Kysely<Database>

  constructor(private readonly store: Store) {
    this.db = store.db
  }

  async findUser(idOrName: string): Promise<UserTable | undefined> {
    return this.db
      .selectFrom('app_user')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst()
  }

  async addUser(input: { name: string; fullname?: string; email?: string; sysadmin?: boolean }): Promise<UserTable> {
    if (!NAME_RE.test(input.name)) throw validationError({ name: ['Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_'] })
    const user: UserTable = {
      id: randomUUID(),
      name: input.name,
      fullname: input.fullname ?? '',
      email: input.email ?? '',
      sysadmin: input.sysadmin ? 1 : 0,
      state: 'active',
      created: ckanNow(),
    }
    // The check gives the usual answer; the unique key gives the same one to a writer that lost a race.
    await writeTransaction(
      this.store,
      async (trx) => {
        const taken = await trx.selectFrom('app_user').select('id').where('name', '=', input.name).executeTakeFirst()
        if (taken) throw validationError({ name: ['That login name is not available.'] })
        await trx.insertInto('app_user').values(user).execute()
      },
      takenName(input.name),
    )
    return user
  }

  /**
   * Makes the user a member of the organization with this capacity, or changes the capacity: one upsert
   * on the member key. (A delete then insert deadlocked on MariaDB: both deletes of absent rows took gap
   * locks that each insert then waited for.)
   */
  async setMembership(userId: string, organizationId: string, capacity: Role): Promise<void> {
    await writeTransaction(this.store, async (trx) => {
      const insert = trx.insertInto('member').values({ user_id: userId, organization_id: organizationId, capacity })
      await (this.store.dialect === 'mysql'
        ? insert.onDuplicateKeyUpdate({ capacity })
        : insert.onConflict((oc) => oc.columns(['user_id', 'organization_id']).doUpdateSet({ capacity }))
      ).execute()
    })
  }

  async removeMembership(userId: string, organizationId: string): Promise<boolean> {
    const result = await writeTransaction(this.store, (trx) =>
      trx.deleteFrom('member').where('user_id', '=', userId).where('organization_id', '=', organizationId).executeTakeFirst(),
    )
    return Number(result.numDeletedRows) > 0
  }

  async members(organizationId: string): Promise<Array<{ id: string; name: string; capacity: string }>> {
    return this.db
      .selectFrom('member as m')
      .innerJoin('app_user as u', 'u.id', 'm.user_id')
      .select(['u.id', 'u.name', 'm.capacity'])
      .where('m.organization_id', '=', organizationId)
      .orderBy('u.name')
      .execute()
  }

  async createToken(userId: string, name: string, expiresAt: string | null): Promise<{ id: string; token: string }> {
    const issued = issueToken()
    await writeTransaction(this.store, (trx) =>
      trx
        .insertInto('api_token')
        .values({ id: issued.id, user_id: userId, name, secret_hash: issued.secretHash, created: ckanNow(), expires_at: expiresAt, last_access: null, revoked: 0 })
        .execute(),
    )
    return { id: issued.id, token: issued.token }
  }

  /** The id of the user a token belongs to. */
  async tokenOwner(tokenId: string): Promise<string | undefined> {
    return (await this.db.selectFrom('api_token').select(['user_id']).where('id', '=', tokenId).executeTakeFirst())?.user_id
  }

  async revokeToken(tokenId: string): Promise<void> {
    await writeTransaction(this.store, (trx) => trx.updateTable('api_token').set({ revoked: 1 }).where('id', '=', tokenId).execute())
  }

  async listTokens(userId: string) {
    return this.db
      .selectFrom('api_token')
      .select(['id', 'name', 'created', 'expires_at', 'last_access'])
      .where('user_id', '=', userId)
      .where('revoked', '=', 0)
      .orderBy('created')
      .execute()
  }

  /** The viewer a token stands for; anonymous without a token; an error for a bad, expired or revoked one. */
  async viewerForToken(token: string | null): Promise<Viewer> {
    if (!token) return ANONYMOUS
    const parts = splitToken(token)
    // The token, its user and the user's memberships in one statement: every authenticated request asks.
    const rows = parts
      ? await this.db
          .selectFrom('api_token as t')
          .innerJoin('app_user as u', 'u.id', 't.user_id')
          .leftJoin('member as m', 'm.user_id', 'u.id')
          .select(['t.secret_hash', 't.expires_at', 't.revoked', 'u.id', 'u.name', 'u.sysadmin', 'u.state', 'm.organization_id', 'm.capacity'])
          .where('t.id', '=', parts.id)
          .execute()
      : []
    const row = rows[0]
    if (!parts || !row || !secretMatches(parts.secret, row.secret_hash) || row.revoked || row.state !== 'active') {
      throw new CatalogError('not_authorized', 'Access denied: the API token is not valid')
    }
    if (row.expires_at && row.expires_at < ckanNow()) throw new CatalogError('not_authorized', 'Access denied: the API token has expired')
    const orgRoles = new Map<string, string>()
    for (const m of rows) if (m.organization_id && m.capacity) orgRoles.set(m.organization_id, m.capacity)
    return {
      userId: row.id,
      userName: row.name,
      sysadmin: row.sysadmin === 1,
      orgRoles,
    }
  }

  /** Active users for user_list, filtered and ordered in the database. */
  async listUsers(opts: UserListOptions): Promise<UserTable[]> {
    const displayName = sql<string>`coalesce(nullif(fullname, ''), name)`
    let query = this.db.selectFrom('app_user').selectAll().where('state', '=', 'active')
    if (opts.q) {
      const pattern = `%${escapeLike(opts.q.toLowerCase())}%`
      query = query.where((eb) =>
        eb.or([
          eb(sql`lower(name)`, 'like', sql`${pattern} escape '!'`),
          eb(sql`lower(fullname)`, 'like', sql`${pattern} escape '!'`),
          ...(opts.searchEmail ? [eb(sql`lower(email)`, 'like', sql`${pattern} escape '!'`)] : []),
        ]),
      )
    }
    if (opts.email !== undefined) query = query.where('email', '=', opts.email)
    const ordered = opts.orderBy === 'display_name' ? query.orderBy(displayName) : query.orderBy(opts.orderBy)
    return ordered.orderBy('name').limit(opts.limit).offset(opts.offset).execute()
  }

  /** A user's Kommunen and capacities (organization id -> capacity). */
  async memberships(userId: string): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('member').select(['organization_id', 'capacity']).where('user_id', '=', userId).execute()
    return new Map(rows.map((r) => [r.organization_id, r.capacity]))
  }

  async requireUser(idOrName: string): Promise<UserTable> {
    const user = await this.findUser(idOrName)
    if (!user) throw notFound('User not found')
    return user
  }
}
