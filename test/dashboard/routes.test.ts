import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { INDICATORS } from '../../src/quality/indicators.js'
import { makeTempDir, removeTempDir } from '../helpers/temp.js'

/**
 * The dashboard's files as the service serves them (no browser; see dashboard.test.ts for the page itself):
 * types, content-hash ETags and 304s, the charting library from node_modules, nothing else under the assets
 * path, and a Content-Security-Policy that lets the page run without inline scripts or eval.
 */

const dir = makeTempDir('godonu-dashboard-routes-')
t.teardown(() => removeTempDir(dir))
const app = await buildApp(loadConfig({ DATABASE_URL: `sqlite:${dir}/catalog.sqlite`, LOG_LEVEL: 'silent' }), {
  logger: false,
})
t.teardown(() => app.fastify.close())

const get = (url: string, headers: Record<string, string> = {}) => app.fastify.inject({ url, headers })

t.test('the page: German HTML, its scripts and style sheet from the service itself', async (t) => {
  const page = await get('/dashboard')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html; charset=utf-8/)
  t.match(page.body, /<html lang="de">/)
  const sources = [...page.body.matchAll(/<(?:script|link)(?![^>]*rel="preload")[^>]+(?:src|href)="([^"]+)"/g)].map(
    (m) => m[1],
  )
  t.same(
    sources.filter((s) => !s.startsWith('data:')),
    ['/dashboard/assets/dashboard.css', '/dashboard/assets/echarts.min.js', '/dashboard/assets/dashboard.js'],
    'only files of the service',
  )
  t.notMatch(page.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script')
  for (const source of sources.filter((s) => !s.startsWith('data:'))) {
    t.equal((await get(source)).statusCode, 200, `${source} answers`)
  }
  t.equal((await get('/dashboard/')).statusCode, 200, 'with a trailing slash too')
})

t.test('the CSP lets the page run: scripts from self only, no inline script, no eval', async (t) => {
  const csp = String((await get('/dashboard')).headers['content-security-policy'])
  const directive = (name: string) =>
    csp
      .split(';')
      .map((d) => d.trim())
      .find((d) => d.startsWith(`${name} `))
  t.equal(directive('script-src'), "script-src 'self'")
  t.equal(directive('script-src-attr'), "script-src-attr 'none'")
  t.notMatch(csp, /unsafe-eval/)
  t.match(directive('connect-src'), /'self'/, 'the page may call the API of its own origin')
})

t.test('ECharts is served from the installed package, as it is there', async (t) => {
  const library = await get('/dashboard/assets/echarts.min.js')
  t.equal(library.statusCode, 200)
  t.match(library.headers['content-type'], /^application\/javascript/)
  const installed = readFileSync(fileURLToPath(import.meta.resolve('echarts/dist/echarts.min.js')), 'utf8')
  t.equal(library.body, installed, 'byte for byte the file of node_modules/echarts')
  const compressed = await get('/dashboard/assets/echarts.min.js', { 'accept-encoding': 'br' })
  t.equal(compressed.headers['content-encoding'], 'br', 'compressed for browsers that ask')
  t.ok(compressed.rawPayload.length < installed.length / 2)
})

t.test('content-hash ETags: 304 while unchanged', async (t) => {
  const first = await get('/dashboard/assets/dashboard.js')
  const etag = String(first.headers.etag)
  t.match(etag, /^"[A-Za-z0-9_-]{32}"$/)
  t.equal(first.headers['cache-control'], 'no-cache', 'the browser revalidates every time')
  t.equal((await get('/dashboard/assets/dashboard.js')).headers.etag, etag, 'the same tag for the same file')
  const again = await get('/dashboard/assets/dashboard.js', { 'if-none-match': etag })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')
  t.equal((await get('/dashboard/assets/dashboard.js', { 'if-none-match': `W/${etag}` })).statusCode, 304)
  t.equal((await get('/dashboard/assets/dashboard.js', { 'if-none-match': '"other"' })).statusCode, 200)
  t.not((await get('/dashboard/assets/dashboard.css')).headers.etag, etag, 'another file, another tag')
})

t.test('nothing else is served under the assets path', async (t) => {
  for (const path of [
    '/dashboard/assets/routes.ts',
    '/dashboard/assets/../routes.ts',
    '/dashboard/assets/%2e%2e/routes.ts',
    '/dashboard/assets/dashboard.html',
    '/dashboard/assets/echarts.js',
    '/dashboard/assets/',
  ]) {
    const answer = await get(path)
    t.equal(answer.statusCode, 404, `${path}: 404`)
    t.notMatch(answer.body, /registerDashboardRoutes/, 'no source text')
  }
})

t.test('the indicator labels: every MQA indicator, in German, with its points', async (t) => {
  const labels = (await get('/dashboard/assets/indicators.json')).json()
  t.same(
    labels.map((l: { id: string }) => l.id),
    INDICATORS.map((i) => i.id),
  )
  t.equal(labels[0].label, INDICATORS[0].label.de)
  t.equal(
    labels.reduce((sum: number, l: { points: number }) => sum + l.points, 0),
    405,
  )
})
