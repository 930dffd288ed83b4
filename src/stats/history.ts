import type { Kysely } from 'kysely'
import type { OrganizationTable } from '../db/types.js'
import type { QualityHistoryOrgTable } from '../quality/recorder.js'
import type { SnapshotBody, StatsKommuneDayTable } from './aggregates.js'
import type { BandsT, HistoryDayT, HistoryT } from './schemas.js'

const DAY_MS = 86_400_000
const dayAfter = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10)

/** Whole days from `from` to `to`, both included (0 or less when `to` is before `from`). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1
}

/** A real calendar day in YYYY-MM-DD form. */
export function isDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false
  const t = Date.parse(`${text}T00:00:00Z`)
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === text
}

const bandsOf = (row: QualityHistoryOrgTable | undefined, mode: 'portal' | 'proportional'): BandsT => ({
  excellent: Number(row?.[`${mode}_excellent`] ?? 0),
  good: Number(row?.[`${mode}_good`] ?? 0),
  sufficient: Number(row?.[`${mode}_sufficient`] ?? 0),
  bad: Number(row?.[`${mode}_bad`] ?? 0),
})

/**
 * Daily figures per Kommune from `from` to `to`: the datasets, score means and band counts from the quality
 * recorder's per-Kommune day rows (quality_history_org, kept by every write), the other figures from the daily
 * snapshots (stats_kommune_day). A day without a row carries the newest earlier one (as quality_history_org
 * itself defines); days before the Kommune's first row of either kind are left out. Two queries whatever the
 * number of Kommunen (one per table, run together): the rows of the range plus each Kommune's newest row before
 * it, at most one row per Kommune and day of the range plus one per Kommune.
 */
export async function history(
  db: Kysely<any>,
  orgs: readonly OrganizationTable[],
  from: string,
  to: string,
): Promise<HistoryT> {
  const ids = orgs.map((o) => o.id)
  // One Kommune: its rows only; all: every row of the range (the Kommunen not asked for are dropped below).
  const one = orgs.length === 1
  const [quality, snaps] = await Promise.all([
    rowsOfRange<QualityHistoryOrgTable>(db, 'quality_history_org', one ? ids : null, from, to),
    rowsOfRange<StatsKommuneDayTable>(db, 'stats_kommune_day', one ? ids : null, from, to),
  ])
  const qualityOf = new Map<string, QualityHistoryOrgTable[]>()
  for (const r of quality) (qualityOf.get(r.owner_org) ?? qualityOf.set(r.owner_org, []).get(r.owner_org)!).push(r)
  const snapsOf = new Map<string, Array<{ day: string; body: string }>>()
  for (const r of snaps) (snapsOf.get(r.owner_org) ?? snapsOf.set(r.owner_org, []).get(r.owner_org)!).push(r)
  const result: HistoryT = { from, to, kommunen: [] }
  for (const org of orgs) {
    const rowsQ = qualityOf.get(org.id) ?? []
    const rowsS = snapsOf.get(org.id) ?? []
    const qualityBefore = rowsQ.find((r) => r.day < from)
    const snapBefore = rowsS.find((r) => r.day < from)
    const qualityByDay = new Map(rowsQ.filter((r) => r.day >= from).map((r) => [r.day, r]))
    const snapByDay = new Map(
      rowsS.filter((r) => r.day >= from).map((r) => [r.day, JSON.parse(r.body) as SnapshotBody]),
    )
    let qualityNow = qualityBefore
    let snapNow: SnapshotBody | undefined = snapBefore ? (JSON.parse(snapBefore.body) as SnapshotBody) : undefined
    const days: HistoryDayT[] = []
    for (let day = from; day <= to; day = dayAfter(day)) {
      qualityNow = qualityByDay.get(day) ?? qualityNow
      snapNow = snapByDay.get(day) ?? snapNow
      if (!qualityNow && !snapNow) continue
      const count = Number(qualityNow?.dataset_count ?? 0)
      days.push({
        date: day,
        datasets: count,
        score_mean_portal: count > 0 ? Number(qualityNow!.mean_portal) : null,
        score_mean_proportional: count > 0 ? Number(qualityNow!.mean_proportional) : null,
        bands: bandsOf(qualityNow, 'portal'),
        bands_proportional: bandsOf(qualityNow, 'proportional'),
        distributions: snapNow?.distributions ?? null,
        open_licence_share: snapNow?.open_licence_share ?? null,
        machine_readable_share: snapNow?.machine_readable_share ?? null,
        non_proprietary_share: snapNow?.non_proprietary_share ?? null,
        broken_link_share: snapNow?.broken_link_share ?? null,
        checked_link_share: snapNow?.checked_link_share ?? null,
        median_age_days: snapNow?.median_age_days ?? null,
        broken_links: snapNow?.broken_links ?? null,
        checked_links: snapNow?.checked_links ?? null,
        themes: snapNow?.themes ?? null,
        usage: snapNow?.usage ?? null,
        indicators: snapNow?.indicators ?? null,
        indicators_unknown: snapNow?.indicators_unknown ?? null,
      })
    }
    result.kommunen.push({ name: org.name, title: org.title, days })
  }
  return result
}

/**
 * A per-Kommune day table's rows from `from` to `to`, plus each Kommune's newest row before `from` (the figures
 * carried into the range's first days); only the Kommunen `ids` when given.
 */
async function rowsOfRange<Row>(
  db: Kysely<any>,
  table: 'quality_history_org' | 'stats_kommune_day',
  ids: string[] | null,
  from: string,
  to: string,
): Promise<Row[]> {
  return (await db
    .selectFrom(`${table} as h`)
    .selectAll('h')
    .$if(ids !== null, (qb) => qb.where('h.owner_org', 'in', ids!))
    .where('h.day', '<=', to)
    .where((eb) =>
      eb.or([
        eb('h.day', '>=', from),
        eb(
          'h.day',
          '=',
          eb
            .selectFrom(`${table} as b`)
            .select((e) => e.fn.max('b.day').as('d'))
            .whereRef('b.owner_org', '=', 'h.owner_org')
            .where('b.day', '<', from),
        ),
      ]),
    )
    .orderBy('h.day')
    .execute()) as Row[]
}
