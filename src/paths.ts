/**
 * Where the package's own files are, the same from the TypeScript sources (src/, run through tsx) and from
 * the compiled build (dist/src/): the package root is the nearest folder above this module that holds the
 * package's package.json. (A path relative to the module file, `new URL('../..', import.meta.url)`, points
 * at dist/ in the build, and `../shared` beside it does not exist.)
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const PACKAGE_NAME = 'godonu-catalog'

function findPackageRoot(start: string): string {
  let dir = start
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir
      } catch {
        // not ours (or unreadable): keep looking upwards
      }
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${start}`)
    dir = parent
  }
}

/** The repository / package root (the folder with package.json, catalog/, src/). */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)))

/** The package's data folder (vocabularies, shapes, JSON-LD context). */
export const CATALOG_DIR = join(PACKAGE_ROOT, 'catalog')

/** `../shared` beside the repository: reference material for tests and `--shapes official` (may be absent). */
export const SHARED_DIR = resolve(PACKAGE_ROOT, '../shared')
