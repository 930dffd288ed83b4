import type { Static, TObject, TSchema } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AppConfig } from '../config.js'
import type { CatalogService } from '../catalog/service.js'
import type { Viewer } from '../auth/viewer.js'
import type { SearchService } from '../search/search.js'
import type { UserService } from '../auth/users.js'
import type { PackageInput } from '../catalog/package.js'

/** What an action handler may use: the domain service, the caller and (for headers) the HTTP exchange. */
export interface ActionContext {
  service: CatalogService
  search: SearchService
  users: UserService
  config: AppConfig
  /** The DCAT-AP.de rules a dataset write must meet: findings that block it (violations). */
  datasetRules?: (input: PackageInput) => Promise<unknown[]>
  viewer: Viewer
  request: FastifyRequest
  reply: FastifyReply
}

/**
 * One CKAN verb: its input schema (validation, types and OpenAPI from one TypeBox schema), its
 * authorization rule and its handler, as CKAN's logic/action + logic/auth pair.
 */
export interface ActionDefinition<S extends TObject = TObject> {
  name: string
  /** CKAN's side_effect_free: callable by GET; all others need POST. */
  sideEffectFree: boolean
  summary: string
  description: string
  tags: string[]
  input: S
  /** Schema of `result` in the success envelope (documentation; responses are serialized as they are). */
  result: TSchema
  /** Throws a not_authorized CatalogError when the caller may not run the action. */
  authorize?: (ctx: ActionContext, input: Static<S>) => void | Promise<void>
  handler: (ctx: ActionContext, input: Static<S>) => Promise<unknown>
  /** How schema violations are reported: CKAN's field map (409), or package_search's Search Query Error (400). */
  inputErrors?: 'validation' | 'search'
}

export function defineAction<S extends TObject>(def: ActionDefinition<S>): ActionDefinition<S> {
  return def
}
