import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'

/**
 * API tokens are `<id>.<secret>`: the id finds the row, the secret is compared by its SHA-256 hash,
 * so a database leak reveals no usable token.
 */
export interface IssuedToken {
  id: string
  token: string
  secretHash: string
}

export function issueToken(): IssuedToken {
  const id = randomUUID()
  const secret = randomBytes(32).toString('base64url')
  return { id, token: `${id}.${secret}`, secretHash: hashSecret(secret) }
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

export function splitToken(token: string): { id: string; secret: string } | null {
  const match = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{20,100})$/.exec(token.trim())
  return match ? { id: match[1]!, secret: match[2]! } : null
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(hashSecret(secret), 'hex')
  const stored = Buffer.from(storedHash, 'hex')
  return given.length === stored.length && timingSafeEqual(given, stored)
}

/** CKAN clients send `Authorization: <token>`, `Authorization: Bearer <token>` or `X-CKAN-API-Key`. */
export function tokenFromHeaders(headers: Record<string, string | string[] | undefined>): string | null {
  const raw = headers.authorization ?? headers['x-ckan-api-key'] ?? headers['x-api-key']
  const value = Array.isArray(raw) ? raw[0] : raw
  if (!value) return null
  const trimmed = value.trim()
  return trimmed.toLowerCase().startsWith('bearer ') ? trimmed.slice(7).trim() : trimmed
}
