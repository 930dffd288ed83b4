import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { buildApp } from '../app.js'
import { ConfigError, loadConfig, redact } from '../config.js'
import { openStore } from '../db/connect.js'
import { MigrationError, migrateToLatest } from '../db/migrate.js'
import { renderOpenApi, OPENAPI_PATH } from './openapi.js'

const USAGE = `usage: godonu <command> [options]

commands:
  serve                         start the HTTP service (HOST, PORT, DATABASE_URL, BASE_URL)
  migrate                       apply pending database migrations
  seed --datasets N [--seed S]  add N deterministic synthetic datasets (never deletes)
  openapi [--out FILE]          write the OpenAPI document (default ${OPENAPI_PATH})
`

function out(line: string): void {
  process.stdout.write(`${line}\n`)
}

/** Expected failures end the process with one clear line, never a stack trace. */
function fail(message: string): never {
  process.stderr.write(`godonu: ${message}\n`)
  process.exit(1)
}

async function serve(): Promise<void> {
  const config = loadConfig()
  const app = await buildApp(config)
  try {
    await app.fastify.listen({ host: config.host, port: config.port })
  } catch (err) {
    await app.fastify.close().catch(() => {})
    const e = err as NodeJS.ErrnoException
    if (e.code === 'EADDRINUSE') fail(`port ${config.port} on ${config.host} is already in use (set PORT to another one)`)
    if (e.code === 'EACCES') fail(`no permission to listen on ${config.host}:${config.port}`)
    if (e.code === 'EADDRNOTAVAIL') fail(`cannot listen on ${config.host}: address not available (check HOST)`)
    throw err
  }
  const close = async () => {
    await app.fastify.close()
    process.exit(0)
  }
  process.once('SIGINT', close)
  process.once('SIGTERM', close)
}

async function migrate(): Promise<void> {
  const config = loadConfig()
  const store = await openStore(config.database)
  try {
    const applied = await migrateToLatest(store.db)
    out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date')
  } finally {
    await store.close()
  }
}

async function seed(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { datasets: { type: 'string' }, seed: { type: 'string', default: '1' } } })
  const count = Number(values.datasets)
  const seedValue = Number(values.seed)
  if (!Number.isInteger(count) || count < 1) fail('seed needs --datasets N with N a positive whole number')
  if (!Number.isInteger(seedValue)) fail('--seed must be a whole number')
  const config = loadConfig()
  const { seedCatalog } = await import('./seed-command.js')
  const result = await seedCatalog(config, count, seedValue, (done) => process.stderr.write(`\rseeded ${done}/${count}`))
  process.stderr.write('\n')
  out(`added ${result.inserted} datasets in ${result.seconds.toFixed(1)} s (${Math.round(result.inserted / Math.max(result.seconds, 0.001))}/s) to ${redact(config.database.kind === 'mysql' ? config.database.url : `sqlite:${config.database.file}`)}`)
}

async function openapi(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { out: { type: 'string', default: OPENAPI_PATH } } })
  writeFileSync(values.out!, await renderOpenApi())
  out(`wrote ${values.out}`)
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
      return serve()
    case 'migrate':
      return migrate()
    case 'seed':
      return seed(rest)
    case 'openapi':
      return openapi(rest)
    case undefined:
    case 'help':
    case '--help':
      out(USAGE)
      return
    default:
      process.stdout.write(USAGE)
      fail(`unknown command "${command}" (see the usage above)`)
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof MigrationError) fail(err.message)
  const e = err as Error & { code?: string }
  if (e?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') fail(e.message)
  process.stderr.write(`godonu: unexpected error: ${e?.stack ?? String(err)}\n`)
  process.exit(1)
})
