import type { Kysely } from 'kysely'
import type * as RDF from '@rdfjs/types'
import { DataFactory } from 'n3'
import { NS } from './namespaces.js'
import { qualityDb, type StoredExplanation } from '../quality/recorder.js'
import { MAX_SCORE } from '../quality/indicators.js'
import { bn, dateLiteral } from './terms.js'

/**
 * The MQA results of datasets as W3C DQV, as data.europa.eu publishes its own (piveau's metrics vocabulary,
 * https://piveau.eu/ns/voc#): per dataset one dqv:QualityMeasurement per indicator (dqv:isMeasurementOf the
 * piveau metric, dqv:computedOn the dataset, a boolean dqv:value: met in portal mode, by the best distribution)
 * and the score (pv:scoring, an integer of at most 405). Link indicators the link checker has not judged yet are
 * left out (unknown is no measurement). Written only when asked for (`?quality=1`), through the serializers and
 * so through term-encoding.ts like every quad.
 */
export const DQV = 'http://www.w3.org/ns/dqv#'
export const PV = 'https://piveau.eu/ns/voc#'

const { namedNode, literal, quad } = DataFactory
const XSD_BOOLEAN = namedNode(`${NS.xsd}boolean`)
const XSD_INTEGER = namedNode(`${NS.xsd}integer`)
const RDF_TYPE = namedNode(`${NS.rdf}type`)
const P = {
  hasQualityMeasurement: namedNode(`${DQV}hasQualityMeasurement`),
  QualityMeasurement: namedNode(`${DQV}QualityMeasurement`),
  isMeasurementOf: namedNode(`${DQV}isMeasurementOf`),
  computedOn: namedNode(`${DQV}computedOn`),
  value: namedNode(`${DQV}value`),
  generatedAtTime: namedNode(`${NS.prov}generatedAtTime`),
}

/** The stored scores of some datasets (ids the caller may see; nothing is scored here). */
export async function storedQuality(
  db: Kysely<any>,
  ids: readonly string[],
): Promise<Map<string, { explanation: StoredExplanation; computed_at: string }>> {
  const out = new Map<string, { explanation: StoredExplanation; computed_at: string }>()
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await qualityDb(db)
      .selectFrom('package_quality')
      .select(['package_id', 'explanation', 'computed_at'])
      .where('package_id', 'in', ids.slice(i, i + 500))
      .execute()
    for (const r of rows)
      out.set(r.package_id, { explanation: JSON.parse(r.explanation) as StoredExplanation, computed_at: r.computed_at })
  }
  return out
}

/** The DQV measurements of one dataset (its IRI as the export writes it). */
export function qualityQuads(
  datasetIri: string,
  stored: { explanation: StoredExplanation; computed_at: string },
): RDF.Quad[] {
  const ds = namedNode(datasetIri)
  const when = dateLiteral(stored.computed_at)
  const quads: RDF.Quad[] = []
  const measurement = (metric: string, value: RDF.Literal) => {
    const m = bn()
    quads.push(
      quad(ds, P.hasQualityMeasurement, m),
      quad(m, RDF_TYPE, P.QualityMeasurement),
      quad(m, P.isMeasurementOf, namedNode(`${PV}${metric}`)),
      quad(m, P.computedOn, ds),
      quad(m, P.value, value),
      quad(m, P.generatedAtTime, when),
    )
  }
  for (const indicator of stored.explanation.portal.indicators) {
    if (indicator.status === 'unknown') continue
    measurement(indicator.id, literal(indicator.status === 'earned' ? 'true' : 'false', XSD_BOOLEAN))
  }
  const score = Math.max(0, Math.min(MAX_SCORE, Math.round(stored.explanation.portal.score)))
  measurement('scoring', literal(String(score), XSD_INTEGER))
  return quads
}
