import type { FastifyRequest } from 'fastify'
import { usageOf } from './counter.js'

/**
 * package_search's counting: a harvester's visit to the catalog, and the query of a search that found
 * nothing. Returns the result as it is.
 */
export function countSearch<R extends { count: number }>(request: FastifyRequest, q: string | undefined, result: R): R {
  const usage = usageOf(request)
  if (usage) {
    usage.catalogVisit(request)
    if (result.count === 0) usage.zeroResultSearch(q)
  }
  return result
}
