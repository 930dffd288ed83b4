import type { AppConfig } from '../config.js'
import { openStore } from '../db/connect.js'
import { migrateToLatest } from '../db/migrate.js'
import { CatalogService } from '../catalog/service.js'
import { vocabularies } from '../catalog/vocabularies.js'
import { seedDatasets } from '../catalog/seed.js'

export async function seedCatalog(config: AppConfig, count: number, seed: number, onProgress: (done: number) => void) {
  const store = await openStore(config.database)
  try {
    await migrateToLatest(store.db)
    const service = new CatalogService(store, vocabularies(), config)
    await service.init()
    return await seedDatasets(store, vocabularies(), { count, seed, onProgress })
  } finally {
    await store.close()
  }
}
