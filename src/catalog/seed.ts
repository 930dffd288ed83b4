import type { Store } from '../db/connect.js'
import { buildPackageRecord, type PackageInput, type PackageRecord } from './package.js'
import { insertPackageRecords } from './repository.js'
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

  let done = 0
  let batch: PackageInput[] = []
  const flush = async () => {
    const inserted = await insertBatch(store, vocab, reference, batch)
    result.inserted += inserted
    result.skipped += batch.length - inserted
    done += batch.length
    batch = []
    opts.onProgress?.(done)
  }
  for (const dataset of datasets) {
    batch.push(dataset)
    if (batch.length >= batchSize) await flush()
  }
  if (batch.length) await flush()
  result.seconds = (performance.now() - started) / 1000
  return result
}

/** Inserts the datasets of one batch that are not stored yet, in one transaction; returns how many. */
async function insertBatch(store: Store, vocab: Vocabularies, reference: SeedReference, batch: PackageInput[]): Promise<number> {
  return store.db.transaction().execute(async (trx) => {
    const ids = batch.map((d) => d.id!)
    const names = batch.map((d) => d.name)
    const existing = await trx
      .selectFrom('package')
      .select(['id', 'name'])
      .where((eb) => eb.or([eb('id', 'in', ids), eb('name', 'in', names)]))
      .execute()
    const takenIds = new Set(existing.map((r) => r.id))
    const takenNames = new Set(existing.map((r) => r.name))
    const records: PackageRecord[] = []
    for (const input of batch) {
      if (takenIds.has(input.id!) || takenNames.has(input.name)) continue
      records.push(
        buildPackageRecord(input, {
          vocab,
          now: ckanNow(),
          previousRevision: 0,
          organizationTitle: input.owner_org ? reference.organizationTitles.get(input.owner_org) : undefined,
          themeTitles: (input.themeIds ?? []).map((id) => reference.themeTitles.get(id) ?? ''),
        }),
      )
    }
    await insertPackageRecords(trx, records)
    return records.length
  })
}
