import t from 'tap'
import { spawn } from 'node:child_process'
import { forEachBackend, type Backend } from '../helpers/backends.js'
import { REPO_ROOT } from '../helpers/servers.js'
import { HarvestJobs } from '../../src/harvest/jobs.js'
import { harvestDb } from '../../src/harvest/tables.js'
import { localServer } from './support.js'
import { harvestCommand } from '../../src/cli/harvest-command.js'

/**
 * `godonu harvest` as an operator runs it (a child process on the test's database): add, run (plain progress
 * lines, the summary last, exit 0 only on success), status, abort; and a run killed mid-job: its job is failed
 * once its lease expires (never stuck), nothing is half-written, and the next run completes.
 */
function databaseUrl(backend: Backend): string {
  const db = backend.config.database
  return db.kind === 'mysql' ? db.url : `sqlite:${db.file}`
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function godonu(
  backend: Backend,
  args: string[],
  env: Record<string, string> = {},
  onLine?: (line: string, kill: () => void) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'harvest', ...args], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl(backend),
        LOG_LEVEL: 'silent',
        HARVEST_RETRIES: '0',
        HARVEST_REQUEST_TIMEOUT_MS: '10000',
        // The sources listen on loopback: allowed explicitly (deny by default).
        HARVEST_PRIVATE_ADDRESSES: 'allow',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      if (onLine) for (const line of d.toString().split('\n')) if (line) onLine(line, () => child.kill('SIGKILL'))
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The command in this process (what does not need a process of its own): exit code and output. */
async function inProcess(backend: Backend, args: string[]): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await harvestCommand(
    args,
    { ...backend.config, harvest: { ...backend.config.harvest, retries: 0, allowPrivateAddresses: true } },
    (l) => (stdout += `${l}\n`),
    (l) => (stderr += l),
    false,
  )
  return { code, stdout, stderr }
}

/** As CKAN caps rows server-side: at most 30 per page, whatever was asked. */
function ckanPage(all: Array<Record<string, unknown>>, url: URL) {
  const start = Number(url.searchParams.get('start'))
  const rows = Math.min(30, Number(url.searchParams.get('rows')))
  return JSON.stringify({ success: true, result: { count: all.length, results: all.slice(start, start + rows) } })
}

const dataset = (i: number) => ({
  id: `id-${String(i).padStart(4, '0')}`,
  name: `cli-datensatz-${i}`,
  title: `Datensatz ${i}`,
  notes: 'Beschreibung',
  license_id: 'dl-by-de/2.0',
  resources: [{ url: `https://example.org/${i}.csv`, format: 'CSV' }],
})

await forEachBackend(t, async (t, backend) => {
  const all = Array.from({ length: 30 }, (_, i) => dataset(i))
  let hang = false
  const held: Array<() => void> = []
  t.teardown(() => held.forEach((release) => release()))
  const { base } = await localServer(t, (req, res) => {
    const url = new URL(req.url!, 'http://x')
    if (url.pathname.startsWith('/broken')) {
      res.statusCode = 404
      return res.end('no')
    }
    if (hang && Number(url.searchParams.get('start')) > 0) {
      // The second page never comes (until the test ends): the run is killed while waiting for it.
      held.push(() => res.destroy())
      return
    }
    res.setHeader('content-type', 'application/json')
    res.end(ckanPage(all, url))
  })

  await t.test('add, run, status', async (t) => {
    const added = await inProcess(backend, [
      'add',
      'stadtportal',
      '--org',
      'giessen',
      '--type',
      'ckan',
      '--url',
      base,
      '--interval',
      '12',
    ])
    t.equal(added.code, 0, added.stderr)
    t.match(added.stdout, /added harvest source stadtportal .* every 12 h/)
    const bad = await inProcess(backend, ['add', 'x', '--org', 'nirgendwo', '--type', 'ckan', '--url', base])
    t.equal(bad.code, 2)
    t.match(bad.stderr, /unknown organization "nirgendwo"/)
    const run = await godonu(backend, ['run', 'stadtportal'])
    t.equal(run.code, 0, run.stderr)
    const lines = run.stdout.trim().split('\n')
    t.match(
      lines.at(-1),
      /^finished: added 30, updated 0, unchanged 0, withdrawn 0, skipped 0, failed 0 \(1 pages, [\d.]+ s\)$/,
      'the summary is the last line',
    )
    t.ok(
      lines.some((l) => l.startsWith('page 1: 30 datasets')),
      'plain progress lines when not on a terminal',
    )
    const status = await inProcess(backend, ['status', 'stadtportal'])
    t.match(status.stdout, /finished\s+\S+: added 30/)
    const list = await inProcess(backend, ['list'])
    t.match(list.stdout, /stadtportal\tckan\tgiessen\tevery 12 h/)
  })

  await t.test('a failing source: exit 1, the error and the summary', async (t) => {
    t.equal(
      (await inProcess(backend, ['add', 'kaputt', '--org', 'giessen', '--type', 'dcat', '--url', `${base}/broken`]))
        .code,
      0,
    )
    const run = await inProcess(backend, ['run', 'kaputt'])
    t.equal(run.code, 1)
    t.match(run.stdout, /failed: HTTP 404/)
    t.match(run.stdout.trim().split('\n').at(-1), /^failed: added 0/)
    t.equal((await inProcess(backend, ['abort', 'kaputt'])).code, 1, 'nothing to abort')
  })

  await t.test(
    'killed during a job: failed when its lease expires, nothing half-written, the next run completes',
    async (t) => {
      all.push(...Array.from({ length: 30 }, (_, i) => dataset(100 + i)))
      hang = true
      const killed = await godonu(
        backend,
        ['run', 'stadtportal', '--full'],
        { HARVEST_LEASE_MS: '1000' },
        (line, kill) => {
          if (line.startsWith('page 1:')) kill()
        },
      )
      t.equal(killed.code, null, 'the run was killed')
      const jobs = new HarvestJobs(backend.store)
      const db = harvestDb(backend.store.db)
      const running = await db.selectFrom('harvest_job').selectAll().where('status', '=', 'running').execute()
      t.equal(running.length, 1, 'its job is left running by the dead process')
      // No wall-clock assertion: poll until the lease (1 s, by the database's clock) has expired, with a deadline.
      const deadline = Date.now() + 30_000
      while ((await jobs.failExpired()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
      const job = await jobs.job(running[0].id)
      t.equal(job?.status, 'failed', 'never stuck: failed once its lease expired')
      t.match(job?.error, /lease expired/)
      const packages = await db
        .selectFrom('package')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      const objects = await db
        .selectFrom('harvest_object')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      t.equal(
        Number(packages.n),
        Number(objects.n),
        'every dataset written has its harvest object (nothing half-written)',
      )
      t.equal(Number(packages.n), 30, 'and nothing was withdrawn')
      hang = false
      const again = await godonu(backend, ['run', 'stadtportal', '--full'])
      t.equal(again.code, 0, again.stdout + again.stderr)
      t.match(
        again.stdout.trim().split('\n').at(-1),
        /^finished: added 30, updated 0, unchanged 30, withdrawn 0, skipped 0, failed 0 \(2 pages/,
      )
    },
  )
})
