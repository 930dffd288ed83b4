import type { CatalogService } from '../catalog/service.js'
import type { AppConfig } from '../config.js'
import type { DcatProfile, MappingContext, PackageDict } from './mapping.js'

/** How this catalog maps a stored dataset to DCAT-AP.de: its base URL, contributor ID and the dataset's Kommune. */
export function catalogMappingContext(service: CatalogService, config: AppConfig, profile: DcatProfile, dict: PackageDict): MappingContext {
  return {
    baseUrl: config.baseUrl,
    contributorId: config.contributorId,
    vocab: service.vocab,
    profile,
    organization: dict.organization?.id ? service.reference.organizations.get(dict.organization.id) ?? null : null,
  }
}
