/** Debian's Chromium driven by playwright-core (never a downloaded browser), for the browser tests. */
import { existsSync } from 'node:fs'

export const CHROMIUM = '/usr/bin/chromium'

/** playwright-core, or the reason the browser tests are skipped. */
export async function loadPlaywright(): Promise<typeof import('playwright-core') | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (Debian: apt-get install chromium)`
  try {
    return await import('playwright-core')
  } catch {
    return 'playwright-core is not installed (npm install)'
  }
}

/** Chromium as the browser tests run it: headless, no sandbox (root in CI), nothing fetched from the network. */
export async function launchChromium(
  playwright: typeof import('playwright-core'),
  profileDir: string,
  options: { viewport?: { width: number; height: number } } = {},
) {
  return playwright.chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    ...options,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
