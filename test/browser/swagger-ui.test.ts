import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { userWithToken } from '../helpers/users.js'
import { launchChromium, loadPlaywright } from '../helpers/chromium.js'

/**
 * The Swagger UI at /docs as a client developer uses it, in Debian's Chromium: authorize with an editor's
 * token, open package_create, "Try it out" with the example body, execute, and the dataset exists.
 */

/** Where the screenshot of the answered request goes, for a person to look at (not checked). */
const SCREENSHOT = join(tmpdir(), 'godonu-swagger-ui-package-create.png')

const playwright = await loadPlaywright()

t.test(
  'Swagger UI: authorize with a token and create a dataset through "Try it out"',
  { skip: typeof playwright === 'string' ? playwright : false },
  async (t) => {
    if (typeof playwright === 'string') return
    const dir = mkdtempSync(join(tmpdir(), 'godonu-swagger-ui-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const app = await buildApp(
      loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'catalog.sqlite')}`, LOG_LEVEL: 'silent' }),
      { logger: false },
    )
    t.teardown(() => app.fastify.close())
    await app.fastify.listen({ port: 0, host: '127.0.0.1' })
    const origin = `http://127.0.0.1:${(app.fastify.server.address() as AddressInfo).port}`
    const editor = await userWithToken(app, 'fachdienst-finanzen', { org: 'marburg', role: 'editor' })

    const profile = join(dir, 'chromium-profile')
    const browser = await launchChromium(playwright, profile)
    t.teardown(() => browser.close())
    const page = browser.pages()[0] ?? (await browser.newPage())
    const pageErrors: string[] = []
    page.on('pageerror', (error) => pageErrors.push(error.message))

    await page.goto(`${origin}/docs/`)
    await page.locator('.opblock').first().waitFor({ timeout: 60_000 })

    await page.locator('.scheme-container button.authorize').click()
    await page.locator('.modal-ux input#api_key_value').fill(editor.token!)
    await page.locator('.modal-ux button[aria-label="Apply credentials"]').click()
    await page.locator('.modal-ux button.btn-done').click()
    t.match(
      await page.locator('.scheme-container button.authorize').getAttribute('class'),
      /\blocked\b/,
      'the Authorize button shows the token as set',
    )

    // Reads are one GET entry each; their descriptions render as written (no Markdown accidents).
    const search = page.locator('.opblock-get', {
      has: page.locator('.opblock-summary-path[data-path="/api/3/action/package_search"]'),
    })
    t.equal(
      await page
        .locator('.opblock-post', {
          has: page.locator('.opblock-summary-path[data-path="/api/3/action/package_search"]'),
        })
        .count(),
      0,
      'package_search is listed once, as GET',
    )
    await search.locator('.opblock-summary').first().click()
    const q = search.locator('tr[data-param-name="q"] .parameters-col_description .renderedMarkdown')
    t.equal(await q.innerText(), 'Query, default *:*', 'the q parameter reads "default *:*"')
    t.equal(await q.locator('em').count(), 0, 'with nothing in italics')

    const operation = page.locator('.opblock-post', {
      has: page.locator('.opblock-summary-path[data-path="/api/3/action/package_create"]'),
    })
    await operation.locator('.opblock-summary').first().click()
    await operation.locator('button.try-out__btn').click()
    const body = operation.locator('textarea.body-param__text')
    const example = JSON.parse(await body.inputValue()) as Record<string, unknown>
    t.equal(example.owner_org, 'marburg', 'the body starts as the documented example')
    const name = `haushaltsplan-marburg-ui-${process.pid}-${Date.now().toString(36)}`
    await body.fill(JSON.stringify({ ...example, name }, null, 2))
    await operation.locator('button.execute').click()

    // The answer's row of the live responses table (its header row holds "Code").
    const answer = operation.locator('.live-responses-table tr.response')
    const status = answer.locator('.response-col_status')
    await status.waitFor({ timeout: 60_000 })
    await status.scrollIntoViewIfNeeded()
    await page.screenshot({ path: SCREENSHOT, fullPage: false })
    t.comment(`screenshot: ${SCREENSHOT}`)
    t.equal((await status.innerText()).trim(), '200', 'the Swagger UI shows 200')
    t.match(await answer.locator('.response-col_description').innerText(), /"success": true/, 'and the answer envelope')

    const shown = await app.fastify.inject({ url: `/api/3/action/package_show?id=${name}` })
    t.equal(shown.statusCode, 200, 'the dataset exists')
    const dataset = shown.json().result
    t.equal(dataset.title, example.title)
    t.equal(
      dataset.creator_user_id,
      (await app.users.findUser('fachdienst-finanzen'))!.id,
      'created with the token entered in Authorize',
    )
    t.same(pageErrors, [], 'no script errors on the page')
  },
)
