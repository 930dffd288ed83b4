import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/types.js'
import { PUBLIC_DATASETS } from '../auth/viewer.js'
import { explain } from '../quality/explain.js'
import { INDICATOR_BY_ID, type IndicatorId } from '../quality/indicators.js'
import { qualityDb, type StoredExplanation } from '../quality/recorder.js'
import { linksDb, urlHash } from '../links/tables.js'
import { resourceUrls } from '../links/jobs.js'
import {
  INDICATOR_IDS,
  USAGE_PERIOD_DAYS,
  type BandsT,
  type KommuneStatsT,
  type LowestScoringT,
  type TopFixT,
} from './schemas.js'

/** The stored aggregate of one Kommune (stats_kommune.body). */
export interface KommuneAggregate {
  stats: KommuneStatsT
  lowest_scoring: LowestScoringT[]
  top_fixes: TopFixT[]
}

/** Keys per IN list. */
const CHUNK = 500
const LOWEST = 10
const FIX_BY_ID = new Map([...INDICATOR_BY_ID.values()].map((i) => [i.fix.id, i.fix]))
const TOP_FIXES = 10

const share = (part: number, whole: number): number | null =>
  whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null
const round2 = (n: number) => Math.round(n * 100) / 100
const zeroBands = (): BandsT => ({ excellent: 0, good: 0, sufficient: 0, bad: 0 })
const isBand = (b: string): b is keyof BandsT => b === 'excellent' || b === 'good' || b === 'sufficient' || b === 'bad'

/** Median of numbers (sorted here); null for none. */
export function median(values: number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Whole days from the day of a CKAN timestamp to `asOf` (YYYY-MM-DD); never negative. */
export function ageDays(modified: string, asOf: string): number {
  const from = Date.parse(`${modified.slice(0, 10)}T00:00:00Z`)
  const to = Date.parse(`${asOf}T00:00:00Z`)
  if (!Number.isFinite(from) || !Number.isFinite(to)) return 0
  return Math.max(0, Math.round((to - from) / 86_400_000))
}

/** The first day of the usage period ending on `asOf`. */
export function usageFrom(asOf: string): string {
  return new Date(Date.parse(`${asOf}T00:00:00Z`) - (USAGE_PERIOD_DAYS - 1) * 86_400_000).toISOString().slice(0, 10)
}

/**
 * The aggregate of one Kommune from the catalog: its public datasets only (PUBLIC_DATASETS, the one visibility
 * rule of src/auth/viewer.ts), their stored quality scores (package_quality), the link checker's latest results
 * and the usage counts of the period ending on `asOf`. Cost: one pass over the Kommune's datasets.
 */
export async function computeKommune(
  db: Kysely<Database>,
  org: { id: string; name: string; title: string },
  asOf: string,
): Promise<KommuneAggregate> {
  const rows = await qualityDb(db)
    .selectFrom('package as p')
    .leftJoin('package_quality as q', 'q.package_id', 'p.id')
    .leftJoin('license as l', 'l.id', 'p.license_id')
    .select([
      'p.id',
      'p.name',
      'p.title',
      'p.metadata_modified',
      'l.is_open',
      'q.score_portal',
      'q.band_portal',
      'q.score_proportional',
      'q.band_proportional',
      'q.explanation',
    ])
    .where('p.owner_org', '=', org.id)
    .where(PUBLIC_DATASETS)
    .execute()

  const bands = zeroBands()
  const bandsProportional = zeroBands()
  const earned = new Map<string, number>(INDICATOR_IDS.map((id) => [id, 0]))
  // Results the link checker has not given yet (status unknown): neither earned nor missed, so outside the share.
  const unknown = new Map<string, number>(INDICATOR_IDS.map((id) => [id, 0]))
  let explained = 0
  const fixes = new Map<
    string,
    { indicator: IndicatorId; indicators: Set<IndicatorId>; datasets: number; points: number }
  >()
  const ages: number[] = []
  let open = 0
  let scored = 0
  let sumPortal = 0
  let sumProportional = 0
  const scoredRows: LowestScoringT[] = []
  for (const row of rows) {
    ages.push(ageDays(row.metadata_modified, asOf))
    if (Number(row.is_open ?? 0) === 1) open++
    if (row.explanation == null || row.score_portal == null) continue
    scored++
    const portal = Number(row.score_portal)
    const proportional = Number(row.score_proportional)
    sumPortal += portal
    sumProportional += proportional
    if (row.band_portal && isBand(row.band_portal)) bands[row.band_portal]++
    if (row.band_proportional && isBand(row.band_proportional)) bandsProportional[row.band_proportional]++
    scoredRows.push({
      name: row.name,
      title: row.title,
      score: portal,
      band: row.band_portal as LowestScoringT['band'],
      score_proportional: proportional,
    })
    let stored: StoredExplanation
    try {
      stored = JSON.parse(row.explanation) as StoredExplanation
    } catch {
      continue
    }
    explained++
    for (const r of stored.portal.indicators) {
      if (r.status === 'earned') earned.set(r.id, (earned.get(r.id) ?? 0) + 1)
      else if (r.status === 'unknown') unknown.set(r.id, (unknown.get(r.id) ?? 0) + 1)
    }
    // The fixes and their worth exactly as the dataset's own explanation gives them (src/quality/explain.ts).
    for (const fix of explain(row.id, stored, '', 'portal', 'en').fixes) {
      if (fix.worth <= 0) continue
      let agg = fixes.get(fix.id)
      if (!agg) {
        const first = fix.indicators[0] ?? 'keywordAvailability'
        fixes.set(fix.id, (agg = { indicator: first, indicators: new Set(), datasets: 0, points: 0 }))
      }
      for (const i of fix.indicators) agg.indicators.add(i)
      agg.datasets++
      agg.points += fix.worth
    }
  }
  const [distributions, themes, links, usage] = await Promise.all([
    countDistributions(db, org.id),
    themeCounts(db, org.id),
    linkShares(db, org.id),
    usageCounts(db, org.id, asOf),
  ])

  const n = rows.length
  const indicators: Record<string, number | null> = {}
  const indicatorsUnknown: Record<string, number> = {}
  for (const id of INDICATOR_IDS) {
    const u = unknown.get(id) ?? 0
    indicators[id] = share(earned.get(id) ?? 0, explained - u)
    indicatorsUnknown[id] = u
  }
  const stats: KommuneStatsT = {
    name: org.name,
    title: org.title,
    datasets: n,
    distributions,
    open_licence_share: share(open, n),
    machine_readable_share: share(earned.get('formatMediaTypeMachineInterpretable') ?? 0, scored),
    non_proprietary_share: share(earned.get('formatMediaTypeNonProprietary') ?? 0, scored),
    median_age_days: median(ages),
    broken_link_share: share(links.broken, links.checked),
    checked_link_share: share(links.checked, links.total),
    broken_links: links.broken,
    checked_links: links.checked,
    score_mean_portal: scored ? round2(sumPortal / scored) : null,
    score_mean_proportional: scored ? round2(sumProportional / scored) : null,
    bands,
    bands_proportional: bandsProportional,
    themes,
    usage,
    indicators,
    indicators_unknown: indicatorsUnknown,
  }
  const lowest = scoredRows
    .sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, LOWEST)
  const topFixes: TopFixT[] = [...fixes.entries()]
    .map(([id, f]) => {
      const text = FIX_BY_ID.get(id) ?? INDICATOR_BY_ID.get(f.indicator)!.fix
      return {
        fix_id: id,
        indicator: f.indicator,
        indicators: [...f.indicators],
        fix: { de: text.text.de, en: text.text.en },
        datasets: f.datasets,
        points: round2(f.points),
      }
    })
    .sort((a, b) => b.points - a.points || (a.fix_id < b.fix_id ? -1 : 1))
    .slice(0, TOP_FIXES)
  return { stats, lowest_scoring: lowest, top_fixes: topFixes }
}

/** The figures that change without a catalog write (link checks, usage counts), to patch a stored aggregate. */
export async function computeSide(
  db: Kysely<Database>,
  orgId: string,
  asOf: string,
): Promise<
  Pick<KommuneStatsT, 'broken_link_share' | 'checked_link_share' | 'broken_links' | 'checked_links' | 'usage'>
> {
  const [links, usage] = await Promise.all([linkShares(db, orgId), usageCounts(db, orgId, asOf)])
  return {
    broken_link_share: share(links.broken, links.checked),
    checked_link_share: share(links.checked, links.total),
    broken_links: links.broken,
    checked_links: links.checked,
    usage,
  }
}

async function countDistributions(db: Kysely<Database>, orgId: string): Promise<number> {
  const row = await db
    .selectFrom('resource as r')
    .innerJoin('package as p', 'p.id', 'r.package_id')
    .select(sql<number | string>`count(*)`.as('n'))
    .where('p.owner_org', '=', orgId)
    .where(PUBLIC_DATASETS)
    .where('r.state', '=', 'active')
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}

async function themeCounts(db: Kysely<Database>, orgId: string): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('package_theme as pt')
    .innerJoin('package as p', 'p.id', 'pt.package_id')
    .innerJoin('theme as t', 't.id', 'pt.theme_id')
    .select(['t.code', sql<number | string>`count(distinct p.id)`.as('n')])
    .where('p.owner_org', '=', orgId)
    .where(PUBLIC_DATASETS)
    .groupBy('t.code')
    .orderBy('t.code')
    .execute()
  const themes: Record<string, number> = {}
  for (const r of rows) if (r.code) themes[r.code] = Number(r.n)
  return themes
}

/**
 * The distinct URLs (url, access_url, download_url of active resources, as src/links/jobs.ts datasetUrls takes
 * them) of the Kommune's public datasets, and how many of them the link checker has checked and found broken.
 */
async function linkShares(
  db: Kysely<Database>,
  orgId: string,
): Promise<{ total: number; checked: number; broken: number }> {
  const rows = await db
    .selectFrom('resource as r')
    .innerJoin('package as p', 'p.id', 'r.package_id')
    .select(['r.url', 'r.extras'])
    .where('p.owner_org', '=', orgId)
    .where(PUBLIC_DATASETS)
    .where('r.state', '=', 'active')
    .execute()
  const hashes = new Set<string>()
  for (const row of rows) for (const url of resourceUrls(row)) hashes.add(urlHash(url))
  let checked = 0
  let broken = 0
  const list = [...hashes]
  for (let i = 0; i < list.length; i += CHUNK) {
    const found = await linksDb(db)
      .selectFrom('link_check')
      .select(['status'])
      .where('url_hash', 'in', list.slice(i, i + CHUNK))
      .execute()
    checked += found.length
    for (const f of found) if (f.status !== 'reachable') broken++
  }
  return { total: hashes.size, checked, broken }
}

async function usageCounts(db: Kysely<Database>, orgId: string, asOf: string): Promise<KommuneStatsT['usage']> {
  const rows = await linksDb(db)
    .selectFrom('usage_daily as u')
    .innerJoin('package as p', 'p.id', 'u.package_id')
    .select(['u.kind', sql<number | string>`sum(u.count)`.as('n')])
    .where('p.owner_org', '=', orgId)
    .where(PUBLIC_DATASETS)
    .where('u.day', '>=', usageFrom(asOf))
    .where('u.day', '<=', asOf)
    .groupBy('u.kind')
    .execute()
  const usage = { views: 0, downloads: 0, harvester_visits: 0, period_days: USAGE_PERIOD_DAYS }
  for (const r of rows) {
    const count = Number(r.n)
    if (r.kind === 'view_api' || r.kind === 'view_rdf') usage.views += count
    else if (r.kind === 'download') usage.downloads += count
    else if (r.kind === 'harvester_visit') usage.harvester_visits += count
  }
  return usage
}
