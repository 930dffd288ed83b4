import type { Kysely } from 'kysely'
import type { Database } from '../db/types.js'
import type { LinkHealth, LinkHealthSource } from '../quality/link-health.js'
import { linksDb, urlHash } from './tables.js'

const CHUNK = 500

/**
 * The link checker's latest results, read from `link_check` by the exact URL (sha256 of the URL as given).
 * Internal: it answers for private datasets' URLs too; public reports must keep to public datasets.
 */
export function linkHealthSource(db: Kysely<Database>): LinkHealthSource {
  return {
    lookup: (urls) => latestResults(db, urls),
    // Scores are made inside the dataset's write transaction: read through its handle (link-health.ts).
    lookupWithin: (within, urls) => latestResults(within as Kysely<Database>, urls),
  }
}

async function latestResults(db: Kysely<Database>, urls: readonly string[]): Promise<Map<string, LinkHealth>> {
  const health = new Map<string, LinkHealth>()
  const byHash = new Map<string, string[]>()
  for (const url of urls) {
    health.set(url, 'unknown')
    const hash = urlHash(url)
    const same = byHash.get(hash)
    if (same) same.push(url)
    else byHash.set(hash, [url])
  }
  const hashes = [...byHash.keys()]
  for (let i = 0; i < hashes.length; i += CHUNK) {
    const rows = await linksDb(db)
      .selectFrom('link_check')
      .select(['url_hash', 'status'])
      .where('url_hash', 'in', hashes.slice(i, i + CHUNK))
      .execute()
    for (const row of rows)
      for (const url of byHash.get(row.url_hash) ?? [])
        health.set(url, row.status === 'reachable' ? 'reachable' : 'unreachable')
  }
  return health
}
