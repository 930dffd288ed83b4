import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type * as RDF from '@rdfjs/types'
import { CATALOG_DIR, type Vocabularies } from '../catalog/vocabularies.js'
import { NS, VOCAB } from '../dcat/namespaces.js'
import { bandOf, INDICATORS, type Band, type IndicatorId } from './indicators.js'
import type { Compliance } from './compliance.js'
import type { LinkHealth } from './link-health.js'

/**
 * MQA scoring of one dataset, on the RDF the DCAT export makes of it (datasetToQuads): what data.europa.eu
 * would harvest and judge. Two modes:
 *  - portal: as the EU portal scores, the distribution with the most distribution-level points counts;
 *  - proportional: each distribution-level indicator earns its points times the share of distributions meeting it.
 * Dataset-level indicators count alike in both. A dataset without distributions earns no distribution points.
 */

export type Mode = 'portal' | 'proportional'
export const MODES: readonly Mode[] = ['portal', 'proportional']

/** What one distribution offers, as the export writes it. */
export interface DistributionFacts {
  accessUrls: string[]
  downloadUrls: string[]
  formats: string[]
  mediaTypes: string[]
  licences: string[]
  rights: boolean
  byteSize: boolean
  issued: boolean
  modified: boolean
}

export interface DatasetFacts {
  keyword: boolean
  theme: boolean
  spatial: boolean
  temporal: boolean
  accessRights: string[]
  contactPoint: boolean
  publisher: boolean
  issued: boolean
  modified: boolean
  distributions: DistributionFacts[]
}

export type Status = 'earned' | 'partial' | 'missed' | 'unknown'

export interface IndicatorResult {
  id: IndicatorId
  max: number
  /** Points earned in this mode (two decimals at most). */
  points: number
  status: Status
  /** Distribution-level: how many distributions meet it, and of those that do not, how many are unknown (links). */
  distributions?: { total: number; met: number; unknown: number }
}

export interface ModeResult {
  score: number
  band: Band
  indicators: IndicatorResult[]
}

export interface QualityResult {
  portal: ModeResult
  proportional: ModeResult
  compliance: Compliance
}

const P = {
  type: NS.rdf + 'type',
  Dataset: NS.dcat + 'Dataset',
  distribution: NS.dcat + 'distribution',
  keyword: NS.dcat + 'keyword',
  theme: NS.dcat + 'theme',
  spatial: NS.dct + 'spatial',
  temporal: NS.dct + 'temporal',
  accessRights: NS.dct + 'accessRights',
  contactPoint: NS.dcat + 'contactPoint',
  publisher: NS.dct + 'publisher',
  issued: NS.dct + 'issued',
  modified: NS.dct + 'modified',
  accessURL: NS.dcat + 'accessURL',
  downloadURL: NS.dcat + 'downloadURL',
  format: NS.dct + 'format',
  mediaType: NS.dcat + 'mediaType',
  license: NS.dct + 'license',
  rights: NS.dct + 'rights',
  byteSize: NS.dcat + 'byteSize',
} as const

const ACCESS_RIGHT_BASE = 'http://publications.europa.eu/resource/authority/access-right/'

let accessRightUris: Set<string> | undefined
/** The EU access-right URIs of catalog/vocabularies/access-rights.json. */
function accessRights(): Set<string> {
  accessRightUris ??= new Set(
    (
      JSON.parse(readFileSync(join(CATALOG_DIR, 'vocabularies', 'access-rights.json'), 'utf8')) as Array<{
        uri: string
      }>
    ).map((a) => a.uri),
  )
  return accessRightUris
}

/** The facts of the dataset described by `quads` (the export of one dataset). */
export function factsFromQuads(quads: readonly RDF.Quad[]): DatasetFacts {
  const bySubject = new Map<string, Map<string, RDF.Term[]>>()
  let datasetKey: string | undefined
  for (const q of quads) {
    const key = `${q.subject.termType}:${q.subject.value}`
    let props = bySubject.get(key)
    if (!props) bySubject.set(key, (props = new Map()))
    const list = props.get(q.predicate.value)
    if (list) list.push(q.object)
    else props.set(q.predicate.value, [q.object])
    if (datasetKey === undefined && q.predicate.value === P.type && q.object.value === P.Dataset) datasetKey = key
  }
  const ds = datasetKey ? bySubject.get(datasetKey)! : new Map<string, RDF.Term[]>()
  const has = (props: Map<string, RDF.Term[]>, p: string) => (props.get(p)?.length ?? 0) > 0
  const values = (props: Map<string, RDF.Term[]>, p: string) => (props.get(p) ?? []).map((t) => t.value)
  const iris = (props: Map<string, RDF.Term[]>, p: string) =>
    (props.get(p) ?? []).filter((t) => t.termType === 'NamedNode').map((t) => t.value)
  const distributions: DistributionFacts[] = []
  for (const node of ds.get(P.distribution) ?? []) {
    const d = bySubject.get(`${node.termType}:${node.value}`) ?? new Map<string, RDF.Term[]>()
    distributions.push({
      accessUrls: iris(d, P.accessURL),
      downloadUrls: iris(d, P.downloadURL),
      formats: values(d, P.format),
      mediaTypes: values(d, P.mediaType),
      licences: values(d, P.license),
      rights: has(d, P.rights),
      byteSize: has(d, P.byteSize),
      issued: has(d, P.issued),
      modified: has(d, P.modified),
    })
  }
  return {
    keyword: has(ds, P.keyword),
    theme: has(ds, P.theme),
    spatial: has(ds, P.spatial),
    temporal: has(ds, P.temporal),
    accessRights: values(ds, P.accessRights),
    contactPoint: has(ds, P.contactPoint),
    publisher: has(ds, P.publisher),
    issued: has(ds, P.issued),
    modified: has(ds, P.modified),
    distributions,
  }
}

/** Every URL whose health the scoring needs (access and download URLs of all distributions). */
export function linkUrls(facts: DatasetFacts): string[] {
  const urls = new Set<string>()
  for (const d of facts.distributions) for (const u of [...d.accessUrls, ...d.downloadUrls]) urls.add(u)
  return [...urls]
}

/** One distribution-level indicator on one distribution: met, not met, or unknown (an unchecked link). */
type Verdict = 'yes' | 'no' | 'unknown'

function linkVerdict(urls: string[], health: ReadonlyMap<string, LinkHealth>): Verdict {
  if (urls.length === 0) return 'no'
  let unknown = false
  for (const u of urls) {
    const h = health.get(u) ?? 'unknown'
    if (h === 'reachable') return 'yes'
    if (h === 'unknown') unknown = true
  }
  return unknown ? 'unknown' : 'no'
}

const IANA_BASES = [VOCAB.ianaMediaTypes, VOCAB.ianaMediaTypesHttp]

function distributionVerdicts(
  d: DistributionFacts,
  vocab: Vocabularies,
  health: ReadonlyMap<string, LinkHealth>,
): Map<IndicatorId, Verdict> {
  const fileTypes = d.formats.map((f) => vocab.fileTypes.byUriExact(f)).filter((t) => t !== undefined)
  const ianaKnown = d.mediaTypes.some((m) => {
    const base = IANA_BASES.find((b) => m.startsWith(b))
    return base !== undefined && vocab.mediaTypeToUri(m.slice(base.length)).startsWith(VOCAB.ianaMediaTypes)
  })
  // A media type that names an EU file type counts for the format flags when the format does not.
  const viaMediaType = d.mediaTypes
    .map((m) => IANA_BASES.reduce((v, b) => (v.startsWith(b) ? v.slice(b.length) : v), m))
    .map((m) => vocab.fileTypes.find(m))
    .filter((t) => t !== undefined)
  const types = [...fileTypes, ...viaMediaType]
  const yes = (b: boolean): Verdict => (b ? 'yes' : 'no')
  return new Map<IndicatorId, Verdict>([
    ['accessUrlStatusCode', linkVerdict(d.accessUrls, health)],
    ['downloadUrlAvailability', yes(d.downloadUrls.length > 0)],
    ['downloadUrlStatusCode', linkVerdict(d.downloadUrls, health)],
    ['formatAvailability', yes(d.formats.length > 0)],
    ['mediaTypeAvailability', yes(d.mediaTypes.length > 0)],
    ['formatMediaTypeVocabularyAlignment', yes(fileTypes.length > 0 || ianaKnown)],
    ['formatMediaTypeNonProprietary', yes(types.some((t) => t.non_proprietary))],
    ['formatMediaTypeMachineInterpretable', yes(types.some((t) => t.machine_readable))],
    ['licenceAvailability', yes(d.licences.length > 0)],
    ['knownLicence', yes(d.licences.some((l) => vocab.licenses.find(l) !== undefined))],
    ['rightsAvailability', yes(d.rights)],
    ['byteSizeAvailability', yes(d.byteSize)],
    ['dateIssuedAvailability', yes(d.issued)],
    ['dateModifiedAvailability', yes(d.modified)],
  ])
}

const round2 = (n: number) => Math.round(n * 100) / 100

/** Scores a dataset's facts in both modes. */
export function scoreFacts(
  facts: DatasetFacts,
  vocab: Vocabularies,
  compliance: Compliance,
  health: ReadonlyMap<string, LinkHealth>,
): QualityResult {
  const dataset = new Map<IndicatorId, Verdict>([
    ['keywordAvailability', facts.keyword ? 'yes' : 'no'],
    ['categoryAvailability', facts.theme ? 'yes' : 'no'],
    ['spatialAvailability', facts.spatial ? 'yes' : 'no'],
    ['temporalAvailability', facts.temporal ? 'yes' : 'no'],
    ['dcatApCompliance', compliance === 'passed' ? 'yes' : 'no'],
    ['accessRightsAvailability', facts.accessRights.length ? 'yes' : 'no'],
    [
      'accessRightsVocabularyAlignment',
      facts.accessRights.some((a) => a.startsWith(ACCESS_RIGHT_BASE) && accessRights().has(a)) ? 'yes' : 'no',
    ],
    ['contactPointAvailability', facts.contactPoint ? 'yes' : 'no'],
    ['publisherAvailability', facts.publisher ? 'yes' : 'no'],
  ])
  const perDistribution = facts.distributions.map((d) => {
    const v = distributionVerdicts(d, vocab, health)
    // issued/modified: checked on the distribution, falling back to the dataset (piveau).
    if (v.get('dateIssuedAvailability') === 'no' && facts.issued) v.set('dateIssuedAvailability', 'yes')
    if (v.get('dateModifiedAvailability') === 'no' && facts.modified) v.set('dateModifiedAvailability', 'yes')
    return v
  })
  const distributionPoints = perDistribution.map((v) =>
    INDICATORS.reduce((sum, i) => sum + (i.level === 'distribution' && v.get(i.id) === 'yes' ? i.points : 0), 0),
  )
  // Portal: the first of the distributions with the most points.
  let best = -1
  for (let i = 0; i < distributionPoints.length; i++)
    if (best < 0 || distributionPoints[i] > distributionPoints[best]) best = i

  const portal: IndicatorResult[] = []
  const proportional: IndicatorResult[] = []
  const total = perDistribution.length
  for (const ind of INDICATORS) {
    if (ind.level === 'dataset') {
      const met = dataset.get(ind.id) === 'yes'
      const r: IndicatorResult = {
        id: ind.id,
        max: ind.points,
        points: met ? ind.points : 0,
        status: met ? 'earned' : 'missed',
      }
      portal.push(r)
      proportional.push({ ...r })
      continue
    }
    const verdicts = perDistribution.map((v) => v.get(ind.id)!)
    const met = verdicts.filter((v) => v === 'yes').length
    const unknown = verdicts.filter((v) => v === 'unknown').length
    const counts = { total, met, unknown }
    const bestVerdict: Verdict = best < 0 ? 'no' : verdicts[best]
    portal.push({
      id: ind.id,
      max: ind.points,
      points: bestVerdict === 'yes' ? ind.points : 0,
      status: bestVerdict === 'yes' ? 'earned' : bestVerdict === 'unknown' ? 'unknown' : 'missed',
      distributions: counts,
    })
    proportional.push({
      id: ind.id,
      max: ind.points,
      points: total ? round2((ind.points * met) / total) : 0,
      status: total > 0 && met === total ? 'earned' : unknown > 0 ? 'unknown' : met > 0 ? 'partial' : 'missed',
      distributions: counts,
    })
  }
  const result = (indicators: IndicatorResult[]): ModeResult => {
    const score = round2(indicators.reduce((s, i) => s + i.points, 0))
    return { score, band: bandOf(score), indicators }
  }
  return { portal: result(portal), proportional: result(proportional), compliance }
}
