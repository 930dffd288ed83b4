import type { Kysely } from 'kysely'

/**
 * What the link checker last found of a URL: reachable (2xx/3xx after redirects), unreachable, or unknown (not
 * checked yet). Unknown is shown as unknown, never as failed: it earns no points, and the explanation says so.
 */
export type LinkHealth = 'reachable' | 'unreachable' | 'unknown'

/** Where scoring reads link health from (the link checker provides a database-backed source). */
export interface LinkHealthSource {
  /** The health of each URL asked for; a URL missing from the answer counts as unknown. */
  lookup(urls: readonly string[]): Promise<Map<string, LinkHealth>>
  /**
   * Optional: the same lookup through the database handle of the dataset's write transaction. Scores are made
   * inside that transaction, and on SQLite the transaction holds the one connection, so a source that reads the
   * database must offer this (a query on another handle would wait for the transaction that waits for it).
   * When absent, `lookup` is called: then it must not use the catalog's database.
   */
  lookupWithin?(db: Kysely<any>, urls: readonly string[]): Promise<Map<string, LinkHealth>>
}

/** The default until a link checker is wired in: every URL unknown. */
export const unknownLinkHealth: LinkHealthSource = {
  async lookup(urls) {
    return new Map(urls.map((u) => [u, 'unknown' as const]))
  },
}
