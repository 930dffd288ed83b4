#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm install` or `npm run build`).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url))
if (!existsSync(main)) {
  console.error('godonu: dist/ is not built; run `npm install` or `npm run build` first')
  process.exit(1)
}
await import(main)
