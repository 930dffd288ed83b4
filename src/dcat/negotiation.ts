import type { RdfFormat } from './parse.js'

/** File extensions of the RDF endpoints (ckanext-dcat's, plus N-Triples). */
export const EXTENSIONS: Record<string, RdfFormat> = { ttl: 'ttl', rdf: 'rdf', xml: 'rdf', jsonld: 'jsonld', nt: 'nt' }

const MEDIA_TYPES: Record<string, RdfFormat> = {
  'text/turtle': 'ttl',
  'application/x-turtle': 'ttl',
  'application/rdf+xml': 'rdf',
  'application/xml': 'rdf',
  'text/xml': 'rdf',
  'application/ld+json': 'jsonld',
  'application/json': 'jsonld',
  'application/n-triples': 'nt',
  'text/plain': 'nt',
}

/**
 * The format an Accept header asks for, honouring q-values (ties keep the header's order); no header or
 * `*\/*` gives Turtle; null when nothing offered fits (406).
 */
export function negotiateFormat(accept: string | undefined): RdfFormat | null {
  if (!accept || !accept.trim()) return 'ttl'
  const ranges = accept
    .split(',')
    .map((part, index) => {
      const [type, ...params] = part.trim().split(';')
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
      const q = qParam ? Number(qParam.slice(2)) : 1
      return { type: (type ?? '').trim().toLowerCase(), q: Number.isFinite(q) ? q : 0, index }
    })
    .filter((r) => r.type && r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
  for (const range of ranges) {
    if (MEDIA_TYPES[range.type]) return MEDIA_TYPES[range.type]!
    if (range.type === '*/*' || range.type === 'text/*') return 'ttl'
    if (range.type === 'application/*') return 'rdf'
  }
  return null
}

/**
 * The `compat` RDF profile (`?profiles=dcat_ap_de_2,compat`): the export also writes the deprecated properties
 * older harvesters still read (schema:startDate / schema:endDate beside dcat:startDate / dcat:endDate; see the
 * README, "Validation"). Without it the export has no deprecated property, so the official shapes draw no
 * avoidable warning from it.
 */
export const COMPAT_PROFILE = 'compat'

/** Whether a `profiles` parameter asks for the compat profile. */
export function wantsCompat(profiles: string | undefined): boolean {
  return (profiles ?? '').split(',').some((name) => name.trim() === COMPAT_PROFILE)
}
