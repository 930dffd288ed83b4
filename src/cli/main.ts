import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { runServer } from '../server.js'
import { ConfigError, checkHostResolves, loadConfig, redact } from '../config.js'
import { openStore } from '../db/connect.js'
import { MigrationError, migrateToLatest } from '../db/migrate.js'
import { CatalogError } from '../errors.js'
import { renderOpenApi, OPENAPI_PATH } from './openapi.js'
import { ROLES, UserService, type Role } from '../auth/users.js'
import { CatalogService } from '../catalog/service.js'
import { vocabularies } from '../catalog/vocabularies.js'
import { ckanTimestampIn } from '../catalog/time.js'

const USAGE = `usage: godonu <command> [options]

commands:
  serve                         start the HTTP service (HOST, PORT, DATABASE_URL, BASE_URL)
  migrate                       apply pending database migrations
  seed --datasets N [--seed S]  add N deterministic synthetic datasets (never deletes)
  openapi [--out FILE]          write the OpenAPI document (default ${OPENAPI_PATH})
  user add NAME [--sysadmin] [--org ORG --role admin|editor|member] [--email E] [--fullname F]
                                create a user (or give an existing one a role in a Kommune)
  validate FILE|URL [--profile dcat_ap_de_2|dcat_ap_de_3] [--lang de|en] [--shapes official]
                                validate a DCAT RDF document; exit 2 when it has violations
  token create NAME [--name LABEL] [--expires-in SECONDS]
                                create an API token for a user; the token is the last line printed
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
  // The background harvest runs beside the primary (or the one process), never on a request path.
  const scheduler = config.harvest.scheduler ? await (await import('../harvest/scheduler.js')).startHarvestScheduler(config, (await import('../logging.js')).createLogger(config).child({ component: 'harvest' })) : undefined
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
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { profile: { type: 'string', default: 'dcat_ap_de_2' }, lang: { type: 'string', default: 'de' }, shapes: { type: 'string', default: 'own' } },
  })
  const source = positionals[0]
  if (!source) fail('usage: godonu validate FILE|URL [--profile dcat_ap_de_2|dcat_ap_de_3] [--lang de|en]')
  if (values.profile !== 'dcat_ap_de_2' && values.profile !== 'dcat_ap_de_3') fail('--profile must be dcat_ap_de_2 or dcat_ap_de_3')
  if (values.shapes !== 'own' && values.shapes !== 'official') fail('--shapes must be own or official')
  const { parseRdf, rdfFormat, RdfParseError } = await import('../dcat/parse.js')
  const { createValidator, formatReport } = await import('../validation/index.js')
  let text: string
  let format: string | undefined
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source, { headers: { accept: 'text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8' } }).catch((err: Error) => fail(`cannot fetch ${source}: ${err.message}`))
    if (!response.ok) fail(`cannot fetch ${source}: HTTP ${response.status}`)
    format = rdfFormat((response.headers.get('content-type') ?? '').split(';')[0]!.trim())
    text = await response.text()
  } else {
    try {
      text = readFileSync(source, 'utf8')
    } catch (err) {
      fail(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  format ??= rdfFormat(source.split('.').pop() ?? '') ?? 'ttl'
  let quads
  try {
    quads = await parseRdf(text, format, { baseIri: /^https?:/.test(source) ? source : `file://${source}` })
  } catch (err) {
    if (err instanceof RdfParseError) fail(`${source} is not valid ${format}: ${err.message}`)
    throw err
  }
  const validator = await createValidator({ profile: values.profile, shapes: values.shapes as 'own' | 'official' })
  const report = await validator.validate(quads)
  out(formatReport(report, values.lang === 'en' ? 'en' : 'de'))
  process.exitCode = report.conforms ? 0 : 2
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
