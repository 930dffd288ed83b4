/**
 * HTTP conventions of every answer: CORS (anonymous reads from any origin, Authorization only from
 * CORS_ORIGINS, preflights answered), security headers that let the Swagger UI work, the probes
 * /healthz and /readyz, and `/` for browsers and other clients.
 */
import t from 'tap'
import { sql } from 'kysely'
import { forEachBackend } from '../helpers/backends.js'
import { api, insertDatasets } from '../helpers/app.js'
import { SAMPLE_DATASETS } from '../helpers/datasets.js'
import { userWithToken } from '../helpers/users.js'
import { buildApp, type App } from '../../src/app.js'
import { openStore } from '../../src/db/connect.js'
import { loadConfig, parseCorsOrigins, ConfigError } from '../../src/config.js'
import { prefersHtml } from '../../src/http/home.js'
import { helmetOptions } from '../../src/http/conventions.js'
import Fastify from 'fastify'
import helmet from '@fastify/helmet'

const PORTAL = 'https://portal.example.de'
const STRANGER = 'https://stranger.example.org'

const header = (headers: Record<string, unknown>, name: string): string => String(headers[name] ?? '')
const list = (value: string): string[] =>
  value
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean)

t.test('CORS_ORIGINS takes exact origins only', async (t) => {
  t.same(parseCorsOrigins(undefined), [])
  t.same(parseCorsOrigins(''), [])
  t.same(parseCorsOrigins(` ${PORTAL}, http://localhost:8080/ `), [PORTAL, 'http://localhost:8080'])
  for (const bad of [
    'portal.example.de',
    'https://portal.example.de/path',
    '*',
    'ftp://x.de',
    'https://a.de?x=1',
    'https://user@a.de',
  ]) {
    t.throws(() => parseCorsOrigins(bad), ConfigError, bad)
  }
})

t.test('a browser asks for HTML, other clients for JSON', async (t) => {
  t.ok(prefersHtml('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), 'Firefox/Chrome')
  t.notOk(prefersHtml('*/*'), 'curl')
  t.notOk(prefersHtml(undefined))
  t.notOk(prefersHtml('application/json'))
  t.notOk(prefersHtml('application/json, text/html;q=0.5'))
  t.notOk(prefersHtml('text/html;q=0'))
})

await forEachBackend(t, async (t, backend) => {
  const config = { ...backend.config, corsOrigins: [PORTAL] }
  const app: App = await buildApp(config, { store: backend.store, logger: false })
  t.teardown(() => app.fastify.close())
  await app.fastify.ready()
  await insertDatasets(app, SAMPLE_DATASETS)
  const editor = await userWithToken(app, 'cors-editor', { org: 'marburg', role: 'editor' })

  const preflight = (url: string, origin: string, method: string, headers: string) =>
    app.fastify.inject({
      method: 'OPTIONS',
      url,
      headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
    })

  await t.test('preflight of a read from any origin: allowed without Authorization', async (t) => {
    for (const url of ['/api/3/action/package_search', '/api/action/package_show', '/catalog.ttl', '/api/validate']) {
      const response = await preflight(url, STRANGER, 'POST', 'content-type')
      t.equal(response.statusCode, 204, `${url} answered (it used to be 404)`)
      t.equal(header(response.headers, 'access-control-allow-origin'), '*', url)
      t.ok(list(header(response.headers, 'access-control-allow-methods')).includes('post'), url)
      t.ok(list(header(response.headers, 'access-control-allow-headers')).includes('content-type'), url)
      t.notOk(
        list(header(response.headers, 'access-control-allow-headers')).includes('authorization'),
        `${url}: a stranger's page may not send a token`,
      )
    }
  })

  await t.test('preflight of a write from an unlisted origin: answered, and refused', async (t) => {
    for (const url of [
      '/api/3/action/package_create',
      '/api/action/package_update',
      '/api/3/action/api_token_create',
    ]) {
      const response = await preflight(url, STRANGER, 'POST', 'authorization, content-type')
      t.equal(response.statusCode, 204, url)
      t.equal(
        response.headers['access-control-allow-origin'],
        undefined,
        `${url}: no Access-Control-Allow-Origin, the browser refuses`,
      )
      t.notOk(list(header(response.headers, 'access-control-allow-headers')).includes('authorization'), url)
      t.ok(list(header(response.headers, 'vary')).includes('origin'), 'Vary: Origin')
    }
    // The actual POST (a browser would not send it): no CORS permission for the page to read the answer.
    const response = await app.fastify.inject({
      method: 'POST',
      url: '/api/3/action/package_create',
      headers: { origin: STRANGER, authorization: editor.token! },
      payload: {},
    })
    t.equal(response.headers['access-control-allow-origin'], undefined)
  })

  await t.test(
    'preflight of a write from a listed origin: the origin, Authorization and If-Match allowed',
    async (t) => {
      const response = await preflight(
        '/api/3/action/package_update',
        PORTAL,
        'POST',
        'authorization, content-type, if-match',
      )
      t.equal(response.statusCode, 204)
      t.equal(response.headers['access-control-allow-origin'], PORTAL)
      const allowed = list(header(response.headers, 'access-control-allow-headers'))
      for (const name of ['authorization', 'content-type', 'if-match']) t.ok(allowed.includes(name), name)
      t.ok(list(header(response.headers, 'access-control-allow-methods')).includes('post'))
      t.equal(
        response.headers['access-control-allow-credentials'],
        undefined,
        'tokens are headers, not cookies: no credentials mode',
      )
      t.ok(Number(response.headers['access-control-max-age']) > 0, 'browsers may cache the preflight')
      t.ok(list(header(response.headers, 'vary')).includes('origin'))

      const write = await app.fastify.inject({
        method: 'POST',
        url: '/api/3/action/package_patch',
        headers: { origin: PORTAL, authorization: editor.token! },
        payload: { id: 'baumkataster-marburg', version: '2025' },
      })
      t.equal(write.statusCode, 200, write.body)
      t.equal(write.headers['access-control-allow-origin'], PORTAL)
    },
  )

  await t.test('reads from any origin: Access-Control-Allow-Origin * and ETag exposed', async (t) => {
    const show = await app.fastify.inject({
      method: 'GET',
      url: '/api/3/action/package_show?id=baumkataster-marburg',
      headers: { origin: STRANGER },
    })
    t.equal(show.statusCode, 200)
    t.equal(show.headers['access-control-allow-origin'], '*')
    t.ok(show.headers.etag, 'package_show has an ETag')
    t.ok(list(header(show.headers, 'access-control-expose-headers')).includes('etag'), 'a script may read the ETag')
    t.ok(list(header(show.headers, 'vary')).includes('origin'))
    const turtle = await app.fastify.inject({ method: 'GET', url: '/catalog.ttl', headers: { origin: STRANGER } })
    t.equal(turtle.statusCode, 200)
    t.equal(turtle.headers['access-control-allow-origin'], '*')
    // The DCAT endpoints set their own Vary: Origin stays in it.
    const vary = list(header(turtle.headers, 'vary'))
    t.ok(vary.includes('origin') && vary.includes('accept'), `Vary: ${turtle.headers.vary}`)
  })

  await t.test('security headers fit an API and the Swagger UI', async (t) => {
    const docs = await app.fastify.inject({ method: 'GET', url: '/docs/' })
    t.equal(docs.statusCode, 200, 'the Swagger UI still loads')
    const csp = header(docs.headers, 'content-security-policy')
    t.match(csp, /script-src 'self'/, 'its own scripts')
    t.match(csp, /style-src 'self'/, 'its own styles')
    t.match(csp, /default-src 'self'/)
    t.notMatch(csp, /unsafe-eval/)
    t.notMatch(csp, /upgrade-insecure-requests/, 'a service on plain HTTP keeps working')
    // What the page loads is served, and allowed by that policy (same origin).
    for (const asset of [...docs.body.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1])) {
      const response = await app.fastify.inject({ method: 'GET', url: `/docs/${asset}` })
      t.equal(response.statusCode, 200, asset)
    }
    t.equal(
      (await app.fastify.inject({ method: 'GET', url: '/docs/json' })).statusCode,
      200,
      'the OpenAPI document the UI reads',
    )

    const answer = await app.fastify.inject({ method: 'GET', url: '/api/3/action/status_show' })
    t.equal(answer.headers['x-content-type-options'], 'nosniff')
    t.equal(answer.headers['x-frame-options'], 'DENY')
    t.equal(answer.headers['cross-origin-resource-policy'], 'cross-origin', 'open data may be embedded elsewhere')
    t.match(header(answer.headers, 'content-security-policy'), /frame-ancestors 'none'/)
  })

  await t.test('every answer carries the headers @fastify/helmet sets per request, computed once', async (t) => {
    // The reference: the plugin itself, as it runs on every request of a server that registers it.
    const reference = Fastify({ logger: false })
    t.teardown(() => reference.close())
    await reference.register(helmet, helmetOptions(config))
    reference.get('/*', () => ({}))
    const expected = (await reference.inject({ method: 'GET', url: '/x' })).headers
    const names = Object.keys(expected).filter((n) => !['date', 'content-type', 'content-length', 'connection'].includes(n))
    t.ok(names.length >= 10, `helmet's headers: ${names.join(', ')}`)
    const show = `/api/3/action/package_show?id=${SAMPLE_DATASETS[0]!.name}`
    for (const url of ['/api/3/action/status_show', show, '/api/3/action/package_show?id=%3Cnone%3E', '/no/such/path', '/docs/', '/catalog.ttl', '/']) {
      const answer = await app.fastify.inject({ method: 'GET', url, headers: { origin: STRANGER } })
      for (const name of names) t.equal(answer.headers[name], expected[name], `${url}: ${name}`)
    }
  })

  await t.test('/healthz and /readyz', async (t) => {
    const health = await app.fastify.inject({ method: 'GET', url: '/healthz' })
    t.equal(health.statusCode, 200)
    t.same(health.json(), { status: 'ok' })

    // A fresh app over the same database: its index is not loaded, and the probe says so at once (it does
    // not wait for the load); the probe itself starts the load, and once it is done the app is ready.
    const fresh = await buildApp(config, { store: backend.store, logger: false })
    t.teardown(() => fresh.fastify.close())
    t.ok(fresh.search.indexLoading, 'nothing loaded the fresh app index')
    const loading = await fresh.fastify.inject({ method: 'GET', url: '/readyz' })
    t.equal(loading.statusCode, 503, loading.body)
    t.same((loading.json() as { checks: object }).checks, {
      database: { ok: true },
      migrations: { ok: true },
      search: { ok: false, error: 'the search index is loading' },
    })
    await fresh.search.warmIndex()
    t.equal((await fresh.fastify.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'ready once loaded')

    await app.search.warmIndex()
    const ready = await app.fastify.inject({ method: 'GET', url: '/readyz' })
    t.equal(ready.statusCode, 200, ready.body)
    t.same(ready.json(), {
      status: 'ready',
      checks: { database: { ok: true }, migrations: { ok: true }, search: { ok: true } },
    })

    // No authentication and no rate limit: many probes with a bad token all answer.
    for (let i = 0; i < 5; i++) {
      const probe = await app.fastify.inject({
        method: 'GET',
        url: '/readyz',
        headers: { authorization: 'not-a-token' },
      })
      t.equal(probe.statusCode, 200)
    }

    const paths = Object.keys(
      ((await app.fastify.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: object }).paths,
    )
    for (const hidden of ['/healthz', '/readyz', '/'])
      t.notOk(paths.includes(hidden), `${hidden} is not in the OpenAPI document`)
  })

  await t.test('/readyz answers 503 naming a migration that is not applied', async (t) => {
    const last = await sql<{
      name: string
      timestamp: string
    }>`select name, timestamp from kysely_migration order by name desc limit 1`.execute(backend.store.db)
    const { name, timestamp } = last.rows[0]
    await sql`delete from kysely_migration where name = ${name}`.execute(backend.store.db)
    try {
      const response = await app.fastify.inject({ method: 'GET', url: '/readyz' })
      t.equal(response.statusCode, 503)
      const body = response.json() as { status: string; checks: Record<string, { ok: boolean; error?: string }> }
      t.equal(body.status, 'unavailable')
      t.equal(body.checks.database.ok, true)
      t.equal(body.checks.migrations.ok, false)
      t.match(body.checks.migrations.error, name)
    } finally {
      await sql`insert into kysely_migration (name, timestamp) values (${name}, ${timestamp})`.execute(backend.store.db)
    }
    t.equal((await app.fastify.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'ready again')
  })

  await t.test('/readyz answers 503 naming the database when it does not answer', async (t) => {
    // An app over a store of its own, which is then closed.
    const own = await openStore(config.database)
    const second = await buildApp(config, { store: own, logger: false })
    t.teardown(() => second.fastify.close())
    await second.fastify.ready()
    await second.search.warmIndex()
    t.equal((await second.fastify.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
    await own.close()
    const response = await second.fastify.inject({ method: 'GET', url: '/readyz' })
    t.equal(response.statusCode, 503)
    const body = response.json() as { checks: Record<string, { ok: boolean; error?: string }> }
    t.equal(body.checks.database.ok, false)
    t.ok(body.checks.database.error)
    t.equal(body.checks.migrations.ok, false, 'the others are not checked')
    t.equal((await second.fastify.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'alive all the same')
  })

  await t.test(
    '/ for a browser: a small page with the docs, the catalog in each format and the Kommunen',
    async (t) => {
      // A Kommune's title is data a sysadmin edits: it is escaped.
      const kassel = app.service.reference.organization('kassel')!
      await sql`update organization set title = ${'Kassel <script>alert(1)</script> & Co'} where id = ${kassel.id}`.execute(
        backend.store.db,
      )
      await app.service.reference.reload()
      t.teardown(async () => {
        await sql`update organization set title = ${kassel.title} where id = ${kassel.id}`.execute(backend.store.db)
        await app.service.reference.reload()
      })

      const page = await app.fastify.inject({
        method: 'GET',
        url: '/',
        headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
      })
      t.equal(page.statusCode, 200)
      t.match(page.headers['content-type'], /^text\/html/)
      t.ok(list(header(page.headers, 'vary')).includes('accept'))
      const html = page.body
      const base = config.baseUrl
      t.ok(html.includes(`href="${base}/docs"`), 'links to the Swagger UI')
      for (const ext of ['ttl', 'rdf', 'jsonld', 'nt'])
        t.ok(html.includes(`href="${base}/catalog.${ext}"`), `the catalog as .${ext}`)
      const names = (await api(app, 'organization_list')).body.result as string[]
      t.ok(names.length > 0)
      for (const name of names)
        t.ok(html.includes(`href="${base}/organization/${name}/catalog.ttl"`), `${name}'s catalog`)
      t.notOk(html.includes('<script'), 'no script, none injected')
      t.ok(html.includes('Kassel &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co'))
      t.notMatch(html, /(?:src|href)="https?:\/\/(?!127\.0\.0\.1|localhost)/, 'no external assets')
      t.notMatch(html, /<link|<img|<script/, 'nothing loaded at all')

      const json = await app.fastify.inject({ method: 'GET', url: '/', headers: { accept: '*/*' } })
      t.equal(json.statusCode, 200)
      t.match(json.headers['content-type'], /^application\/json/)
      const doc = json.json() as {
        links: { docs: string; catalog: Record<string, string> }
        organizations: Array<{ name: string; catalog: Record<string, string> }>
      }
      t.equal(doc.links.docs, `${base}/docs`)
      t.same(doc.links.catalog, {
        'text/turtle': `${base}/catalog.ttl`,
        'application/rdf+xml': `${base}/catalog.rdf`,
        'application/ld+json': `${base}/catalog.jsonld`,
        'application/n-triples': `${base}/catalog.nt`,
      })
      t.same(doc.organizations.map((o) => o.name).sort(), [...names].sort(), 'the Kommunen of organization_list')
      t.equal(
        doc.organizations.find((o) => o.name === 'marburg')!.catalog['application/rdf+xml'],
        `${base}/organization/marburg/catalog.rdf`,
      )
      // Each link answers.
      const linked = new URL(doc.organizations[0].catalog['text/turtle'])
      t.equal((await app.fastify.inject({ method: 'GET', url: linked.pathname })).statusCode, 200)
    },
  )
})

t.test('configuration: defaults of the new settings', async (t) => {
  const config = loadConfig({})
  t.equal(config.logFormat, 'json')
  t.same(config.corsOrigins, [])
  t.equal(config.logLevel, 'info')
})
