import type { Store } from '../db/connect.js'
import { buildPackageRecord, type PackageInput, type PackageRecord } from './package.js'
import { insertPackageRecords } from './repository.js'
import { appendChange } from './change-feed.js'
import { generateDatasets, type SyntheticOrganization } from './synthetic.js'
import { ckanNow } from './time.js'
import type { Vocabularies } from './vocabularies.js'

export interface SeedOptions {
  /** Number of datasets to generate (indexes startIndex .. startIndex+count-1 of the seed). */
  count: number
  seed: number
  /** Datasets per transaction (default 1000). */
  batchSize?: number
  startIndex?: number
  /** Batches written at the same time (default: 2 on MySQL, 1 on SQLite). */
  concurrency?: number
  /** Called after each batch with the number of datasets processed so far (inserted + skipped). */
  onProgress?: (done: number) => void
}

export interface SeedResult {
  inserted: number
  /** Datasets whose id or name was already stored (the same seed seeded before). */
  skipped: number
  seconds: number
}

/** Reads what the generator needs from the store: active organizations and the theme ids by code. */
export async function loadSeedReference(store: Store): Promise<SeedReference> {
  const organizations = await store.db
    .selectFrom('organization')
    .select(['id', 'name', 'title', 'homepage', 'email', 'regional_key', 'political_geocoding_uri', 'political_geocoding_level_uri'])
    .where('state', '=', 'active')
    .execute()
  const themes = await store.db.selectFrom('theme').select(['id', 'code', 'title']).execute()
  return {
    organizations,
    themeIds: new Map(themes.map((t) => [t.code.toUpperCase(), t.id])),
    organizationTitles: new Map(organizations.map((o) => [o.id, o.title])),
    themeTitles: new Map(themes.map((t) => [t.id, t.title])),
  }
}

export interface SeedReference {
  organizations: SyntheticOrganization[]
  /** Theme code -> id. */
  themeIds: Map<string, string>
  /** For the full-text index, as CatalogService.recordFor does. */
  organizationTitles: Map<string, string>
  themeTitles: Map<string, string>
}

/**
 * Loads `count` synthetic datasets of `seed` into the store, in batches of one transaction each. Never
 * deletes or updates: datasets whose id or name already exists are skipped, so seeding the same seed again
 * adds nothing and another seed adds `count` more.
 */
export async function seedDatasets(store: Store, vocab: Vocabularies, opts: SeedOptions): Promise<SeedResult> {
  const started = performance.now()
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? 1000))
  if (!Number.isSafeInteger(opts.count) || opts.count < 0) throw new RangeError(`count must be a non-negative integer, got ${opts.count}`)
  const result: SeedResult = { inserted: 0, skipped: 0, seconds: 0 }
  if (opts.count === 0) return result

  const reference = await loadSeedReference(store)
  const { organizations, themeIds } = reference
  if (organizations.length === 0) {
    throw new Error('no active organizations in the database: run migrations and the reference data sync first')
  }
  const datasets = generateDatasets({
    count: opts.count,
    seed: opts.seed,
    startIndex: opts.startIndex,
    vocab,
    organizations,
    themeIds,
  })

  // Pipelined: while batches are being written (on MySQL two transactions at a time, on separate
  // connections), the next batch is generated and built, yielding to the event loop every few datasets so
  // that the running transactions keep going.
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? (store.dialect === 'mysql' ? 2 : 1)))
  let done = 0
  const running = new Set<Promise<void>>()
  const flush = async (batch: PackageInput[]) => {
    const fresh = await newDatasets(store, batch)
    const records: PackageRecord[] = []
    for (const input of fresh) {
      records.push(recordOf(input, vocab, reference))
      if (records.length % YIELD_EVERY === 0) await yieldToEventLoop()
    }
    while (running.size >= concurrency) await Promise.race(running)
    const insert = insertWithRetry(store, records).then(() => {
      result.inserted += records.length
      result.skipped += batch.length - records.length
      done += batch.length
      opts.onProgress?.(done)
    })
    const tracked = insert.finally(() => running.delete(tracked))
    tracked.catch(() => {}) // awaited below; keeps an early failure from being reported as unhandled
    running.add(tracked)
  }
  let batch: PackageInput[] = []
  let generated = 0
  for (const dataset of datasets) {
    batch.push(dataset)
    if (++generated % YIELD_EVERY === 0) await yieldToEventLoop()
    if (batch.length >= batchSize) {
      await flush(batch)
      batch = []
    }
  }
  if (batch.length) await flush(batch)
  await Promise.all(running)
  result.seconds = (performance.now() - started) / 1000
  return result
}

const YIELD_EVERY = 50

/** One batch in one transaction; a batch that lost a deadlock (MySQL, concurrent batches) is retried. */
async function insertWithRetry(store: Store, records: PackageRecord[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await store.db.transaction().execute(async (trx) => {
        await insertPackageRecords(trx, records)
        // Every running server applies the new datasets within one poll of the change feed (a whole batch:
        // reloading everything is cheaper than a thousand datasets one by one).
        await appendChange(trx, { kind: 'all' }).execute()
      })
      return
    } catch (err) {
      const code = (err as { code?: string }).code
      if (attempt >= 5 || (code !== 'ER_LOCK_DEADLOCK' && code !== 'ER_LOCK_WAIT_TIMEOUT')) throw err
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The datasets of a batch whose id and name are not stored yet (seeding a seed again skips them). */
async function newDatasets(store: Store, batch: PackageInput[]): Promise<PackageInput[]> {
  // Two index lookups rather than one OR, which MySQL may answer with a scan.
  const [byId, byName] = await Promise.all([
    store.db.selectFrom('package').select('id').where('id', 'in', batch.map((d) => d.id!)).execute(),
    store.db.selectFrom('package').select('name').where('name', 'in', batch.map((d) => d.name)).execute(),
  ])
  if (byId.length === 0 && byName.length === 0) return batch
  const takenIds = new Set(byId.map((r) => r.id))
  const takenNames = new Set(byName.map((r) => r.name))
  return batch.filter((d) => !takenIds.has(d.id!) && !takenNames.has(d.name))
}

/** As CatalogService.recordFor: with the organization and theme titles the full-text index needs. */
function recordOf(input: PackageInput, vocab: Vocabularies, reference: SeedReference): PackageRecord {
  return buildPackageRecord(input, {
    vocab,
    now: ckanNow(),
    previousRevision: 0,
    organizationTitle: input.owner_org ? reference.organizationTitles.get(input.owner_org) : undefined,
    themeTitles: (input.themeIds ?? []).map((id) => reference.themeTitles.get(id) ?? ''),
  })
}
