/**
 * The dashboard of the Kommunen at /dashboard: one HTML page, its own script and style sheet
 * (src/dashboard/assets/) and Apache ECharts' browser build, served from the installed `echarts` package
 * (never copied into the repository, never from a CDN). The page reads everything it shows from the public
 * stats API (/api/stats/...), in the browser; nothing here touches the catalog.
 *
 * Cache coherence: the files are read once per process, on the first request for them, and never again. They
 * belong to the installed package and change only with a new installation, which restarts the process. Each
 * answer carries a strong ETag (a hash of the content) and `Cache-Control: no-cache`: a browser revalidates
 * every time and keeps its copy exactly when the content hash is the same (304).
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { PACKAGE_ROOT } from '../paths.js'
import { INDICATORS } from '../quality/indicators.js'

/** The page's own files: found from the package root, the same from src/ (tsx) and from the build (dist/src/). */
const ASSET_DIR = join(PACKAGE_ROOT, 'src', 'dashboard', 'assets')

interface Asset {
  /** The file served, or the content made from the package's own code. */
  read: () => Promise<Buffer>
  type: string
}

const file = (path: () => string) => () => readFile(path())

/**
 * The MQA indicators as the page names them (German labels, points, dimension, in the order of the MQA table):
 * the stats API gives indicator ids only.
 */
export function indicatorLabels(): Array<{ id: string; label: string; points: number; dimension: string }> {
  return INDICATORS.map((i) => ({ id: i.id, label: i.label.de, points: i.points, dimension: i.dimension }))
}

/** Everything the dashboard serves, by URL path; nothing else under /dashboard/assets/ is answered. */
export const DASHBOARD_ASSETS: Readonly<Record<string, Asset>> = {
  '/dashboard': { read: file(() => join(ASSET_DIR, 'dashboard.html')), type: 'text/html; charset=utf-8' },
  '/dashboard/assets/dashboard.js': {
    read: file(() => join(ASSET_DIR, 'dashboard.js')),
    type: 'application/javascript; charset=utf-8',
  },
  '/dashboard/assets/dashboard.css': {
    read: file(() => join(ASSET_DIR, 'dashboard.css')),
    type: 'text/css; charset=utf-8',
  },
  '/dashboard/assets/indicators.json': {
    read: () => Promise.resolve(Buffer.from(JSON.stringify(indicatorLabels()))),
    type: 'application/json; charset=utf-8',
  },
  // The library's own browser build (UMD: defines window.echarts), resolved through Node's module resolution.
  '/dashboard/assets/echarts.min.js': {
    read: file(() => fileURLToPath(import.meta.resolve('echarts/dist/echarts.min.js'))),
    type: 'application/javascript; charset=utf-8',
  },
}

interface Loaded {
  body: Buffer
  etag: string
}

/** Whether an If-None-Match header names this ETag (or is `*`). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag)
}

export function registerDashboardRoutes(fastify: FastifyInstance): void {
  const loaded = new Map<string, Promise<Loaded>>()
  const load = (path: string, asset: Asset): Promise<Loaded> => {
    let pending = loaded.get(path)
    if (!pending) {
      pending = asset.read().then((body) => ({
        body,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`,
      }))
      // A failed read is not remembered: the next request tries again.
      pending.catch(() => loaded.delete(path))
      loaded.set(path, pending)
    }
    return pending
  }

  for (const [path, asset] of Object.entries(DASHBOARD_ASSETS)) {
    fastify.get(path, { schema: { hide: true } }, async (request: FastifyRequest, reply: FastifyReply) => {
      const { body, etag } = await load(path, asset)
      reply.header('etag', etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff')
      if (matches(request.headers['if-none-match'], etag)) return reply.code(304).send()
      return reply.type(asset.type).send(body)
    })
  }
}
