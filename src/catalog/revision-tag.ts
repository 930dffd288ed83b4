/**
 * The entity tag naming a revision of a dataset (package_show, package_create/update answers, the DCAT dataset
 * endpoint) and its reading back from If-Match. The one place where a dataset id becomes header text: ids of older
 * or directly inserted data may hold line breaks or characters beyond Latin-1, which no HTTP header may carry.
 */
import { createHash } from 'node:crypto'

/** An id written into the tag as it is: header-safe, and free of the `.` that separates the tag's parts. */
const HEADER_SAFE_ID = /^[A-Za-z0-9_-]+$/

/**
 * The id as the tag names it: itself when header-safe, else `~` and its SHA-256 (base64url). `~` is no character
 * of a header-safe id, so a hashed key never equals an id written as it is.
 */
export function revisionTagKey(id: string): string {
  return HEADER_SAFE_ID.test(id) ? id : `~${createHash('sha256').update(id, 'utf8').digest('base64url')}`
}

/**
 * `"<key>.<revision>"`, or `"<key>.<revision>.<variant>"` for one representation of the revision (the variant
 * made of header-safe parts, such as an RDF format and profile).
 */
export function revisionTag(id: string, revision: number, variant?: string): string {
  return `"${revisionTagKey(id)}.${revision}${variant ? `.${variant}` : ''}"`
}

/**
 * The revision an If-Match value names for the dataset `id` (a tag as revisionTag makes it without variant, weak
 * or strong), or undefined when it names no revision of that dataset.
 */
export function revisionInTag(value: string, id: string): number | undefined {
  const match = /^(?:W\/)?"([^".]+)\.(\d{1,15})"$/.exec(value.trim())
  return match && match[1] === revisionTagKey(id) ? Number(match[2]) : undefined
}
