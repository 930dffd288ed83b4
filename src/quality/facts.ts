import type { Vocabularies } from '../catalog/vocabularies.js'
import {
  contactValues,
  formatUri,
  geocodingUris,
  listValue,
  mediaTypeUri,
  publisherValues,
  type OrganizationLike,
  type PackageDict,
  type ResourceDict,
} from '../dcat/mapping.js'
import { VOCAB } from '../dcat/namespaces.js'
import { cleanIri, isIri, stringValue } from '../dcat/terms.js'
import type { DatasetFacts, DistributionFacts } from './score.js'

/**
 * The facts scoring needs, read from a package dict with the decisions of the DCAT export (dcat/mapping.ts
 * DatasetExport) without building its RDF: a write scores in microseconds, not the ~0.3 ms the full mapping
 * takes. What the export would write is the reference: test/quality/facts.test.ts holds this against
 * factsFromQuads(datasetToQuads(dict)) on the seeded corpus and hostile values, field by field.
 */
export function factsFromDict(
  pkg: PackageDict,
  org: OrganizationLike | null,
  vocab: Vocabularies,
  baseUrl: string,
): DatasetFacts {
  const extras = new Map<string, string | undefined>()
  for (const e of pkg.extras ?? []) if (!extras.has(e.key)) extras.set(e.key, stringValue(e.value))
  const extra = (key: string) => extras.get(key)
  const iris = (values: Array<string | undefined>) =>
    values
      .filter((v): v is string => v !== undefined)
      .map((v) => cleanIri(v))
      .filter((v): v is string => v !== undefined)

  const themes = [
    ...(pkg.groups ?? []).map((g) =>
      typeof g.name === 'string'
        ? (vocab.themes.find(g.name)?.uri ?? VOCAB.dataTheme + g.name.toUpperCase())
        : undefined,
    ),
    ...listValue(extra('theme')),
  ]
  const spatialNode = ['spatial_uri', 'spatial_text', 'spatial', 'spatial_bbox', 'spatial_centroid'].some(
    (k) => extra(k) !== undefined,
  )
  const accessRights = extra('access_rights')
  const distributions: DistributionFacts[] = []
  for (const res of pkg.resources ?? []) {
    if (res.state && res.state !== 'active') continue
    distributions.push(distributionFacts(res, pkg, vocab))
  }
  return {
    keyword: (pkg.tags ?? []).some((t) => stringValue(t.name) !== undefined),
    theme: iris(themes).length > 0,
    spatial: spatialNode || iris(geocodingUris(pkg, org)).length > 0,
    temporal: extra('temporal_start') !== undefined || extra('temporal_end') !== undefined,
    accessRights: accessRights === undefined ? [] : [isIri(accessRights) ? accessRights : `_:${accessRights}`],
    contactPoint: contactValues(pkg, org) !== undefined,
    publisher: publisherValues(pkg, org, baseUrl) !== undefined,
    issued: (extra('issued') ?? stringValue(pkg.metadata_created)) !== undefined,
    modified: (extra('modified') ?? stringValue(pkg.metadata_modified)) !== undefined,
    distributions,
  }
}

function distributionFacts(res: ResourceDict, pkg: PackageDict, vocab: Vocabularies): DistributionFacts {
  const get = (key: string): string | undefined => {
    const v = (res as Record<string, unknown>)[key]
    return typeof v === 'number' ? String(v) : stringValue(v)
  }
  const one = (value: string | undefined): string[] => {
    if (value === undefined) return []
    const clean = cleanIri(value)
    return clean === undefined ? [] : [clean]
  }
  const format = get('format')
  const mimetype = get('mimetype')
  const licence = get('license') ?? stringValue(pkg.license_id)
  const size = res.size === null || res.size === undefined || res.size === '' ? NaN : Number(res.size)
  return {
    accessUrls: one(get('access_url') ?? get('url')),
    downloadUrls: one(get('download_url')),
    formats: format ? one(formatUri(vocab, format) ?? (isIri(format) ? format : undefined)) : [],
    mediaTypes: mimetype ? one(mediaTypeUri(vocab, mimetype)) : [],
    licences: licence ? one(vocab.licenseToId(licence)) : [],
    rights: get('rights') !== undefined,
    byteSize: Number.isFinite(size) && size >= 0,
    issued: (get('issued') ?? get('created')) !== undefined,
    modified: (get('modified') ?? get('last_modified') ?? get('metadata_modified')) !== undefined,
  }
}

/**
 * What of a Kommune its datasets' scores depend on: the facts of a dataset that names nothing itself (no
 * contact, publisher or geocoding of its own), so that every fallback to the Kommune is taken. The Kommune
 * reaches the facts only through these fallbacks (contact point: its e-mail; publisher: the Kommune itself;
 * spatial: its geocoding URI), each deciding a yes/no fact that a dataset's own values override: when two
 * versions of a Kommune give the same text here, every one of its datasets scores the same under both.
 * catalog/service.ts updateOrganization rescores the Kommune's datasets only when this changes.
 */
export function organizationScoreKey(org: OrganizationLike | null, vocab: Vocabularies, baseUrl: string): string {
  return JSON.stringify(factsFromDict({ id: '', name: '' }, org, vocab, baseUrl))
}
