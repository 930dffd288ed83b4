import type { CatalogService } from '../catalog/service.js'
import type { AppConfig } from '../config.js'
import { uriHash } from '../catalog/uris.js'
import type { Quad } from '@rdfjs/types'
import { AskedIris, datasetToQuads, type DescribableCheck, type DcatProfile, type MappingContext, type OrganizationLike, type PackageDict } from './mapping.js'

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
  describableIris?: DescribableCheck,
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
 * Which of these http(s) IRIs name a dataset or distribution of the catalog (package_uri), by identity
 * (uris.ts), so that a variant of a dataset's URI (case, port, http/https) is no way around the check.
 */
export async function takenIris(service: CatalogService, iris: Iterable<string>): Promise<Set<string>> {
  const byHash = new Map<string, string[]>()
  for (const iri of iris) {
    const hash = uriHash(iri)
    const same = byHash.get(hash)
    if (same) same.push(iri)
    else byHash.set(hash, [iri])
  }
  const taken = new Set<string>()
  const hashes = [...byHash.keys()]
  for (let i = 0; i < hashes.length; i += URI_LOOKUP_BATCH) {
    const rows = await service.db.selectFrom('package_uri').select('uri_hash').where('uri_hash', 'in', hashes.slice(i, i + URI_LOOKUP_BATCH)).execute()
    for (const row of rows) for (const iri of byHash.get(row.uri_hash) ?? []) taken.add(iri)
  }
  return taken
}

/**
 * The export's quads of some datasets, with the catalog-wide check of the auxiliary IRIs they describe
 * (MappingContext.describableIris): each dataset is mapped once answering yes to every such IRI it asks about
 * (AskedIris), the asked IRIs are looked up together (takenIris), and only when one of them names a dataset or
 * distribution are the datasets mapped again, with the asked IRIs less those. What the first mapping made is
 * returned only when every IRI it describes was found free.
 */
export async function checkedDatasetQuads(
  service: CatalogService,
  config: AppConfig,
  profile: DcatProfile,
  dicts: readonly PackageDict[],
  compat = false,
): Promise<Quad[][]> {
  const asked = new AskedIris()
  const optimistic = dicts.map((dict) => datasetToQuads(dict, { ...catalogMappingContext(service, config, profile, dict, asked), compat }))
  const taken = await takenIris(service, asked.asked)
  if (taken.size === 0) return optimistic
  const free = new Set([...asked.asked].filter((iri) => !taken.has(iri)))
  return dicts.map((dict) => datasetToQuads(dict, { ...catalogMappingContext(service, config, profile, dict, free), compat }))
}

/** The auxiliary IRIs the export of these datasets describes as named nodes (as checkedDatasetQuads decides). */
export async function describableIris(service: CatalogService, config: AppConfig, profile: DcatProfile, dicts: readonly PackageDict[]): Promise<Set<string>> {
  const asked = new AskedIris()
  for (const dict of dicts) datasetToQuads(dict, catalogMappingContext(service, config, profile, dict, asked))
  const taken = await takenIris(service, asked.asked)
  return new Set([...asked.asked].filter((iri) => !taken.has(iri)))
}
