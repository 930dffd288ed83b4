import { sql, type Kysely } from 'kysely'
import { PUBLIC_DATASETS } from '../auth/viewer.js'
import type { Database } from '../db/types.js'
import { explain } from '../quality/explain.js'
import { qualityDb, type StoredExplanation } from '../quality/recorder.js'
import type { Mode } from '../quality/score.js'
import type { KommuneDatasetsT } from './schemas.js'

/**
 * One page of a Kommune's public datasets by score, lowest first (ties by id), each with the fixes its own stored
 * explanation gives (src/quality/explain.ts, as GET /dataset/{id}/quality answers them), worth most first. Read at
 * the request from the stored scores (a range scan of migration 0018's index, `limit` rows and their count; never
 * a score computed): visibility is the dataset's as of now (PUBLIC_DATASETS), as for every public listing.
 */
export async function kommuneDatasets(
  db: Kysely<Database>,
  orgId: string,
  mode: Mode,
  offset: number,
  limit: number,
): Promise<KommuneDatasetsT> {
  const scoreColumn = mode === 'portal' ? 'q.score_portal' : 'q.score_proportional'
  const base = qualityDb(db)
    .selectFrom('package_quality as q')
    .innerJoin('package as p', 'p.id', 'q.package_id')
    .where('q.owner_org', '=', orgId)
    // q.visible copies p.visible at every write (the index's range); p's own flag decides (the one rule).
    .where('q.visible', '=', 1)
    .where('p.owner_org', '=', orgId)
    .where(PUBLIC_DATASETS)
  const [countRow, rows] = await Promise.all([
    base.select(sql<number | string>`count(*)`.as('n')).executeTakeFirst(),
    base
      .select(['p.id', 'p.name', 'p.title', 'q.score_portal', 'q.score_proportional', 'q.explanation'])
      .orderBy(scoreColumn)
      .orderBy('q.package_id')
      .limit(limit)
      .offset(offset)
      .execute(),
  ])
  return {
    count: Number(countRow?.n ?? 0),
    offset,
    limit,
    mode,
    datasets: rows.map((row) => {
      const stored = JSON.parse(row.explanation) as StoredExplanation
      const de = explain(row.id, stored, '', mode, 'de')
      const en = explain(row.id, stored, '', mode, 'en')
      const english = new Map(en.fixes.map((f) => [f.id, f.text]))
      return {
        name: row.name,
        title: row.title,
        score: Number(mode === 'portal' ? row.score_portal : row.score_proportional),
        band: de.band,
        fixes: de.fixes
          .filter((f) => f.worth > 0)
          .map((f) => ({ fix_id: f.id, fix: { de: f.text, en: english.get(f.id) ?? f.text }, points: f.worth })),
      }
    }),
  }
}
