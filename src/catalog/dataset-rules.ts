/**
 * The DCAT-AP.de rules of a dataset write, one factory for every write path: the write API (src/app.ts) and
 * the harvester (src/harvest/) validate a dataset input once with the dcat-ap-validator and record what it
 * found on the input (quality/compliance.ts), so the MQA compliance indicator of the stored score is the
 * validator's whichever way the dataset came in.
 */
import type { PackageInput } from './package.js'
import { markCompliance } from '../quality/compliance.js'
import type { DatasetValidation } from '../validation/dataset-validation.js'

export type DatasetRules = (input: PackageInput) => Promise<unknown[]>

/** The violations of `input` (none: compliant), recorded on it for the quality score of its write. */
export function datasetRules(validation: Pick<DatasetValidation, 'writeFindings'>): DatasetRules {
  return async (input) => markCompliance(input, await validation.writeFindings(input))
}
