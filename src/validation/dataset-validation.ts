import type { CatalogService } from '../catalog/service.js'
import type { PackageInput } from '../catalog/package.js'
import type { AppConfig } from '../config.js'
import { datasetToQuads, type DcatProfile, type PackageDict } from '../dcat/mapping.js'
import { catalogMappingContext } from '../dcat/context.js'
import { createValidator, type Finding, type Validator, type ValidationReport } from './validator.js'

/**
 * The dcat-ap-validator applied to catalog datasets: the same mapping the export uses turns a dataset into
 * RDF, our shapes in catalog/shapes/ judge it. Used on every write and by the validation endpoints.
 */
export class DatasetValidation {
  private readonly validators = new Map<DcatProfile, Promise<Validator>>()

  constructor(
    private readonly service: CatalogService,
    private readonly config: AppConfig,
  ) {}

  validator(profile: DcatProfile = 'dcat_ap_de_2'): Promise<Validator> {
    let validator = this.validators.get(profile)
    if (!validator) {
      validator = createValidator({ profile })
      validator.catch(() => this.validators.delete(profile))
      this.validators.set(profile, validator)
    }
    return validator
  }

  async validateDict(dict: PackageDict, profile: DcatProfile = 'dcat_ap_de_2'): Promise<ValidationReport> {
    const quads = datasetToQuads(dict, catalogMappingContext(this.service, this.config, profile, dict))
    return (await this.validator(profile)).validate(quads)
  }

  /** The package dict a write would store, without storing it. */
  dictFor(input: PackageInput): PackageDict {
    return this.service.packageDict(this.service.storedDocument(this.service.recordFor(input))) as PackageDict
  }

  /** What blocks a write: the violations (warnings and hints do not). */
  async writeFindings(input: PackageInput): Promise<Finding[]> {
    const report = await this.validateDict(this.dictFor(input))
    return report.findings.filter((f) => f.severity === 'violation')
  }
}
