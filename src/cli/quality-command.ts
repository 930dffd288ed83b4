import type { AppConfig } from '../config.js'
import { openStore } from '../db/connect.js'
import { migrateToLatest } from '../db/migrate.js'
import { CatalogService } from '../catalog/service.js'
import { vocabularies } from '../catalog/vocabularies.js'
import { scoreUnscored } from '../quality/backfill.js'

export const QUALITY_USAGE = 'usage: godonu quality backfill'

export class QualityUsageError extends Error {}

/**
 * `godonu quality backfill`: scores every dataset that has no stored MQA score (written before migration 0010,
 * or seeded past the service), in batches of quality/backfill.ts BATCH, one transaction each, with the change
 * recorded in the change feed (running servers take the scores up within one poll). Idempotent: a second run
 * scores nothing; safe beside a running service (a dataset written meanwhile keeps the write's score). Writes a
 * progress line per batch and a summary. Returns the exit code.
 */
export async function qualityCommand(
  config: AppConfig,
  args: string[],
  write: (line: string) => void,
): Promise<number> {
  if (args.length !== 1 || args[0] !== 'backfill') throw new QualityUsageError(QUALITY_USAGE)
  const store = await openStore(config.database)
  try {
    await migrateToLatest(store.db)
    const service = new CatalogService(store, vocabularies(), config)
    await service.init()
    const scored = await scoreUnscored(service, (done) => write(`scored ${done} datasets`))
    write(`backfill done: ${scored} datasets without a score were scored`)
    return 0
  } finally {
    await store.close()
  }
}
