import { sql } from 'kysely'
import type { Store } from '../db/connect.js'
import type { CatalogService } from '../catalog/service.js'
import { linksDb } from '../links/tables.js'
import { USAGE_KINDS, type UsageKind } from './counter.js'

export type KindCounts = Record<UsageKind, number>

export interface UsageReport {
  from: string
  to: string
  days: number
  organization: string | null
  totals: KindCounts
  per_day: Array<{ day: string } & KindCounts>
  datasets: Array<{ id: string; name: string; title: string; organization: string | null; total: number } & KindCounts>
  kommunen: Array<{ name: string; title: string; total: number } & KindCounts>
  catalog_harvester_visits: number
  zero_result_searches: Array<{ query: string; count: number }>
}

/** Datasets and searches listed at most. */
export const REPORT_TOP = 20
/** The default privacy floor of searches without results (config USAGE_QUERY_MIN_COUNT). */
export const DEFAULT_QUERY_MIN_COUNT = 3
/** Longer query texts are never reported (long texts are the ones most likely to say who searched). */
export const REPORTED_QUERY_MAX_LENGTH = 100

const zero = (): KindCounts => ({ view_api: 0, view_rdf: 0, download: 0, harvester_visit: 0 })
const isKind = (kind: string): kind is UsageKind => (USAGE_KINDS as readonly string[]).includes(kind)

/**
 * The usage of the last `days` days (UTC, today included), of the whole catalog or of one Kommune: per day,
 * per dataset (the most used), per Kommune, and the most frequent searches that found nothing. Only
 * datasets public now (visible = 1) are in it, whatever they were when they were counted.
 */
export async function usageReport(
  store: Store,
  service: CatalogService,
  options: { orgId?: string; days: number; now?: number; queryMinCount?: number },
): Promise<UsageReport> {
  const db = linksDb(store.db)
  const now = options.now ?? Date.now()
  const to = new Date(now).toISOString().slice(0, 10)
  const from = new Date(now - (options.days - 1) * 86_400_000).toISOString().slice(0, 10)
  const org = options.orgId ? service.reference.organization(options.orgId) : undefined

  const visibleRows = () => {
    let q = db
      .selectFrom('usage_daily as u')
      .innerJoin('package as p', 'p.id', 'u.package_id')
      .where('p.visible', '=', 1)
      .where('u.day', '>=', from)
      .where('u.day', '<=', to)
    if (options.orgId) q = q.where('u.owner_org', '=', options.orgId)
    return q
  }
  const total = sql<string | number>`sum(u.count)`

  const byDay = await visibleRows()
    .select(['u.day', 'u.kind', total.as('n')])
    .groupBy(['u.day', 'u.kind'])
    .orderBy('u.day')
    .execute()
  const totals = zero()
  const days = new Map<string, KindCounts>()
  for (const row of byDay) {
    if (!isKind(row.kind)) continue
    const n = Number(row.n)
    totals[row.kind] += n
    let day = days.get(row.day)
    if (!day) days.set(row.day, (day = zero()))
    day[row.kind] += n
  }

  const top = await visibleRows()
    .select(['u.package_id', total.as('n')])
    .groupBy('u.package_id')
    .orderBy(sql`sum(u.count)`, 'desc')
    .orderBy('u.package_id')
    .limit(REPORT_TOP)
    .execute()
  const topIds = top.map((t) => t.package_id)
  const datasets: UsageReport['datasets'] = []
  if (topIds.length) {
    const split = await visibleRows()
      .select(['u.package_id', 'u.kind', total.as('n')])
      .where('u.package_id', 'in', topIds)
      .groupBy(['u.package_id', 'u.kind'])
      .execute()
    const names = await store.db
      .selectFrom('package')
      .select(['id', 'name', 'title', 'owner_org'])
      .where('id', 'in', topIds)
      .execute()
    const byId = new Map(names.map((n) => [n.id, n]))
    for (const t of top) {
      const p = byId.get(t.package_id)
      if (!p) continue
      const counts = zero()
      for (const s of split) if (s.package_id === t.package_id && isKind(s.kind)) counts[s.kind] += Number(s.n)
      datasets.push({
        id: p.id,
        name: p.name,
        title: p.title,
        organization: p.owner_org ? (service.reference.organization(p.owner_org)?.name ?? null) : null,
        total: Number(t.n),
        ...counts,
      })
    }
  }

  const perOrg = await visibleRows()
    .select(['u.owner_org', 'u.kind', total.as('n')])
    .groupBy(['u.owner_org', 'u.kind'])
    .execute()
  const orgs = new Map<string, KindCounts>()
  for (const row of perOrg) {
    if (!isKind(row.kind) || !row.owner_org) continue
    let counts = orgs.get(row.owner_org)
    if (!counts) orgs.set(row.owner_org, (counts = zero()))
    counts[row.kind] += Number(row.n)
  }
  const kommunen: UsageReport['kommunen'] = []
  for (const [id, counts] of orgs) {
    const o = service.reference.organization(id)
    if (!o) continue
    kommunen.push({
      name: o.name,
      title: o.title,
      total: counts.view_api + counts.view_rdf + counts.download + counts.harvester_visit,
      ...counts,
    })
  }
  kommunen.sort((a, b) => b.total - a.total || (a.name < b.name ? -1 : 1))

  let catalogVisits = db
    .selectFrom('usage_daily as u')
    .select(total.as('n'))
    .where('u.package_id', '=', '')
    .where('u.kind', '=', 'harvester_visit')
    .where('u.day', '>=', from)
    .where('u.day', '<=', to)
  if (options.orgId) catalogVisits = catalogVisits.where('u.owner_org', '=', options.orgId)
  const catalog = await catalogVisits.executeTakeFirst()

  // Privacy: a query text appears only once it was searched at least queryMinCount times in the window, and only
  // when it is short (REPORTED_QUERY_MAX_LENGTH characters).
  const minCount = Math.max(1, options.queryMinCount ?? DEFAULT_QUERY_MIN_COUNT)
  const length = store.dialect === 'mysql' ? sql`char_length(z.query)` : sql`length(z.query)`
  const searches = await db
    .selectFrom('usage_zero_result_search as z')
    .select(['z.query', sql<string | number>`sum(z.count)`.as('n')])
    .where('z.day', '>=', from)
    .where('z.day', '<=', to)
    .where(sql<boolean>`${length} <= ${REPORTED_QUERY_MAX_LENGTH}`)
    .groupBy(['z.query_hash', 'z.query'])
    .having(sql<boolean>`sum(z.count) >= ${minCount}`)
    .orderBy(sql`sum(z.count)`, 'desc')
    .orderBy('z.query')
    .limit(REPORT_TOP)
    .execute()

  return {
    from,
    to,
    days: options.days,
    organization: org?.name ?? null,
    totals,
    per_day: [...days].map(([day, counts]) => ({ day, ...counts })),
    datasets,
    kommunen,
    catalog_harvester_visits: Number(catalog?.n ?? 0),
    zero_result_searches: searches.map((s) => ({ query: s.query, count: Number(s.n) })),
  }
}
