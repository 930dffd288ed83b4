import { createHash } from 'node:crypto'

/** The unique key of an explicit dataset or resource URI (URIs may be longer than an index allows). */
export function uriHash(uri: string): string {
  return createHash('sha256').update(uri).digest('hex')
}
