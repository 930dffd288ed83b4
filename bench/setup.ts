/** Prepares the benchmark database: migrations, reference data and the seeded datasets. */
import { loadConfig } from '../src/config.js'
import { openStore } from '../src/db/connect.js'
import { migrateToLatest } from '../src/db/migrate.js'
import { CatalogService } from '../src/catalog/service.js'
import { vocabularies } from '../src/catalog/vocabularies.js'
import { seedDatasets } from '../src/catalog/seed.js'
import { formatNumber, prng, sample, type BenchDatabase, type Row, type Settings } from './lib.js'

export interface SeededCatalog {
  rows: Row[]
  /** Up to 1000 random ids of public active datasets. */
  datasetIds: string[]
  /** Number of public active datasets (what package_list pages through). */
  publicDatasets: number
}

export async function seedBenchDatabase(database: BenchDatabase, settings: Settings): Promise<SeededCatalog> {
  const config = loadConfig({ ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' })
  const store = await openStore(config.database)
  try {
    await migrateToLatest(store.db)
    const service = new CatalogService(store, vocabularies(), config)
    await service.init()

    const started = performance.now()
    let lastReport = 0
    const result = await seedDatasets(store, vocabularies(), {
      count: settings.datasets,
      seed: settings.seed,
      onProgress: (done: number) => {
        const now = performance.now()
        if (now - lastReport < 1000 && done < settings.datasets) return
        lastReport = now
        process.stderr.write(`\rseeding: ${done}/${settings.datasets}`)
      },
    })
    const seconds = (performance.now() - started) / 1000
    process.stderr.write('\n')

    const ids = (
      await store.db
        .selectFrom('package')
        .select('id')
        .where('state', '=', 'active')
        .where('private', '=', 0)
        .orderBy('id')
        .execute()
    ).map((r) => r.id)
    if (!ids.length) throw new Error('the seeder stored no public active dataset')
    const rate = result.inserted / Math.max(seconds, 0.001)
    return {
      rows: [
        {
          metric: `seedDatasets: ${formatNumber(result.inserted)} datasets`,
          value: `${formatNumber(rate)} datasets/s (${seconds.toFixed(1)} s)`,
          target: '—',
          how: 'seedDatasets in the bench process, straight into the store',
        },
      ],
      datasetIds: sample(ids, 1000, prng(settings.seed)),
      publicDatasets: ids.length,
    }
  } finally {
    await store.close()
  }
}
