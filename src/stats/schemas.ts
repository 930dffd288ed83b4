import { Type, type Static } from '@sinclair/typebox'
import { INDICATORS } from '../quality/indicators.js'

/**
 * The response shapes of the comparison API (GET /api/stats/kommunen, /api/stats/kommunen/{name},
 * /api/stats/history). The dashboard (h12d) is built on these names: fields are only ever added, never renamed.
 *
 * Shares are fractions from 0 to 1 (four decimals), `null` when there is nothing to share out (no public
 * dataset, no URL checked). Only public datasets count (active, not private, of type dataset: the `visible`
 * flag of src/auth/viewer.ts PUBLIC_DATASETS); private datasets, drafts and deleted ones count nowhere.
 */

const Share = (description: string) =>
  Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description })

/** A count kept since the format of 2026-12: null in an aggregate stored by an older version until its next refresh. */
const Count = (description: string) =>
  Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description: `${description}; null only in figures stored by a version before this field (until the next refresh)`,
  })

export const Bands = Type.Object(
  {
    excellent: Type.Integer({ minimum: 0 }),
    good: Type.Integer({ minimum: 0 }),
    sufficient: Type.Integer({ minimum: 0 }),
    bad: Type.Integer({ minimum: 0 }),
  },
  { description: 'Public datasets per MQA band' },
)

/** The MQA indicator ids (src/quality/indicators.ts), in the order of the MQA table. */
export const INDICATOR_IDS: readonly string[] = INDICATORS.map((i) => i.id)

export const IndicatorShares = Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()]), {
  description:
    'Per MQA indicator id (keywordAvailability, ..., dateModifiedAvailability; every indicator is present): the share of the public ' +
    'datasets that earn it in full in portal mode, among those whose result is known: a link indicator (accessUrlStatusCode, ' +
    'downloadUrlStatusCode) is unknown until the link checker has checked the URLs (see indicators_unknown); null when no ' +
    'result is known (no public datasets, or no link checked yet). The heat map Kommune x indicator.',
})

export const IndicatorUnknown = Type.Record(Type.String(), Type.Integer({ minimum: 0 }), {
  description:
    'Per MQA indicator id (every indicator is present): how many scored public datasets have no known result for it ' +
    '(links not checked yet); they are left out of the share in `indicators`. 0 for the indicators that do not depend on links.',
})

export const Usage = Type.Object(
  {
    views: Type.Integer({ description: 'Views of public datasets through the Action API and the RDF endpoints' }),
    downloads: Type.Integer({ description: 'Downloads through the download redirect' }),
    harvester_visits: Type.Integer({ description: 'Visits of known harvesters to public datasets' }),
    period_days: Type.Integer({ description: 'Days counted, the day of `as_of` included' }),
  },
  { description: 'Usage of the public datasets in the last period_days days' },
)

export const Themes = Type.Record(Type.String(), Type.Integer(), {
  description:
    'Public datasets per EU data theme code (AGRI, ECON, ...); a dataset counts once under each of its themes',
})

export const KommuneStats = Type.Object(
  {
    name: Type.String({ description: 'The Kommune (organization) name' }),
    title: Type.String(),
    datasets: Type.Integer({ description: 'Public datasets' }),
    distributions: Type.Integer({ description: 'Active distributions of the public datasets' }),
    open_licence_share: Share('Share of datasets whose licence is an open one (licence vocabulary: is_open)'),
    machine_readable_share: Share(
      'Share of datasets with at least one distribution in a machine-readable format (MQA formatMediaTypeMachineInterpretable, portal mode)',
    ),
    non_proprietary_share: Share(
      'Share of datasets with at least one distribution in a non-proprietary format (MQA formatMediaTypeNonProprietary, portal mode)',
    ),
    median_age_days: Type.Union([Type.Number(), Type.Null()], {
      description:
        'Median of the whole days from the last modification (metadata_modified) to `as_of`; null without datasets',
    }),
    broken_link_share: Share(
      'Share of the checked distinct URLs (url, access_url, download_url) of the public datasets found unreachable; null when none was checked',
    ),
    checked_link_share: Share('Share of the distinct URLs of the public datasets that the link checker has checked'),
    broken_links: Count(
      'Distinct URLs (url, access_url, download_url) of the public datasets that the link checker found unreachable at their latest check',
    ),
    checked_links: Count('Distinct URLs of the public datasets that the link checker has checked'),
    score_mean_portal: Type.Union([Type.Number(), Type.Null()], {
      description: 'Mean MQA score (portal mode, max 405); null without datasets',
    }),
    score_mean_proportional: Type.Union([Type.Number(), Type.Null()], {
      description: 'Mean MQA score (proportional mode, max 405); null without datasets',
    }),
    bands: Bands,
    bands_proportional: Bands,
    themes: Themes,
    usage: Usage,
    indicators: IndicatorShares,
    indicators_unknown: IndicatorUnknown,
  },
  { description: 'One Kommune compared: its public datasets only' },
)

export const KommunenList = Type.Object({
  generated: Type.String({ description: 'When the aggregates answered were computed (ISO 8601, UTC)' }),
  as_of: Type.String({ description: 'The day (UTC, YYYY-MM-DD, the database clock) ages and usage are counted to' }),
  kommunen: Type.Array(KommuneStats),
})

export const LowestScoring = Type.Object({
  name: Type.String(),
  title: Type.String(),
  score: Type.Number({ description: 'MQA score, portal mode' }),
  band: Type.String({ enum: ['excellent', 'good', 'sufficient', 'bad'] }),
  score_proportional: Type.Number(),
})

export const TopFix = Type.Object({
  fix_id: Type.String({ description: 'Stable id of the fix (src/quality/indicators.ts)' }),
  indicator: Type.String({ description: 'The MQA indicator the fix is for' }),
  indicators: Type.Array(Type.String(), { description: 'All indicators the fix earns' }),
  fix: Type.Object({ de: Type.String(), en: Type.String() }),
  datasets: Type.Integer({ description: 'Public datasets that miss the points this fix earns' }),
  points: Type.Number({ description: 'Points the fix earns summed over those datasets (portal mode)' }),
})

export const KommuneDetail = Type.Intersect([
  KommuneStats,
  Type.Object({
    generated: Type.String(),
    as_of: Type.String(),
    lowest_scoring: Type.Array(LowestScoring, {
      description: 'The 10 lowest-scoring public datasets (portal mode; ties by name)',
    }),
    top_fixes: Type.Array(TopFix, { description: 'The fixes worth the most points across the catalog (up to 10)' }),
  }),
])

export const KommuneDatasets = Type.Object({
  count: Type.Integer({ description: "The Kommune's public scored datasets" }),
  offset: Type.Integer(),
  limit: Type.Integer(),
  mode: Type.String({ enum: ['portal', 'proportional'] }),
  datasets: Type.Array(
    Type.Object({
      name: Type.String(),
      title: Type.String(),
      score: Type.Number({ description: 'MQA score in `mode` (max 405)' }),
      band: Type.String({ enum: ['excellent', 'good', 'sufficient', 'bad'] }),
      fixes: Type.Array(
        Type.Object({
          fix_id: Type.String({ description: 'Stable id of the fix (src/quality/indicators.ts)' }),
          fix: Type.Object({ de: Type.String(), en: Type.String() }),
          points: Type.Number({ description: 'Points the fix earns this dataset in `mode`' }),
        }),
        { description: "The dataset's fixes worth points, most first (as GET /dataset/{id}/quality gives them)" },
      ),
    }),
    { description: 'Lowest score first, ties by dataset id' },
  ),
})

export const KommuneDatasetsQuery = Type.Object({
  mode: Type.Optional(
    Type.Union([Type.Literal('portal'), Type.Literal('proportional')], { description: 'Score mode (default portal)' }),
  ),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Datasets per page (at most 100)' }),
  ),
})

export const HistoryDay = Type.Object({
  date: Type.String({ description: 'YYYY-MM-DD (UTC)' }),
  datasets: Type.Integer({ description: 'Public scored datasets at the end of the day' }),
  score_mean_portal: Type.Union([Type.Number(), Type.Null()]),
  score_mean_proportional: Type.Union([Type.Number(), Type.Null()]),
  bands: Bands,
  bands_proportional: Bands,
  distributions: Type.Union([Type.Integer(), Type.Null()], { description: 'null before the first snapshot' }),
  open_licence_share: Share('null before the first snapshot'),
  machine_readable_share: Share('null before the first snapshot'),
  non_proprietary_share: Share('null before the first snapshot'),
  broken_link_share: Share('null before the first snapshot or when nothing was checked'),
  checked_link_share: Share('null before the first snapshot'),
  median_age_days: Type.Union([Type.Number(), Type.Null()]),
  broken_links: Count('null before the first snapshot'),
  checked_links: Count('null before the first snapshot'),
  themes: Type.Union([Themes, Type.Null()], {
    description: 'Public datasets per EU theme; null before the first snapshot',
  }),
  usage: Type.Union([Usage, Type.Null()], {
    description: 'Usage in the period of `usage.period_days` days ending on the day; null before the first snapshot',
  }),
  indicators: Type.Union([IndicatorShares, Type.Null()], {
    description: 'The heat map row of the day; null before the first snapshot',
  }),
  indicators_unknown: Type.Union([IndicatorUnknown, Type.Null()], { description: 'null before the first snapshot' }),
})

export const History = Type.Object({
  from: Type.String(),
  to: Type.String(),
  kommunen: Type.Array(
    Type.Object({
      name: Type.String(),
      title: Type.String(),
      days: Type.Array(HistoryDay, {
        description:
          "Every day of the range from the Kommune's first record on, oldest first; a day without a change carries the day before",
      }),
    }),
  ),
})

export const StatsError = Type.Object(
  {
    help: Type.String(),
    success: Type.Boolean(),
    error: Type.Object({ __type: Type.String(), message: Type.String() }),
  },
  { description: 'CKAN-style error' },
)

export const SORT_KEYS = [
  'name',
  'title',
  'datasets',
  'distributions',
  'open_licence_share',
  'machine_readable_share',
  'non_proprietary_share',
  'median_age_days',
  'broken_link_share',
  'checked_link_share',
  'broken_links',
  'checked_links',
  'score_mean_portal',
  'score_mean_proportional',
] as const
export type SortKey = (typeof SORT_KEYS)[number]

export const ListQuery = Type.Object({
  format: Type.Optional(
    Type.Union([Type.Literal('json'), Type.Literal('csv')], { description: 'json (default) or csv' }),
  ),
  sort: Type.Optional(
    Type.String({
      enum: [...SORT_KEYS, ...SORT_KEYS.map((k) => `${k} desc`), ...SORT_KEYS.map((k) => `${k} asc`)],
      description:
        'Field to sort by, optionally followed by " asc" / " desc" (default: name asc); ties by name; nulls last',
    }),
  ),
})

export const HistoryQuery = Type.Object({
  kommune: Type.Optional(Type.String({ maxLength: 200, description: 'Name or id of a Kommune; all when absent' })),
  from: Type.Optional(
    Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'First day (default: 30 days before `to`)' }),
  ),
  to: Type.Optional(
    Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Last day (default: today, database clock)' }),
  ),
})

export type KommuneStatsT = Static<typeof KommuneStats>
export type KommunenListT = Static<typeof KommunenList>
export type KommuneDetailT = Static<typeof KommuneDetail>
export type TopFixT = Static<typeof TopFix>
export type LowestScoringT = Static<typeof LowestScoring>
export type KommuneDatasetsT = Static<typeof KommuneDatasets>
export type HistoryT = Static<typeof History>
export type HistoryDayT = Static<typeof HistoryDay>
export type BandsT = Static<typeof Bands>

/** Maximum days of one history answer. */
export const HISTORY_MAX_DAYS = 366
/** Days of usage counted. */
export const USAGE_PERIOD_DAYS = 30
