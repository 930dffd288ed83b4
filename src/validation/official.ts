/**
 * The official DCAT-AP / DCAT-AP.de SHACL shape sets, read from `../shared/conformance/shapes/`
 * (beside the repository) when that folder exists. They are used by tests and by the conformance
 * check of the catalog export; the service itself validates with our own shapes in
 * catalog/shapes/, which always ship with the code.
 *
 * Profiles (see shared/reference/dcat-ap-de-shapes-and-vocabularies.md):
 * - `official-de-2`: DCAT-AP.de 2.0 specification + Konventionen, the profile GovData validates
 *   with (GovData's dcat-ap_2.1.1_shacl_shapes + german-messages + german-additions + deprecated
 *   + konventionen).
 * - `official-de-2-spec`: the same without the Konventionen.
 * - `official-de-3`: DCAT-AP.de 3.0 = SEMIC DCAT-AP 3.0.0 dcat-ap-SHACL.ttl + the dcat-ap-de-3.0
 *   files (SHACL-DE overrides shapes by their 3.0.0 IRIs, so it must not be paired with 3.0.1).
 * - `semic-2.1.1`, `semic-3.0.1`: the plain SEMIC DCAT-AP shapes (core + range + vocabularies).
 *
 * The `*imports*.ttl` files only hold owl:imports of remote vocabularies; they are left out (and
 * owl:imports triples are dropped from every file): the validator adds its own vocabulary data
 * built from catalog/vocabularies/ instead of fetching anything.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Quad } from '@rdfjs/types'
import { PACKAGE_ROOT, SHARED_DIR } from '../paths.js'
import { parseTurtleFile } from './vocabulary-graph.js'

export type OfficialShapeSet = 'official-de-2' | 'official-de-2-spec' | 'official-de-3' | 'semic-2.1.1' | 'semic-3.0.1'

export const OFFICIAL_SHAPE_SETS: readonly OfficialShapeSet[] = [
  'official-de-2',
  'official-de-2-spec',
  'official-de-3',
  'semic-2.1.1',
  'semic-3.0.1',
]

/** The repository root (the same from src/ and from the compiled dist/src/, see src/paths.ts). */
export const REPO_ROOT = PACKAGE_ROOT

const FILES: Record<OfficialShapeSet, string[]> = {
  'official-de-2-spec': [
    'dcat-ap-de-2.0/dcat-ap_2.1.1_shacl_shapes.ttl',
    'dcat-ap-de-2.0/dcat-ap-spec-german-messages.ttl',
    'dcat-ap-de-2.0/dcat-ap-spec-german-additions.ttl',
    'dcat-ap-de-2.0/dcat-ap-de-deprecated.ttl',
  ],
  'official-de-2': [
    'dcat-ap-de-2.0/dcat-ap_2.1.1_shacl_shapes.ttl',
    'dcat-ap-de-2.0/dcat-ap-spec-german-messages.ttl',
    'dcat-ap-de-2.0/dcat-ap-spec-german-additions.ttl',
    'dcat-ap-de-2.0/dcat-ap-de-deprecated.ttl',
    'dcat-ap-de-2.0/dcat-ap-konventionen.ttl',
  ],
  'official-de-3': [
    'semic-dcat-ap-3.0.0/dcat-ap-SHACL.ttl',
    'dcat-ap-de-3.0/dcat-ap-SHACL-DE.ttl',
    'dcat-ap-de-3.0/dcat-ap-spec-german-additions.ttl',
    'dcat-ap-de-3.0/dcat-ap-de-deprecated.ttl',
    'dcat-ap-de-3.0/dcat-ap-de-controlledvocabularies.ttl',
  ],
  'semic-2.1.1': [
    'semic-dcat-ap-2.1.1/dcat-ap_2.1.1_shacl_shapes.ttl',
    'semic-dcat-ap-2.1.1/dcat-ap_2.1.1_shacl_range.ttl',
    'semic-dcat-ap-2.1.1/dcat-ap_2.1.1_shacl_mdr-vocabularies.shape.ttl',
  ],
  'semic-3.0.1': ['semic-dcat-ap-3.0.1/dcat-ap-SHACL.ttl'],
}

/**
 * The folder with the official shapes: `$GODONU_OFFICIAL_SHAPES_DIR`, else
 * `<repo>/../shared/conformance/shapes`. Null when it does not exist.
 */
export function officialShapesDir(): string | null {
  // when set, the variable alone decides (set it to a missing path to simulate a fresh clone)
  const dir = process.env.GODONU_OFFICIAL_SHAPES_DIR || resolve(SHARED_DIR, 'conformance/shapes')
  return existsSync(dir) ? dir : null
}

/** Absolute paths of the files of an official shape set, or null when any of them is absent. */
export function officialShapeFiles(set: OfficialShapeSet): string[] | null {
  const dir = officialShapesDir()
  if (!dir) return null
  const files = FILES[set].map((f) => resolve(dir, f))
  return files.every((f) => existsSync(f)) ? files : null
}

/** Why an official shape set cannot be used here (for test skip messages), or null when it can. */
export function officialShapesMissingReason(set: OfficialShapeSet): string | null {
  const dir = officialShapesDir()
  if (!dir) {
    const looked = process.env.GODONU_OFFICIAL_SHAPES_DIR || resolve(SHARED_DIR, 'conformance/shapes')
    return `official shapes not found (looked for ${looked})`
  }
  const missing = FILES[set].filter((f) => !existsSync(resolve(dir, f)))
  return missing.length ? `official shape files missing in ${dir}: ${missing.join(', ')}` : null
}

/** The official set that corresponds to one of our profiles. */
export function officialSetForProfile(profile: 'dcat_ap_de_2' | 'dcat_ap_de_3'): OfficialShapeSet {
  return profile === 'dcat_ap_de_3' ? 'official-de-3' : 'official-de-2'
}

export function isOfficialShapeSet(value: unknown): value is OfficialShapeSet {
  return typeof value === 'string' && (OFFICIAL_SHAPE_SETS as readonly string[]).includes(value)
}

/**
 * The parsed quads of an official shape set (owl:imports dropped), or null when its files are
 * absent. createValidator({ shapes: set }) does this itself; this is for callers that want the
 * shapes graph (e.g. to feed another SHACL engine).
 */
export function loadOfficialShapes(set: OfficialShapeSet): Quad[] | null {
  const files = officialShapeFiles(set)
  if (!files) return null
  return files.flatMap((f) => parseTurtleFile(f)).filter((q) => q.predicate.value !== 'http://www.w3.org/2002/07/owl#imports')
}
