import { sql } from 'kysely'
import type { CatalogService } from '../catalog/service.js'
import { qualityDb, type StoredExplanation } from './recorder.js'
import type { Compliance } from './compliance.js'
import type { PackageDict } from '../dcat/mapping.js'
import { ckanNow } from '../catalog/time.js'

/** Datasets per transaction of a backfill. */
const BATCH = 200

/**
 * Scores the datasets that have no stored score yet (written before scores existed, or stored past the service,
 * as the seed command does), BATCH per transaction, through the same recorder a write uses (history rows and the
 * Kommunen's rows included). No validation runs: compliance is `unchecked` (the explanation says so) until the
 * dataset's next write through the API. Returns the number scored. `onProgress` is told after each batch.
 */
export async function scoreUnscored(service: CatalogService, onProgress?: (done: number) => void): Promise<number> {
  let after = ''
  let done = 0
  for (;;) {
    const rows = await service.db
      .selectFrom('package as p')
      .select('p.id')
      .where('p.id', '>', after)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('package_quality' as never)
              .select(sql.lit(1).as('one'))
              .where(sql`package_id`, '=', sql.ref('p.id')),
          ),
        ),
      )
      .orderBy('p.id')
      .limit(BATCH)
      .execute()
    if (rows.length === 0) return done
    after = rows.at(-1)!.id
    await writeScores(
      service,
      rows.map((r) => r.id),
    )
    done += rows.length
    onProgress?.(done)
  }
}

/**
 * Scores some datasets again as they are stored, keeping each one's compliance: for the link checker, whose new
 * results change the accessibility indicators without a write of the dataset (call it after a check run with
 * the datasets whose URLs changed health). One transaction.
 */
export async function rescoreDatasets(service: CatalogService, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += BATCH) await writeScores(service, ids.slice(i, i + BATCH))
}

async function writeScores(service: CatalogService, ids: string[]): Promise<void> {
  const dicts = (await service.packageDicts(ids, sql`1 = 1`)) as PackageDict[]
  const rows = await service.db
    .selectFrom('package')
    .select(['id', 'owner_org', 'visible'])
    .where('id', 'in', ids)
    .execute()
  const byId = new Map(rows.map((r) => [r.id, r]))
  await service.db.transaction().execute(async (trx) => {
    for (const dict of dicts) {
      const row = byId.get(dict.id)
      if (!row) continue
      const previous = await qualityDb(trx)
        .selectFrom('package_quality')
        .select('explanation')
        .where('package_id', '=', dict.id)
        .executeTakeFirst()
      const compliance: Compliance = previous
        ? (JSON.parse(previous.explanation) as StoredExplanation).compliance
        : 'unchecked'
      await service.quality.recordWrite(trx, dict, {
        id: row.id,
        owner_org: row.owner_org,
        visible: row.visible,
        now: ckanNow(),
        compliance,
      })
    }
  })
}
