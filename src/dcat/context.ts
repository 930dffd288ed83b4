import type { CatalogService } from '../catalog/service.js'
import type { AppConfig } from '../config.js'
import { uriHash } from '../catalog/uris.js'
import { auxiliaryIriCandidates, type DcatProfile, type MappingContext, type OrganizationLike, type PackageDict } from './mapping.js'

/** The dataset's Kommune with its geocoding fields, from the reference data. */
export function kommuneOf(service: CatalogService, dict: PackageDict): OrganizationLike | null {
  return dict.organization?.id ? (service.reference.organizations.get(dict.organization.id) ?? null) : null
}

/**
 * How this catalog maps a stored dataset to DCAT-AP.de: its base URL, contributor ID and the dataset's Kommune,
 * and for the export the auxiliary IRIs it may describe (describableIris; validation of one dataset goes without).
 */
export function catalogMappingContext(
  service: CatalogService,
  config: AppConfig,
  profile: DcatProfile,
  dict: PackageDict,
  describableIris?: ReadonlySet<string>,
): MappingContext {
  return {
    baseUrl: config.baseUrl,
    contributorId: config.contributorId,
    vocab: service.vocab,
    profile,
    organization: kommuneOf(service, dict),
    ...(describableIris ? { describableIris } : {}),
  }
}

/** Hashes per package_uri query: far below SQLite's limit on bound parameters. */
const URI_LOOKUP_BATCH = 10_000

/**
 * The catalog-wide check of the export (MappingContext.describableIris) for some datasets, read together: their
 * auxiliary IRI candidates less every one that names a dataset or distribution of the catalog (package_uri, one
 * query by hash for all of them).
 */
export async function describableIris(service: CatalogService, config: AppConfig, dicts: readonly PackageDict[]): Promise<Set<string>> {
  const candidates = new Set<string>()
  for (const dict of dicts) auxiliaryIriCandidates(dict, kommuneOf(service, dict), service.vocab, config.baseUrl, candidates)
  // By identity (uris.ts), so that a variant of a dataset's URI (case, port, http/https) is no way around it.
  const byHash = new Map<string, string[]>()
  for (const iri of candidates) {
    const hash = uriHash(iri)
    byHash.set(hash, [...(byHash.get(hash) ?? []), iri])
  }
  const hashes = [...byHash.keys()]
  for (let i = 0; i < hashes.length; i += URI_LOOKUP_BATCH) {
    const taken = await service.db.selectFrom('package_uri').select('uri_hash').where('uri_hash', 'in', hashes.slice(i, i + URI_LOOKUP_BATCH)).execute()
    for (const row of taken) for (const iri of byHash.get(row.uri_hash) ?? []) candidates.delete(iri)
  }
  return candidates
}
