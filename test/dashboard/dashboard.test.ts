import { mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildApp, type App } from '../../src/app.js'
import { forEachBackend } from '../helpers/backends.js'
import { makeTempDir, removeTempDir } from '../helpers/temp.js'
import { call, userWithToken } from '../helpers/users.js'
import { LinkChecker } from '../../src/links/checker.js'
import { syncJobs } from '../../src/links/jobs.js'
import type { LinkCheckSettings } from '../../src/links/settings.js'
import { launchChromium, loadPlaywright } from '../helpers/chromium.js'

/** axe-core's browser build, injected into the page for the accessibility checks. */
const AXE = fileURLToPath(import.meta.resolve('axe-core/axe.min.js'))

interface AxeNode {
  target: unknown[]
}
interface AxeRule {
  id: string
  impact: string | null
  nodes: AxeNode[]
}
interface AxeResults {
  violations: AxeRule[]
  passes: AxeRule[]
  incomplete: AxeRule[]
  inapplicable: AxeRule[]
}

/**
 * The dashboard at /dashboard in Debian's Chromium (playwright-core, never a downloaded browser), over a seeded
 * catalog: the charts render, the ranking is the API's, the drill-down works by mouse and by keyboard, texts from
 * the API stay text, a private dataset appears nowhere, no console errors; screenshots at 1280 and 390 px; no
 * serious or critical axe-core (WCAG 2 A/AA) violations at either width.
 */

/** Where the screenshots go, for a person to look at (overwritten by every run; outside the repository). */
const SCREENSHOTS = join(tmpdir(), 'godonu-dashboard-screenshots')

const playwright = await loadPlaywright()

/** The charts' labels in dashboard.html. */
const CHART_LABELS: Record<string, string> = {
  'ranking-chart': 'Balkendiagramm: mittlere Qualitätspunkte je Kommune',
  'heatmap-chart': 'Heatmap: Anteil erfüllter Indikatoren je Kommune',
  'trend-chart': 'Liniendiagramm: mittlere Qualitätspunkte je Kommune über die Zeit',
  'links-chart': 'Balkendiagramm: Anteil defekter Links je Kommune',
  'usage-chart': 'Balkendiagramm: Aufrufe und Downloads je Kommune',
}

const HOSTILE_KOMMUNE = `Gemeinde <script>window.__pwned = 1</script> "Anführung" & 'Apostroph'`
const HOSTILE_DATASET = `<img src=x onerror="window.__pwned = 2"> Daten "mit" <b>Zeichen</b> & 'so'`
const LICENSE_BY = 'http://dcat-ap.de/def/licenses/dl-by-de/2.0'

/** Where the seeded files are: a local server that has the files named `ok-...` and nothing else (404). */
let files = 'http://127.0.0.1:9'

/** A dataset from poor (title, licence and one resource) to rich (licence, tags, theme, contact, dates, formats). */
function dataset(org: string, name: string, title: string, richness: 0 | 1 | 2, extra: Record<string, unknown> = {}) {
  const rich = richness >= 1
  return {
    name,
    title,
    owner_org: org,
    notes: `Beschreibung von ${title}`,
    // A licence is required (DCAT-AP.de); the rest earns points.
    license_id: LICENSE_BY,
    ...(rich ? { tags: [{ name: 'verkehr' }], groups: [{ name: 'tran' }] } : {}),
    ...(richness >= 2
      ? {
          maintainer: 'Open-Data-Team',
          maintainer_email: 'opendata@example.org',
          extras: [
            { key: 'issued', value: '2024-01-01' },
            { key: 'temporal_start', value: '2023-01-01' },
            { key: 'spatial', value: '{"type":"Point","coordinates":[8.77,50.8]}' },
          ],
        }
      : {}),
    resources: [
      {
        name: 'Daten',
        // Kassel's and Fulda's files are missing (404 to the link checker).
        url: `${files}/${/kassel|fulda/.test(name) ? 'missing' : 'ok'}-${name}.${rich ? 'csv' : 'xlsx'}`,
        format: rich ? 'CSV' : 'XLSX',
        ...(richness >= 2 ? { mimetype: 'text/csv', size: 1234, license: LICENSE_BY } : {}),
      },
    ],
    ...extra,
  }
}

async function seed(app: App, linkCheck: LinkCheckSettings, privateTitle: string) {
  const admin = await userWithToken(app, 'dashboard-admin', { sysadmin: true })
  const org = await call(app, admin, 'organization_create', { name: 'gemeinde-zeichen', title: HOSTILE_KOMMUNE })
  if (org.status !== 200) throw new Error(`organization_create: ${JSON.stringify(org.body)}`)
  const datasets = [
    dataset('marburg', 'dash-marburg-1', 'Baumkataster Marburg', 2),
    dataset('marburg', 'dash-marburg-2', 'Radwege Marburg', 2),
    dataset('marburg', 'dash-marburg-3', 'Parkplätze Marburg', 1),
    dataset('kassel', 'dash-kassel-1', 'Haltestellen Kassel', 1),
    dataset('kassel', 'dash-kassel-2', 'Wahlbezirke Kassel', 0),
    dataset('fulda', 'dash-fulda-1', 'Haushalt Fulda', 0),
    dataset('fulda', 'dash-fulda-2', 'Friedhöfe Fulda', 0),
    dataset('gemeinde-zeichen', 'dash-zeichen-1', HOSTILE_DATASET, 0),
    dataset('marburg', 'dash-marburg-geheim', privateTitle, 2, { private: true }),
    // More than a page of the drill-down (10).
    ...Array.from({ length: 10 }, (_, i) => dataset('kassel', `dash-kassel-more-${i}`, `Messstelle ${i} Kassel`, 0)),
  ]
  for (const body of datasets) {
    const created = await call(app, admin, 'package_create', body)
    if (created.status !== 200) throw new Error(`package_create ${body.name}: ${JSON.stringify(created.body)}`)
  }
  // Usage: views of a public and of the private dataset, a search that finds nothing.
  // The link checker as it runs in the background, against the local file server.
  await syncJobs(app.store, { prune: true })
  const checked = await new LinkChecker(app.store, {
    ...linkCheck,
    allowPrivateAddresses: true,
    hostDelayMs: 0,
  }).runDue()
  const missing = datasets.filter((d) => /kassel|fulda/.test(d.name)).length
  if (checked.checked !== datasets.length || checked.unreachable !== missing)
    throw new Error(`link check: ${JSON.stringify(checked)}`)
  for (let i = 0; i < 3; i++) await app.fastify.inject({ url: '/api/3/action/package_show?id=dash-marburg-1' })
  await app.fastify.inject({ url: '/api/3/action/package_show?id=dash-kassel-1' })
  await call(app, admin, 'package_show', { id: 'dash-marburg-geheim' })
  // As often as the usage report's privacy floor asks before a query text is shown (USAGE_QUERY_MIN_COUNT).
  for (let i = 0; i < app.service.config.usageQueryMinCount; i++)
    await app.fastify.inject({ url: '/api/3/action/package_search?q=hundesteuer%20%3Cscript%3E' })
  await app.fastify.usage?.flush()
}

t.test('dashboard in headless Chromium', { skip: typeof playwright === 'string' ? playwright : false }, async (t) => {
  if (typeof playwright === 'string') return
  const fileServer = createServer((request, response) => {
    response.writeHead(/^\/ok-/.test(request.url ?? '') ? 200 : 404, { 'content-type': 'text/csv' }).end('a,b\n')
  })
  await new Promise<void>((resolve) => fileServer.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => fileServer.close(() => resolve())))
  files = `http://127.0.0.1:${(fileServer.address() as AddressInfo).port}`
  await forEachBackend(t, async (t, backend) => {
    const privateTitle = `Geheimer Datensatz ${backend.name} ${process.pid}-${Date.now().toString(36)}`
    const app = await buildApp(backend.config, { store: backend.store, logger: false })
    t.teardown(() => app.fastify.close())
    await seed(app, backend.config.linkCheck, privateTitle)
    // The service's refresher computes the stats in the background; here once, after the seed.
    if (!(await app.fastify.stats.refresh())) throw new Error('the stats refresh did not get the lease')
    await app.fastify.listen({ port: 0, host: '127.0.0.1' })
    const origin = `http://127.0.0.1:${(app.fastify.server.address() as AddressInfo).port}`

    // What the API answers (the page must show the same).
    const listed = (await (await fetch(`${origin}/api/stats/kommunen?sort=score_mean_portal%20desc`)).json()) as {
      kommunen: Array<{ name: string; title: string; datasets: number; score_mean_portal: number | null }>
    }
    const ranked = listed.kommunen.filter((k) => k.datasets > 0)
    t.same(
      ranked.map((k) => k.name).sort(),
      ['fulda', 'gemeinde-zeichen', 'kassel', 'marburg'],
      'the API lists the seeded Kommunen with public datasets',
    )
    const scores = ranked.map((k) => k.score_mean_portal!)
    t.ok(new Set(scores).size >= 3, `the seeded Kommunen score differently (${scores.join(', ')})`)
    const marburg = listed.kommunen.find((k) => k.name === 'marburg')!
    t.equal(marburg.datasets, 3, 'the private dataset is not counted')

    const dir = makeTempDir('godonu-dashboard-')
    t.teardown(() => removeTempDir(dir))
    const browser = await launchChromium(playwright, join(dir, 'profile'), { viewport: { width: 1280, height: 900 } })
    t.teardown(() => browser.close())
    const page = browser.pages()[0] ?? (await browser.newPage())
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console: ${message.text()}`)
    })
    const bodies: Array<Promise<{ url: string; text: string }>> = []
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`)
      bodies.push(
        response
          .text()
          .then((text) => ({ url: response.url(), text }))
          .catch(() => ({ url: response.url(), text: '' })),
      )
    })

    await page.goto(`${origin}/dashboard`)
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 })

    await t.test('the charts render, each with a text alternative', async (t) => {
      for (const id of ['ranking-chart', 'heatmap-chart', 'trend-chart', 'links-chart', 'usage-chart']) {
        const chart = page.locator(`#${id}`)
        const box = await chart.locator('svg').first().boundingBox()
        t.ok(box && box.width > 100 && box.height > 100, `#${id} holds an SVG of non-zero size`)
        t.equal(await chart.getAttribute('role'), 'img', `#${id} is an image to assistive technology`)
        // ECharts' aria option: the page's label, then a description generated from the data.
        const label = (await chart.getAttribute('aria-label')) ?? ''
        t.match(
          label,
          new RegExp(`^${CHART_LABELS[id]}\\. .*Universitätsstadt Marburg`),
          `#${id} has a label: ${label}`,
        )
        const describedBy = await chart.getAttribute('aria-describedby')
        t.ok(
          describedBy && (await page.locator(`#${describedBy}`).count()) === 1,
          `#${id} is described by #${describedBy}`,
        )
      }
      // The heat map: one cell per Kommune and indicator (rects beyond the axes), and its table row per indicator.
      const rows = page.locator('#heatmap-table tbody tr')
      t.equal(await rows.count(), 23, 'the heat map table has a row per MQA indicator')
      t.equal(await page.locator('#heatmap-table thead th').count(), 1 + ranked.length, 'and a column per Kommune')
      t.ok(
        (await page.locator('#heatmap-chart svg path, #heatmap-chart svg rect').count()) >= 23 * ranked.length,
        'the heat map draws a cell per Kommune and indicator',
      )
      // The seed checks the links but does not rescore: every Kommune's access-URL result is still unknown, shown as
      // such (a grey "?" cell, "unbekannt" in the table with a spoken reason), never as 0 %.
      const unknownCells = page.locator('#heatmap-table td .unknown')
      t.equal(await unknownCells.count(), ranked.length, 'one unknown cell per Kommune (the access URL)')
      t.same(
        [...new Set(await unknownCells.allTextContents())],
        ['unbekannt'],
        'unknown cells say "unbekannt", not a share',
      )
      t.equal(await unknownCells.first().getAttribute('aria-label'), 'unbekannt (Links noch nicht geprüft)')
      t.equal(
        await page.locator('#heatmap-chart svg text').filter({ hasText: /^\?$/ }).count(),
        ranked.length,
        'the chart draws the unknown cells, marked "?"',
      )
      t.ok((await page.locator('#trend-chart svg path').count()) >= ranked.length, 'a trend line per Kommune')
      t.ok((await page.locator('#trend-table tbody tr').count()) >= 1, 'the trend table has a day')
    })

    await t.test('the ranking is the API order, with the scores the API gives', async (t) => {
      const buttons = page.locator('#ranking-list button')
      t.same(
        await buttons.evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.kommune)),
        ranked.map((k) => k.name),
        'the ranking lists the Kommunen in score order',
      )
      const format = new Intl.NumberFormat('de-DE', { maximumFractionDigits: 1 })
      const texts = await buttons.allInnerTexts()
      ranked.forEach((k, i) =>
        t.ok(
          texts[i].startsWith(
            `${k.title}: ${format.format(k.score_mean_portal!)} Punkte (${k.datasets} ${k.datasets === 1 ? 'Datensatz' : 'Datensätze'})`,
          ),
          `${k.name}: the API's title, mean score and datasets (${texts[i]})`,
        ),
      )
    })

    await t.test('broken links as the API gives them', async (t) => {
      const rows = await page
        .locator('#links-table tbody tr')
        .evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => (c.textContent ?? '').replace(/\s/g, ' '))))
      t.same(
        rows.map((r) => r.slice(0, 3)),
        ranked.map((k) => [
          k.title,
          /kassel|fulda/.test(k.name) ? '100 %' : '0 %',
          String(/kassel|fulda/.test(k.name) ? k.datasets : 0),
        ]),
        "Kassel's and Fulda's files are missing, the others' are there (one file each)",
      )
      t.ok((await page.locator('#links-chart svg path').count()) > 0, 'the chart draws bars')
    })

    await t.test('usage and searches without results', async (t) => {
      const usage = await page
        .locator('#usage-table tbody tr')
        .evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => (c.textContent ?? '').replace(/\s/g, ' '))))
      t.same(
        usage.find((r) => r[0] === 'Marburg' || r[0]?.includes('Marburg'))?.slice(1),
        ['3', '0'],
        "Marburg: 3 views (the private dataset's view is not counted)",
      )
      const searches = await page
        .locator('#searches-table tbody tr')
        .evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => (c.textContent ?? '').replace(/\s/g, ' '))))
      t.ok(
        searches.some(
          (r) =>
            r[0]?.includes('hundesteuer') &&
            r[0]?.includes('<script>') &&
            r[1] === String(app.service.config.usageQueryMinCount),
        ),
        `the search without results is listed as text (${JSON.stringify(searches)})`,
      )
    })

    type Page = {
      count: number
      datasets: Array<{
        name: string
        title: string
        score: number
        fixes: Array<{ fix: { de: string }; points: number }>
      }>
    }
    const pageOf = async (name: string, query = '') =>
      (await (await fetch(`${origin}/api/stats/kommunen/${name}/datasets?limit=100${query}`)).json()) as Page
    const cells = (selector: string) =>
      page
        .locator(selector)
        .evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => (c.textContent ?? '').replace(/\s/g, ' '))))
    const fixText = (f: { fix: { de: string }; points: number }) =>
      `${f.fix.de}: +${new Intl.NumberFormat('de-DE', { maximumFractionDigits: 1 }).format(f.points)} Punkte`

    await t.test("drill-down by mouse: the Kommune's datasets and fixes, as the API gives them", async (t) => {
      await page.locator('#ranking-list button[data-kommune="fulda"]').click()
      await page.locator('#detail-datasets tbody tr').first().waitFor()
      const detail = (await (await fetch(`${origin}/api/stats/kommunen/fulda`)).json()) as {
        top_fixes: Array<{ fix: { de: string }; points: number }>
        themes: Record<string, number>
      }
      const datasets = await pageOf('fulda')
      t.match(await page.locator('#detail-title').innerText(), /Fulda/)
      t.same(
        await page.locator('#detail-datasets tbody th').allInnerTexts(),
        datasets.datasets.map((d) => d.title),
        'the datasets, lowest score first',
      )
      t.same(
        await page.locator('#detail-datasets tbody th a').first().getAttribute('href'),
        `/api/3/action/package_show?id=${datasets.datasets[0]!.name}`,
      )
      t.ok(datasets.datasets[0]!.fixes.length > 0, 'a poor dataset has fixes')
      t.same(
        await page.locator('#detail-datasets tbody tr').first().locator('.fixes li').allInnerTexts(),
        datasets.datasets[0]!.fixes.map(fixText),
        "each dataset's own fixes, with their points, on the page",
      )
      t.ok(detail.top_fixes.length > 0, 'Fulda has fixes')
      t.same(
        await page.locator('#detail-fixes tbody th').allInnerTexts(),
        detail.top_fixes.map((f) => f.fix.de),
        'the fixes worth most',
      )
      t.equal(await page.locator('#detail-more').isVisible(), false, 'two datasets: no further page')
      const quality = await page.locator('#detail-datasets tbody td a').first().getAttribute('href')
      t.equal((await fetch(`${origin}${quality}`)).status, 200, 'the explanation link answers')
    })

    await t.test('drill-down pages: ten at a time, the next ten on request, in the API order', async (t) => {
      await page.locator('#ranking-list button[data-kommune="kassel"]').click()
      await page.locator('#detail-title', { hasText: 'Kassel' }).waitFor()
      await page.locator('#detail-datasets tbody tr').first().waitFor()
      const all = await pageOf('kassel')
      t.equal(all.count, 12)
      t.equal(await page.locator('#detail-datasets tbody tr').count(), 10, 'the first page')
      const more = page.locator('#detail-more')
      t.equal(await more.innerText(), 'Weitere 2 Datensätze laden')
      await more.click()
      await page.locator('#detail-datasets tbody tr').nth(11).waitFor()
      t.same(
        await page.locator('#detail-datasets tbody th').allInnerTexts(),
        all.datasets.map((d) => d.title),
        'all twelve, in the order of the API',
      )
      t.equal(await more.isVisible(), false, 'nothing more to load')
      t.match(await page.locator('#detail-body [role="status"]').innerText(), /12 von 12 Datensätze/)
    })

    await t.test('score mode: proportional ranking, trend and drill-down, remembered in the address', async (t) => {
      await page.locator('input[name="mode"][value="proportional"]').check()
      await page.locator('#detail-datasets caption', { hasText: 'anteilig' }).waitFor()
      const proportional = (
        (await (await fetch(`${origin}/api/stats/kommunen?sort=score_mean_proportional%20desc`)).json()) as {
          kommunen: Array<{ name: string; datasets: number }>
        }
      ).kommunen.filter((k) => k.datasets > 0)
      t.same(
        await page
          .locator('#ranking-list button')
          .evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.kommune)),
        proportional.map((k) => k.name),
        'ranked by the proportional mean, as the API sorts',
      )
      t.match(page.url(), /mode=proportional/)
      t.match(page.url(), /kommune=kassel/)
      const scores = (await pageOf('kassel', '&mode=proportional')).datasets.slice(0, 10)
      t.same(
        (await cells('#detail-datasets tbody tr')).map((r) => r[1]),
        scores.map((d) =>
          new Intl.NumberFormat('de-DE', { maximumFractionDigits: 1 }).format(Math.round(d.score * 10) / 10),
        ),
        'the proportional scores of the datasets',
      )
      t.match(await page.locator('#trend-table caption').textContent(), /anteilig/, 'the trend table in the mode')
      await page.locator('input[name="mode"][value="portal"]').check()
      await page.locator('#detail-datasets caption', { hasText: 'data.europa.eu' }).waitFor()
      t.notMatch(page.url(), /mode=/)
    })

    await t.test('drill-down by keyboard: Tab to a Kommune, Enter', async (t) => {
      await page.locator('body').focus()
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
      let found = false
      for (let i = 0; i < 40 && !found; i++) {
        await page.keyboard.press('Tab')
        found = await page.evaluate(
          () => (document.activeElement as HTMLElement | null)?.dataset.kommune === 'gemeinde-zeichen',
        )
      }
      t.ok(found, 'the Kommune is reachable with Tab')
      await page.keyboard.press('Enter')
      await page.locator('#detail-datasets tbody tr').first().waitFor()
      await page.waitForFunction(() => document.activeElement?.id === 'detail')
      t.equal(
        await page.locator('#detail-title').innerText(),
        `Details: ${HOSTILE_KOMMUNE}`,
        'the hostile title as text',
      )
      t.equal(
        await page.locator('#detail-datasets tbody th a').first().innerText(),
        HOSTILE_DATASET,
        'the hostile dataset title as text',
      )
      t.equal(await page.locator('#detail-datasets img, #detail-datasets b').count(), 0, 'no element made from it')
      t.equal(
        await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned),
        undefined,
        'no script ran',
      )
      t.equal(await page.locator('script').count(), 2, 'only the two scripts of the page')
      t.equal(
        await page.locator('#ranking-list button[data-kommune="gemeinde-zeichen"]').getAttribute('aria-pressed'),
        'true',
      )
    })

    await t.test('screenshots, and the phone width', async (t) => {
      mkdirSync(SCREENSHOTS, { recursive: true })
      const desktop = join(SCREENSHOTS, `dashboard-${backend.name}-1280.png`)
      await page.screenshot({ path: desktop, fullPage: true })
      await page.setViewportSize({ width: 390, height: 844 })
      await page.waitForTimeout(300)
      const phone = join(SCREENSHOTS, `dashboard-${backend.name}-390.png`)
      await page.screenshot({ path: phone, fullPage: true })
      t.comment(`screenshots: ${desktop} ${phone}`)
      t.ok(
        await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
        'nothing wider than the phone screen',
      )
      const box = await page.locator('#ranking-chart svg').boundingBox()
      t.ok(box && box.width <= 390 && box.width > 200, 'the chart fits the phone width')
    })

    await t.test('drill-down by keyboard: Space on a Kommune', async (t) => {
      await page.locator('#ranking-list button[data-kommune="kassel"]').focus()
      await page.keyboard.press('Space')
      await page.locator('#detail-title', { hasText: 'Kassel' }).waitFor()
      await page.locator('#detail-datasets tbody tr').first().waitFor()
      t.equal(
        await page.locator('#ranking-list button[data-kommune="kassel"]').getAttribute('aria-pressed'),
        'true',
        'Space opens the details as Enter does',
      )
    })

    await t.test('the private dataset appears nowhere', async (t) => {
      // Its Kommune's detail: the public datasets only.
      await page.locator('#ranking-list button[data-kommune="marburg"]').click()
      await page.locator('#detail-title', { hasText: 'Marburg' }).waitFor()
      await page.locator('#detail-datasets tbody tr').first().waitFor()
      t.same(
        (await page.locator('#detail-datasets tbody th').allInnerTexts()).sort(),
        ['Baumkataster Marburg', 'Parkplätze Marburg', 'Radwege Marburg'],
        "Marburg's detail lists its three public datasets",
      )
      const text = await page.locator('body').innerText()
      t.notOk(text.includes(privateTitle), 'not in the page text')
      t.notOk(text.includes('dash-marburg-geheim'), 'nor its name')
      const responses = await Promise.all(bodies)
      t.ok(
        responses.some((r) => r.url.includes('/api/stats/kommunen')),
        'the stats answers were seen',
      )
      const leaks = responses.filter((r) => r.text.includes(privateTitle) || r.text.includes('dash-marburg-geheim'))
      t.same(
        leaks.map((r) => r.url),
        [],
        'in no network answer',
      )
      t.same(problems, [], 'no console errors or warnings')
    })

    await t.test(
      'accessibility: no serious or critical axe-core violations (WCAG 2 A/AA), desktop and phone',
      async (t) => {
        // The tables behind the charts are checked too: their <details> open.
        await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)))
        // Evaluated rather than added as a <script>: the page's Content-Security-Policy (script-src 'self') rightly
        // refuses an inline script, and the check must not weaken it.
        await page.evaluate(readFileSync(AXE, 'utf8'))
        for (const width of [1280, 390]) {
          await page.setViewportSize({ width, height: width > 400 ? 900 : 844 })
          await page.waitForTimeout(300)
          const results = await page.evaluate(async () => {
            const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<unknown> } })
              .axe
            return axe.run(document, {
              runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
              resultTypes: ['violations'],
            })
          })
          const r = results as AxeResults
          const serious = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
          t.same(
            serious.map((v) => v.id),
            [],
            `${width} px: ${serious.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(' ')}`).join('; ') || 'none'}`,
          )
          const ran = (list: AxeRule[]) => list.some((rule) => rule.id === 'color-contrast')
          t.ok(
            (ran(r.passes) || ran(r.violations) || ran(r.incomplete)) && !ran(r.inapplicable),
            `${width} px: the color-contrast rule ran on the page (not inapplicable)`,
          )
          t.ok(r.passes.length > 10, `${width} px: axe checked the page (${r.passes.length} rules passed)`)
        }
      },
    )
  })
})
