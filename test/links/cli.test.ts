import t from 'tap'
import { spawn } from 'node:child_process'
import { forEachBackend } from '../helpers/backends.js'
import { startApp, insertDatasets } from '../helpers/app.js'
import { buildApp } from '../../src/app.js'
import { linksCommand } from '../../src/cli/links-command.js'
import { linksDb } from '../../src/links/tables.js'
import { startFixtureServer } from './fixture-server.js'

/** Runs the CLI without blocking this process (whose loopback server the CLI asks). */
function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.once('error', reject)
    child.once('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

const LINK_ENV = { LINKCHECK_PRIVATE_ADDRESSES: 'allow', LINKCHECK_HOST_DELAY_MS: '0', LINKCHECK_TIMEOUT_MS: '3000' }

await forEachBackend(
  t,
  async (t, backend) => {
    const server = await startFixtureServer(t)
    const app = await startApp(t, backend)
    await insertDatasets(app, [
      {
        name: 'cli-marburg',
        title: 'CLI Marburg',
        owner_org: 'marburg',
        resources: [
          { name: 'a', url: `${server.base}/ok`, format: 'CSV' },
          { name: 'b', url: `${server.base}/missing`, format: 'CSV' },
        ],
      },
      {
        name: 'cli-kassel',
        title: 'CLI Kassel',
        owner_org: 'kassel',
        resources: [{ name: 'c', url: `${server.base}/html`, format: 'CSV' }],
      },
    ])
    const db = linksDb(backend.store.db)
    const databaseUrl =
      backend.config.database.kind === 'sqlite' ? `sqlite:${backend.config.database.file}` : backend.config.database.url

    await t.test('godonu links check --org NAME: plain lines when not on a terminal', async (t) => {
      const run = await runCli(['links', 'check', '--org', 'marburg'], { ...LINK_ENV, DATABASE_URL: databaseUrl })
      t.equal(run.status, 2, `exit 2: a link is unreachable (${run.stderr})`)
      const lines = run.stdout.trim().split('\n')
      t.same(
        lines.slice(0, -1).sort(),
        [`reachable 200 ${server.base}/ok`, `unreachable http_error ${server.base}/missing`].sort(),
      )
      t.equal(lines.at(-1), 'checked 2 of 2 links: 1 reachable, 1 unreachable; datasets rescored: 1')
      t.notOk(server.hits.get('HEAD /html'), "another Kommune's link is not checked")
      t.equal((await db.selectFrom('link_check').select('url').execute()).length, 2)
      const again = await runCli(['links', 'check', '--org', 'marburg'], { ...LINK_ENV, DATABASE_URL: databaseUrl })
      t.equal(server.hits.get('HEAD /ok'), 2, 'on demand: checked again although not due')
      t.equal(again.status, 2)
      const unknown = await runCli(['links', 'check', '--org', 'atlantis'], { DATABASE_URL: databaseUrl })
      t.equal(unknown.status, 1)
      t.match(unknown.stderr, /^godonu: unknown organization "atlantis"/)
      const bad = await runCli(['links', 'frobnicate'], { DATABASE_URL: databaseUrl })
      t.equal(bad.status, 1)
      t.match(bad.stderr, /usage: godonu links check/)
    })

    await t.test('a progress bar on a terminal', async (t) => {
      let text = ''
      const code = await linksCommand(
        { ...backend.config, linkCheck: { ...backend.config.linkCheck, allowPrivateAddresses: true, hostDelayMs: 0 } },
        ['check'],
        { write: (s) => (text += s), isTTY: true, columns: 80 },
      )
      t.equal(code, 2)
      t.match(text, /^\r\[-+\] 0\/3 checked/, 'starts empty')
      t.match(text, /\r\[#+\] 3\/3 checked, 1 unreachable\n/, 'ends full')
      t.notMatch(text, /reachable 200/, 'no per-link lines')
      t.equal(server.hits.get('HEAD /html'), 1)
    })

    await t.test('the background scheduler (LINKCHECK_SCHEDULER=on) checks due links and stops on close', async (t) => {
      await db
        .updateTable('link_check_job')
        .set({ due_at: new Date(Date.now() - 1000).toISOString() })
        .execute()
      const before = server.hits.get('HEAD /html') ?? 0
      const scheduled = await buildApp(
        {
          ...backend.config,
          linkCheck: {
            ...backend.config.linkCheck,
            scheduler: true,
            tickMs: 50,
            allowPrivateAddresses: true,
            hostDelayMs: 0,
          },
        },
        { store: backend.store, logger: false },
      )
      const allDueLater = async () =>
        (await db.selectFrom('link_check_job').select('due_at').execute()).every(
          (j) => j.due_at > new Date().toISOString(),
        )
      for (let i = 0; i < 400 && !(await allDueLater()); i++) await new Promise((r) => setTimeout(r, 25))
      // A few more ticks: a due job would be checked again in them.
      await new Promise((r) => setTimeout(r, 200))
      await scheduled.fastify.close()
      t.equal(server.hits.get('HEAD /html'), before + 1, 'checked once in the background')
      const jobs = await db.selectFrom('link_check_job').selectAll().execute()
      t.ok(
        jobs.every((j) => j.claimed_by === null),
        'no job left leased after close',
      )
      t.ok(
        jobs.every((j) => j.due_at > new Date().toISOString()),
        'every job due later',
      )
    })

    await t.test('a stopping scheduler aborts its checks, records none of them and leaves no job leased', async (t) => {
      const slow = Array.from({ length: 6 }, (_, i) => `${server.base}/slow/${i}`)
      await insertDatasets(app, [
        {
          name: 'cli-giessen-slow',
          title: 'Langsam',
          owner_org: 'giessen',
          resources: slow.map((url, i) => ({ name: `s${i}`, url, format: 'CSV' })),
        },
      ])
      const slowHits = () => slow.reduce((n, url) => n + (server.hits.get(`HEAD ${new URL(url).pathname}`) ?? 0), 0)
      const scheduled = await buildApp(
        {
          ...backend.config,
          linkCheck: {
            ...backend.config.linkCheck,
            scheduler: true,
            tickMs: 50,
            allowPrivateAddresses: true,
            perHost: 1,
            hostDelayMs: 0,
            timeoutMs: 60_000,
          },
        },
        { store: backend.store, logger: false },
      )
      for (let i = 0; i < 400 && slowHits() === 0; i++) await new Promise((r) => setTimeout(r, 25))
      t.equal(slowHits(), 1, 'one slow check in flight (per-host limit 1)')
      await scheduled.fastify.close()
      t.equal(slowHits(), 1, 'no further check started')
      const hashes = await db
        .selectFrom('link_check_job')
        .select(['url', 'claimed_by', 'due_at'])
        .where('url', 'in', slow)
        .execute()
      t.equal(hashes.length, 6)
      t.ok(
        hashes.every((j) => j.claimed_by === null),
        'every job released',
      )
      t.ok(
        hashes.every((j) => j.due_at <= new Date().toISOString()),
        'and still due',
      )
      t.same(
        await db.selectFrom('link_check').select('url').where('url', 'in', slow).execute(),
        [],
        'the aborted check is not recorded',
      )
    })

    await t.test('the scheduler is off by default', async (t) => {
      t.equal(backend.config.linkCheck.scheduler, false)
    })
  },
  LINK_ENV,
)
