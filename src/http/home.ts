/**
 * `/`: what this service is and where to go from here. A browser (Accept: text/html) gets a small HTML
 * page without external assets; every other client the same links as JSON.
 */
import type { FastifyInstance } from 'fastify'
import type { AppConfig } from '../config.js'
import type { CatalogService } from '../catalog/service.js'
import { appendVary } from './conventions.js'

export const CATALOG_FORMATS = [
  { extension: 'ttl', mediaType: 'text/turtle', label: 'Turtle' },
  { extension: 'rdf', mediaType: 'application/rdf+xml', label: 'RDF/XML' },
  { extension: 'jsonld', mediaType: 'application/ld+json', label: 'JSON-LD' },
  { extension: 'nt', mediaType: 'application/n-triples', label: 'N-Triples' },
] as const

export interface HomeDocument {
  title: string
  description: string
  links: {
    docs: string
    openapi: string
    api: string
    catalog: Record<string, string>
  }
  organizations: Array<{ name: string; title: string; api: string; catalog: Record<string, string> }>
}

export function homeDocument(config: AppConfig, service: CatalogService): HomeDocument {
  const base = config.baseUrl
  const catalogLinks = (prefix: string) =>
    Object.fromEntries(CATALOG_FORMATS.map((f) => [f.mediaType, `${base}${prefix}/catalog.${f.extension}`]))
  // The Kommunen as organization_list lists them: the active ones, by title.
  const organizations = [...service.reference.organizations.values()]
    .filter((o) => o.state === 'active')
    .sort((a, b) => a.title.localeCompare(b.title, 'de') || a.name.localeCompare(b.name))
    .map((o) => ({
      name: o.name,
      title: o.title || o.name,
      api: `${base}/api/3/action/organization_show?id=${encodeURIComponent(o.name)}`,
      catalog: catalogLinks(`/organization/${encodeURIComponent(o.name)}`),
    }))
  return {
    title: config.siteTitle,
    description: config.siteDescription,
    links: {
      docs: `${base}/docs`,
      openapi: `${base}/docs/json`,
      api: `${base}/api/3/action/help_show?name=package_search`,
      catalog: catalogLinks(''),
    },
    organizations,
  }
}

/** Whether the client asks for HTML rather than JSON: text/html named explicitly, and not below application/json. */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false
  let html = 0
  let json = -1
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';')
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const q = qParam ? Number(qParam.slice(2)) : 1
    if (!Number.isFinite(q)) continue
    if (type === 'text/html' || type === 'application/xhtml+xml') html = Math.max(html, q)
    else if (type === 'application/json') json = Math.max(json, q)
  }
  return html > 0 && html >= json
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

export function homeHtml(doc: HomeDocument, lang: string): string {
  const formatLinks = (links: Record<string, string>) =>
    CATALOG_FORMATS.map((f) => `<a href="${escapeHtml(links[f.mediaType])}" type="${f.mediaType}">${f.label}</a>`).join(
      ' · ',
    )
  const kommunen = doc.organizations
    .map(
      (o) =>
        `<li><strong>${escapeHtml(o.title)}</strong> <code>${escapeHtml(o.name)}</code>: ${formatLinks(o.catalog)}</li>`,
    )
    .join('\n')
  return `<!DOCTYPE html>
<html lang="${escapeHtml(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.5}code{font-size:.9em}li{margin:.2rem 0}</style>
</head>
<body>
<h1>${escapeHtml(doc.title)}</h1>
<p>${escapeHtml(doc.description)}</p>
<ul>
<li><a href="${escapeHtml(doc.links.docs)}">API-Dokumentation (Swagger UI)</a>: CKAN Action API v3 unter <code>/api/3/action/…</code>; <a href="${escapeHtml(doc.links.openapi)}">OpenAPI-Dokument</a></li>
<li>Gesamtkatalog (DCAT-AP.de): ${formatLinks(doc.links.catalog)}</li>
</ul>
<h2>Kommunen</h2>
<ul>
${kommunen || '<li>Noch keine Kommunen.</li>'}
</ul>
</body>
</html>
`
}

export function registerHomeRoute(fastify: FastifyInstance, config: AppConfig, service: CatalogService): void {
  fastify.get('/', { schema: { hide: true } }, async (request, reply) => {
    const doc = homeDocument(config, service)
    appendVary(reply, 'Accept')
    if (prefersHtml(request.headers.accept))
      return reply.type('text/html; charset=utf-8').send(homeHtml(doc, config.localeDefault))
    return reply.type('application/json; charset=utf-8').send(doc)
  })
}
