import {
  BAND_LABEL,
  DIMENSIONS,
  INDICATOR_BY_ID,
  MAX_SCORE,
  worthText,
  type Band,
  type Dimension,
  type Fix,
  type IndicatorId,
  type Lang,
  type Level,
} from './indicators.js'
import type { StoredExplanation } from './recorder.js'
import type { IndicatorResult, Mode, Status } from './score.js'

/** The explanation of a stored score in one mode and language: what package_quality_show and GET /dataset/{id}/quality answer. */
export interface Explanation {
  id: string
  mode: Mode
  lang: Lang
  score: number
  max_score: number
  band: Band
  band_label: string
  computed_at: string
  /** The DCAT-AP.de validation at the write: passed, failed, or unchecked (drafts, writes not validated). */
  dcat_ap_compliance: string
  dimensions: Array<{ dimension: Dimension; score: number; max: number }>
  indicators: ExplainedIndicator[]
  /** The fixes of all misses, each once, worth most first. */
  fixes: ExplainedFix[]
  /** The score in the other mode. */
  other_mode: { mode: Mode; score: number; band: Band }
}

export interface ExplainedFix {
  id: string
  text: string
  /** The points the fix earns in this mode. */
  worth: number
  /** "Lizenz aus der dcat-ap.de-Liste angeben: +30 Punkte" */
  summary: string
  indicators: IndicatorId[]
}

export interface ExplainedIndicator {
  id: IndicatorId
  dimension: Dimension
  level: Level
  property: string
  label: string
  max: number
  earned: number
  missed: number
  status: Status
  /** Why the status is what it is, in words (unknown links, shares of distributions). */
  note?: string
  distributions?: { total: number; met: number; unknown: number }
  fix?: ExplainedFix
}

const round2 = (n: number) => Math.round(n * 100) / 100

const NOTES = {
  unknown: {
    de: 'Noch nicht geprüft: der Link-Checker hat diese URL noch nicht erreicht oder verfehlt; zählt bis zur Prüfung 0 Punkte',
    en: 'Not checked yet: the link checker has not reached or failed this URL yet; counts 0 points until checked',
  },
  partial: {
    de: (met: number, total: number) => `${met} von ${total} Distributionen erfüllen es`,
    en: (met: number, total: number) => `${met} of ${total} distributions meet it`,
  },
  noDistribution: { de: 'Der Datensatz hat keine Distribution', en: 'The dataset has no distribution' },
  unchecked: {
    de: 'Nicht geprüft: Entwürfe und nicht über die API geschriebene Datensätze werden nicht validiert',
    en: 'Not checked: drafts and datasets not written through the API are not validated',
  },
}

/**
 * The fix for a missed indicator: its own, unless the miss comes with a miss of an indicator whose fix also earns
 * this one (no licence at all: "give a licence from the list" earns both licence indicators).
 */
function fixFor(id: IndicatorId, missed: ReadonlySet<IndicatorId>): Fix {
  for (const other of missed) {
    if (other === id) continue
    const fix = INDICATOR_BY_ID.get(other)!.fix
    if (fix.earns.includes(id) && fix.earns.length > 1 && fix.earns[0] === other) return fix
  }
  return INDICATOR_BY_ID.get(id)!.fix
}

export function explain(
  id: string,
  stored: StoredExplanation,
  computedAt: string,
  mode: Mode,
  lang: Lang,
): Explanation {
  const result = stored[mode]
  const other: Mode = mode === 'portal' ? 'proportional' : 'portal'
  const byId = new Map<IndicatorId, IndicatorResult>(result.indicators.map((r) => [r.id, r]))
  const missedIds = new Set(
    result.indicators.filter((r) => r.status === 'missed' || r.status === 'partial').map((r) => r.id),
  )
  const fixes = new Map<string, ExplainedFix>()
  const fixOf = (fix: Fix): ExplainedFix => {
    let explained = fixes.get(fix.id)
    if (!explained) {
      const worth = round2(
        fix.earns.reduce((sum, e) => {
          const r = byId.get(e)
          return sum + (r && (r.status === 'missed' || r.status === 'partial') ? r.max - r.points : 0)
        }, 0),
      )
      explained = {
        id: fix.id,
        text: fix.text[lang],
        worth,
        summary: `${fix.text[lang]}: ${worthText(worth, lang)}`,
        indicators: fix.earns.filter((e) => missedIds.has(e)),
      }
      fixes.set(fix.id, explained)
    }
    return explained
  }
  const indicators = result.indicators.map((r): ExplainedIndicator => {
    const ind = INDICATOR_BY_ID.get(r.id)!
    const out: ExplainedIndicator = {
      id: r.id,
      dimension: ind.dimension,
      level: ind.level,
      property: ind.property,
      label: ind.label[lang],
      max: r.max,
      earned: r.points,
      missed: round2(r.max - r.points),
      status: r.status,
    }
    if (r.distributions) out.distributions = r.distributions
    if (r.distributions?.total === 0) out.note = NOTES.noDistribution[lang]
    else if (r.status === 'unknown') out.note = NOTES.unknown[lang]
    else if (r.status === 'partial' && r.distributions)
      out.note = NOTES.partial[lang](r.distributions.met, r.distributions.total)
    if (r.id === 'dcatApCompliance' && stored.compliance === 'unchecked') out.note = NOTES.unchecked[lang]
    if (r.status === 'missed' || r.status === 'partial') out.fix = fixOf(fixFor(r.id, missedIds))
    return out
  })
  const dimensions = DIMENSIONS.map((dimension) => {
    const of = indicators.filter((i) => i.dimension === dimension)
    return { dimension, score: round2(of.reduce((s, i) => s + i.earned, 0)), max: of.reduce((s, i) => s + i.max, 0) }
  })
  return {
    id,
    mode,
    lang,
    score: result.score,
    max_score: MAX_SCORE,
    band: result.band,
    band_label: BAND_LABEL[result.band][lang],
    computed_at: computedAt,
    dcat_ap_compliance: stored.compliance,
    dimensions,
    indicators,
    fixes: [...fixes.values()].sort((a, b) => b.worth - a.worth || (a.id < b.id ? -1 : 1)),
    other_mode: { mode: other, score: stored[other].score, band: stored[other].band },
  }
}
