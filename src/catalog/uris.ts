import { createHash } from 'node:crypto'

/**
 * What makes two URIs name the same dataset or distribution, for the uniqueness of explicit URIs and for
 * the checks of this service's own namespace: the forms a harvester or browser treats as one are one.
 * Scheme and host are case-insensitive, the default port is no port, http and https name the same
 * resource, percent-escapes of unreserved characters are those characters (RFC 3986, 6.2.2) and other
 * escapes have upper-case hex, an empty query or fragment is none. Path, query and fragment otherwise stay
 * as they are (a trailing slash makes another URI). A string that is no URL is its own identity.
 */
export function uriIdentity(uri: string): string {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return uri
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return uri
  const port = url.port === '80' || url.port === '443' ? '' : url.port
  const rest = normaliseEscapes(`${url.pathname}${url.search === '?' ? '' : url.search}${url.hash === '#' ? '' : url.hash}`)
  return `https://${url.username || url.password ? `${url.username}:${url.password}@` : ''}${url.hostname}${port ? `:${port}` : ''}${rest}`
}

function normaliseEscapes(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16))
    return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${hex.toUpperCase()}`
  })
}

/** The unique key of an explicit dataset or resource URI: its identity, hashed (URIs outgrow index keys). */
export function uriHash(uri: string): string {
  return createHash('sha256').update(uriIdentity(uri)).digest('hex')
}

/** Identities of the few bases asked about (BASE_URL and its /dataset/ prefix), worked out once. */
const roots = new Map<string, string>()

/** Whether a URI lies in the namespace of `base` (this service's BASE_URL): itself, or below it. */
export function inNamespace(uri: string, base: string): boolean {
  let root = roots.get(base)
  if (root === undefined) {
    root = uriIdentity(base).replace(/\/+$/, '')
    if (roots.size < 100) roots.set(base, root)
  }
  const identity = uriIdentity(uri)
  if (!identity.startsWith(root)) return false
  const next = identity.charAt(root.length)
  return next === '' || next === '/' || next === '?' || next === '#'
}
