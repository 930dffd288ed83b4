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
  // Blank nodes as `_:<label>`: a statement given as text (access rights) is a blank node, not an IRI.
  const values = (props: Map<string, RDF.Term[]>, p: string) =>
    (props.get(p) ?? []).map((t) => (t.termType === 'BlankNode' ? `_:${t.value}` : t.value))
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

/** The distribution-level indicators in table order, and the dataset-level ones. */
const DISTRIBUTION_INDICATORS = INDICATORS.filter((i) => i.level === 'distribution')
const DATASET_INDICATORS = INDICATORS.filter((i) => i.level === 'dataset')

const YES = 1
const NO = 0
const UNKNOWN = 2
type Code = typeof YES | typeof NO | typeof UNKNOWN
const code = (v: Verdict): Code => (v === 'yes' ? YES : v === 'unknown' ? UNKNOWN : NO)

/** One distribution's verdicts, in the order of DISTRIBUTION_INDICATORS. */
function distributionVerdicts(
  d: DistributionFacts,
  vocab: Vocabularies,
  health: ReadonlyMap<string, LinkHealth>,
  dataset: DatasetFacts,
): Uint8Array {
  const fileTypes = d.formats.map((f) => vocab.fileTypes.byUriExact(f)).filter((t) => t !== undefined)
  const bareMediaTypes = d.mediaTypes.map((m) => {
    const base = IANA_BASES.find((b) => m.startsWith(b))
    return base === undefined ? undefined : m.slice(base.length)
  })
  const ianaKnown = bareMediaTypes.some(
    (m) => m !== undefined && vocab.mediaTypeToUri(m).startsWith(VOCAB.ianaMediaTypes),
  )
  // A media type that names an EU file type counts for the format flags when the format does not.
  const types = [
    ...fileTypes,
    ...bareMediaTypes
      .map((m) => (m === undefined ? undefined : vocab.fileTypes.find(m)))
      .filter((t) => t !== undefined),
  ]
  const yes = (b: boolean): Code => (b ? YES : NO)
  const byId: Record<string, Code> = {
    accessUrlStatusCode: code(linkVerdict(d.accessUrls, health)),
    downloadUrlAvailability: yes(d.downloadUrls.length > 0),
    downloadUrlStatusCode: code(linkVerdict(d.downloadUrls, health)),
    formatAvailability: yes(d.formats.length > 0),
    mediaTypeAvailability: yes(d.mediaTypes.length > 0),
    formatMediaTypeVocabularyAlignment: yes(fileTypes.length > 0 || ianaKnown),
    formatMediaTypeNonProprietary: yes(types.some((t) => t.non_proprietary)),
    formatMediaTypeMachineInterpretable: yes(types.some((t) => t.machine_readable)),
    licenceAvailability: yes(d.licences.length > 0),
    knownLicence: yes(d.licences.some((l) => vocab.licenses.find(l) !== undefined)),
    rightsAvailability: yes(d.rights),
    byteSizeAvailability: yes(d.byteSize),
    // issued/modified: checked on the distribution, falling back to the dataset (piveau).
    dateIssuedAvailability: yes(d.issued || dataset.issued),
    dateModifiedAvailability: yes(d.modified || dataset.modified),
  }
  const out = new Uint8Array(DISTRIBUTION_INDICATORS.length)
  for (let i = 0; i < DISTRIBUTION_INDICATORS.length; i++) out[i] = byId[DISTRIBUTION_INDICATORS[i].id]!
  return out
}

const round2 = (n: number) => Math.round(n * 100) / 100

/** Scores a dataset's facts in both modes. */
export function scoreFacts(
  facts: DatasetFacts,
  vocab: Vocabularies,
  compliance: Compliance,
  health: ReadonlyMap<string, LinkHealth>,
): QualityResult {
  const dataset: Record<string, boolean> = {
    keywordAvailability: facts.keyword,
    categoryAvailability: facts.theme,
    spatialAvailability: facts.spatial,
    temporalAvailability: facts.temporal,
    dcatApCompliance: compliance === 'passed',
    accessRightsAvailability: facts.accessRights.length > 0,
    accessRightsVocabularyAlignment: facts.accessRights.some(
      (a) => a.startsWith(ACCESS_RIGHT_BASE) && accessRights().has(a),
    ),
    contactPointAvailability: facts.contactPoint,
    publisherAvailability: facts.publisher,
  }
  const perDistribution = facts.distributions.map((d) => distributionVerdicts(d, vocab, health, facts))
  // Portal: the first of the distributions with the most distribution-level points.
  let best = -1
  let bestPoints = -1
  for (let d = 0; d < perDistribution.length; d++) {
    const v = perDistribution[d]
    let points = 0
    for (let i = 0; i < DISTRIBUTION_INDICATORS.length; i++)
      if (v[i] === YES) points += DISTRIBUTION_INDICATORS[i].points
    if (points > bestPoints) {
      best = d
      bestPoints = points
    }
  }
  const results = new Map<IndicatorId, { portal: IndicatorResult; proportional: IndicatorResult }>()
  for (const ind of DATASET_INDICATORS) {
    const met = dataset[ind.id] === true
    const r: IndicatorResult = {
      id: ind.id,
      max: ind.points,
      points: met ? ind.points : 0,
      status: met ? 'earned' : 'missed',
    }
    results.set(ind.id, { portal: r, proportional: { ...r } })
  }
  const total = perDistribution.length
  for (let i = 0; i < DISTRIBUTION_INDICATORS.length; i++) {
    const ind = DISTRIBUTION_INDICATORS[i]
    let met = 0
    let unknown = 0
    for (const v of perDistribution) {
      if (v[i] === YES) met++
      else if (v[i] === UNKNOWN) unknown++
    }
    const counts = { total, met, unknown }
    const bestCode = best < 0 ? NO : perDistribution[best][i]
    results.set(ind.id, {
      portal: {
        id: ind.id,
        max: ind.points,
        points: bestCode === YES ? ind.points : 0,
        status: bestCode === YES ? 'earned' : bestCode === UNKNOWN ? 'unknown' : 'missed',
        distributions: counts,
      },
      proportional: {
        id: ind.id,
        max: ind.points,
        points: total ? round2((ind.points * met) / total) : 0,
        status: total > 0 && met === total ? 'earned' : unknown > 0 ? 'unknown' : met > 0 ? 'partial' : 'missed',
        distributions: { ...counts },
      },
    })
  }
  const result = (mode: Mode): ModeResult => {
    const indicators = INDICATORS.map((ind) => results.get(ind.id)![mode])
    const score = round2(indicators.reduce((s, i) => s + i.points, 0))
    return { score, band: bandOf(score), indicators }
  }
  return { portal: result('portal'), proportional: result('proportional'), compliance }
}
