#!/usr/bin/env node
// Builds dist/ (`npm run build`, and `npm install` through `prepare`): removes the previous build, so that no
// stale module survives (a stale migration would still be run), compiles src/ and migrations/ with
// tsconfig.build.json, then links the run-time assets beside the compiled tree: modules find them relative to
// their own file ('../../catalog' from dist/src/catalog/), and a link keeps one copy, the repository's.
import { spawnSync } from 'node:child_process'
import { existsSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = fileURLToPath(new URL('../dist/', import.meta.url))
const ASSET_DIRS = ['catalog', 'openapi']

let tsc
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
} catch {
  // `npm install --omit=dev` has no compiler: keep a build made before, else say what to do.
  if (existsSync(`${dist}src/cli/main.js`)) {
    console.error('build: typescript is not installed (npm install --omit=dev?); keeping the existing dist/')
    process.exit(0)
  }
  console.error(
    'build: typescript is not installed; run `npm install` with the development dependencies to build dist/',
  )
  process.exit(1)
}

rmSync(dist, { recursive: true, force: true })
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
if (compiled.status !== 0) {
  console.error(`build: tsc failed (exit ${compiled.status ?? compiled.signal}); dist/ is incomplete`)
  process.exit(1)
}
for (const dir of ASSET_DIRS) symlinkSync(`../${dir}`, `${dist}${dir}`, 'junction')
