import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { runServer } from '../server.js'
import { ConfigError, checkHostResolves, loadConfig, redact } from '../config.js'
import { openStore } from '../db/connect.js'
import { MigrationError, migrateToLatest } from '../db/migrate.js'
import { CatalogError } from '../errors.js'
import { ROLES, UserService, type Role } from '../auth/users.js'
import { CatalogService } from '../catalog/service.js'
import { vocabularies } from '../catalog/vocabularies.js'
import { ckanTimestampIn } from '../catalog/time.js'

const USAGE = `usage: godonu <command> [options]

commands:
  serve                         start the HTTP service (HOST, PORT, DATABASE_URL, BASE_URL)
  migrate                       apply pending database migrations
  seed --datasets N [--seed S]  add N deterministic synthetic datasets (never deletes)
  openapi [--out FILE]          write the OpenAPI document (default openapi/openapi.json of the package)
  user add NAME [--sysadmin] [--org ORG --role admin|editor|member] [--email E] [--fullname F]
                                create a user (or give an existing one a role in a Kommune)
  validate FILE|URL|- [...] [--profile dcat_ap_de_2|dcat_ap_de_3] [--shapes own|official]
           [--format ttl|rdf|jsonld|nt] [--output text|json] [--lang de|en]
                                validate DCAT-AP.de documents; exit 0 conformant, 1 violations,
                                2 unusable input (see README, "Validation")
  token create NAME [--name LABEL] [--expires-in SECONDS]
                                create an API token for a user; the token is the last line printed
  links check [--org NAME]      check the links of the datasets now (exit 2 when some are unreachable)
  quality backfill              score every dataset without a stored MQA score (batched, idempotent)
  harvest add|list|run|status|abort ...
                                harvest sources of the Kommunen (see: godonu harvest help)
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
  await checkHostResolves(config)
  let server: Awaited<ReturnType<typeof runServer>>
  try {
    server = await runServer(config)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'EADDRINUSE') fail(`port ${config.port} on ${config.host} is already in use (set PORT to another one)`)
    if (e.code === 'EACCES') fail(`no permission to listen on ${config.host}:${config.port}`)
    if (e.code === 'EADDRNOTAVAIL') fail(`HOST="${config.host}" is not an address of this machine, cannot listen on it: set HOST to 127.0.0.1 (local only), 0.0.0.0 (all interfaces) or an address of this machine`)
    if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') fail(`HOST="${config.host}" cannot be resolved (${e.code}): set HOST to an address of this machine, e.g. 127.0.0.1`)
    // The worker has said why, in one line of its own.
    if (e.code === 'WORKER_START_FAILED') process.exit(1)
    throw err
  }
  // A cluster worker stops when its primary disconnects it.
  if (!server) return
  // The background harvest runs in a process of its own (src/harvest/worker-entry.ts), never on a request path.
  const scheduler = config.harvest.scheduler ? (await import('../harvest/scheduler.js')).startHarvestProcess(config, (await import('../logging.js')).createLogger(config).child({ component: 'harvest' })) : undefined
  const close = async () => {
    await scheduler?.stop()
    await server.close()
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
  // Loaded here, not at the top: it builds the whole app, which `serve`'s primary process never needs.
  const { renderOpenApi, OPENAPI_PATH } = await import('./openapi.js')
  const { values } = parseArgs({ args, options: { out: { type: 'string', default: OPENAPI_PATH } } })
  writeFileSync(values.out!, await renderOpenApi())
  out(`wrote ${values.out}`)
}

/** Opens the configured store, migrated and with the reference data loaded, for a user command. */
async function withCatalog<T>(body: (ctx: { users: UserService; service: CatalogService }) => Promise<T>): Promise<T> {
  const config = loadConfig()
  const store = await openStore(config.database)
  try {
    await migrateToLatest(store.db)
    const service = new CatalogService(store, vocabularies(), config)
    await service.init()
    return await body({ users: new UserService(store), service })
  } finally {
    await store.close()
  }
}

async function user(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { sysadmin: { type: 'boolean', default: false }, org: { type: 'string' }, role: { type: 'string' }, email: { type: 'string' }, fullname: { type: 'string' } },
  })
  const [verb, name] = positionals
  if (verb !== 'add' || !name) fail('usage: godonu user add NAME [--sysadmin] [--org ORG --role admin|editor|member]')
  if ((values.org && !values.role) || (!values.org && values.role)) fail('--org and --role go together')
  if (values.role && !ROLES.includes(values.role as Role)) fail(`--role must be one of ${ROLES.join(', ')}`)
  await withCatalog(async ({ users, service }) => {
    const existing = await users.findUser(name)
    const account = existing ?? (await users.addUser({ name, sysadmin: values.sysadmin, email: values.email, fullname: values.fullname }))
    out(existing ? `user ${name} exists (${account.id})` : `added user ${name} (${account.id})${values.sysadmin ? ' as sysadmin' : ''}`)
    if (values.org) {
      const org = service.reference.organization(values.org)
      if (!org) fail(`unknown organization "${values.org}" (see organization_list)`)
      await users.setMembership(account.id, org.id, values.role as Role)
      out(`${name} is ${values.role} of ${org.name}`)
    }
  })
}

async function token(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { name: { type: 'string', default: 'cli' }, 'expires-in': { type: 'string' } } })
  const [verb, name] = positionals
  if (verb !== 'create' || !name) fail('usage: godonu token create NAME [--name LABEL] [--expires-in SECONDS]')
  const seconds = values['expires-in'] === undefined ? undefined : Number(values['expires-in'])
  if (seconds !== undefined && (!Number.isInteger(seconds) || seconds < 1)) fail('--expires-in must be a positive number of seconds')
  await withCatalog(async ({ users }) => {
    const account = await users.findUser(name)
    if (!account) fail(`no user "${name}" (create it with: godonu user add ${name})`)
    const expires = seconds ? ckanTimestampIn(seconds) : null
    const issued = await users.createToken(account.id, values.name!, expires)
    out(`API token ${issued.id} for ${name}${expires ? `, valid until ${expires}Z` : ''}. It is shown only this once:`)
    out(issued.token)
  })
}

async function validate(args: string[]): Promise<void> {
  const { runValidate } = await import('./validate-command.js')
  process.exitCode = await runValidate(args)
}

async function links(args: string[]): Promise<void> {
  const { linksCommand, LinksUsageError } = await import('./links-command.js')
  try {
    process.exitCode = await linksCommand(loadConfig(), args, { write: (text) => process.stdout.write(text), isTTY: process.stdout.isTTY === true, columns: process.stdout.columns })
  } catch (err) {
    if (err instanceof LinksUsageError) fail(err.message)
    throw err
  }
}

async function quality(args: string[]): Promise<void> {
  const { qualityCommand, QualityUsageError } = await import('./quality-command.js')
  try {
    process.exitCode = await qualityCommand(loadConfig(), args, out)
  } catch (err) {
    if (err instanceof QualityUsageError) fail(err.message)
    throw err
  }
}

async function harvest(args: string[]): Promise<void> {
  const { harvestCommand, HARVEST_USAGE } = await import('./harvest-command.js')
  if (!args[0] || args[0] === 'help' || args[0] === '--help') {
    out(HARVEST_USAGE)
    return
  }
  const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text)
  process.exitCode = await harvestCommand(args, loadConfig(), out, write(process.stderr), process.stderr.isTTY === true)
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
    case 'user':
      return user(rest)
    case 'validate':
      return validate(rest)
    case 'token':
      return token(rest)
    case 'links':
      return links(rest)
    case 'quality':
      return quality(rest)
    case 'harvest':
      return harvest(rest)
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
  if (err instanceof CatalogError) fail(`${err.message} ${JSON.stringify(err.fields)}`)
  const e = err as Error & { code?: string }
  // SQLite opens a file it may not write read-only and fails at the first write.
  if (typeof e?.code === 'string' && e.code.startsWith('SQLITE_READONLY')) {
    fail(`DATABASE_URL: the SQLite database is read-only for this user (${e.message}): make the file and its directory writable for the user running godonu`)
  }
  if (e?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') fail(e.message)
  process.stderr.write(`godonu: unexpected error: ${e?.stack ?? String(err)}\n`)
  process.exit(1)
})
