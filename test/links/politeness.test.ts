/**
 * The link checker's politeness limits hold (issue #12): at most `concurrency` checks in flight over all hosts,
 * at most `perHost` against one host, and at least `hostDelayMs` between the starts of two checks against one
 * host; a check stopped while it waits for its turn never runs. Shown for the Politeness class alone and through
 * the real checker path (LinkChecker.runDue over the job table), counted by loopback HTTP servers on ports of
 * their own (a host is host:port, so each server is a host of its own).
 *
 * The delay is checked as an ordering: the server's own receive times (performance.now, this process) of two
 * checks against one host are at least hostDelayMs apart, less a small tolerance. No upper bound on time is
 * asserted anywhere.
 */
import t from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Test } from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { LinkChecker } from '../../src/links/checker.js'
import { syncJobs } from '../../src/links/jobs.js'
import { Politeness, hostKey } from '../../src/links/politeness.js'
import { linksDb, urlHash } from '../../src/links/tables.js'
import { testLinkSettings } from './settings.js'

/** Timer granularity: Date.now() (which the limiter schedules by) counts whole milliseconds. */
const TOLERANCE_MS = 5
/**
 * Through the checker, a receive time also holds the request's way through this process's event loop (client
 * and server share it): other checks' work can hold up an earlier request more than a later one. Still far
 * below the delay, which without the limit would leave gaps of about 0 ms.
 */
const SERVER_TOLERANCE_MS = 20
/** Ends a wait that an abort failed to end (it is ten minutes long) after a minute instead of tap's 600 s. */
const HANG_GUARD = { timeout: 60_000 }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(check: () => boolean, what: string, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return
    await sleep(10)
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** What a set of hosts saw, counted over all of them: in flight now and at most, per host too, and when each request came. */
class Tally {
  inFlight = 0
  maxInFlight = 0
  private readonly hostInFlight = new Map<string, number>()
  readonly maxPerHost = new Map<string, number>()
  /** host -> receive times (performance.now) in order. */
  readonly starts = new Map<string, number[]>()
  /** Every request, in order of receipt: host and path. */
  readonly requests: Array<{ host: string; path: string }> = []

  enter(host: string, path: string): void {
    this.requests.push({ host, path })
    const starts = this.starts.get(host) ?? []
    starts.push(performance.now())
    this.starts.set(host, starts)
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    const onHost = (this.hostInFlight.get(host) ?? 0) + 1
    this.hostInFlight.set(host, onHost)
    this.maxPerHost.set(host, Math.max(this.maxPerHost.get(host) ?? 0, onHost))
  }

  leave(host: string): void {
    this.inFlight--
    this.hostInFlight.set(host, this.hostInFlight.get(host)! - 1)
  }

  /** The least time between two consecutive starts against one host, over all hosts. */
  minGap(): number {
    let min = Infinity
    for (const starts of this.starts.values())
      for (let i = 1; i < starts.length; i++) min = Math.min(min, starts[i] - starts[i - 1])
    return min
  }
}

interface Hosts {
  /** `http://127.0.0.1:<port>` per host. */
  bases: string[]
  tally: Tally
  /** Answers the requests held by `gate` now. */
  openGates: () => void
}

/**
 * `count` loopback servers (hosts), counted together in one Tally. Each answers HEAD and GET with 200 text/csv
 * after `holdMs` (so that checks overlap when the limits let them), or, with `gate`, only when openGates is called.
 */
async function startHosts(t: Test, count: number, options: { holdMs?: number; gate?: boolean } = {}): Promise<Hosts> {
  const tally = new Tally()
  const gated: Array<() => void> = []
  const bases: string[] = []
  for (let i = 0; i < count; i++) {
    let host = ''
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      tally.enter(host, new URL(req.url ?? '/', 'http://x').pathname)
      res.once('close', () => tally.leave(host))
      const answer = () => res.writeHead(200, { 'content-type': 'text/csv' }).end('a,b\n')
      if (options.gate) return void gated.push(answer)
      const timer = setTimeout(answer, options.holdMs ?? 0)
      res.once('close', () => clearTimeout(timer))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    host = `127.0.0.1:${port}`
    bases.push(`http://${host}`)
    t.teardown(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    )
  }
  return { bases, tally, openGates: () => gated.splice(0).forEach((answer) => answer()) }
}

// ---------------------------------------------------------------------------------------------
// The Politeness class alone

/** Runs tasks through a Politeness, counting what runs at once, overall and per host, and when each started. */
function instrumented(politeness: Politeness) {
  const tally = new Tally()
  const run = (host: string, holdMs: number, signal?: AbortSignal) =>
    politeness.run(
      host,
      async () => {
        tally.enter(host, '')
        try {
          await sleep(holdMs)
        } finally {
          tally.leave(host)
        }
      },
      signal,
    )
  return { tally, run }
}

await t.test('Politeness alone', async (t) => {
  await t.test('global concurrency: never more than `concurrency` at once over all hosts, and that many', async (t) => {
    const { tally, run } = instrumented(new Politeness({ concurrency: 3, perHost: 10, hostDelayMs: 0 }))
    const hosts = ['a:1', 'b:1', 'c:1', 'd:1']
    await Promise.all(hosts.flatMap((host) => Array.from({ length: 5 }, () => run(host, 20))))
    t.equal(tally.requests.length, 20, 'every task ran')
    t.equal(tally.maxInFlight, 3, 'at most 3 at once, and 3 were reached')
  })

  await t.test('per-host concurrency: never more than `perHost` at once against one host', async (t) => {
    const { tally, run } = instrumented(new Politeness({ concurrency: 10, perHost: 2, hostDelayMs: 0 }))
    const hosts = ['a:1', 'b:1']
    await Promise.all(hosts.flatMap((host) => Array.from({ length: 6 }, () => run(host, 20))))
    t.equal(tally.requests.length, 12)
    t.same(Object.fromEntries(tally.maxPerHost), { 'a:1': 2, 'b:1': 2 }, 'at most 2 per host, and 2 were reached')
    t.equal(tally.maxInFlight, 4, 'both hosts at once')
  })

  await t.test('host delay: starts against one host at least hostDelayMs apart; other hosts meanwhile', async (t) => {
    const hostDelayMs = 40
    const { tally, run } = instrumented(new Politeness({ concurrency: 1, perHost: 2, hostDelayMs }))
    await Promise.all(['a:1', 'b:1'].flatMap((host) => Array.from({ length: 3 }, () => run(host, 0))))
    t.equal(tally.requests.length, 6)
    const gap = tally.minGap()
    t.ok(gap >= hostDelayMs - TOLERANCE_MS, `least gap between starts against one host: ${gap.toFixed(1)} ms`)
    // A check waiting for its host's delay holds no slot: with one slot, the other host goes first.
    const order = tally.requests.map((r) => r.host)
    t.same(
      order.slice(0, 2).sort(),
      ['a:1', 'b:1'],
      `both hosts start before either's second check: ${order.join(', ')}`,
    )
  })

  await t.test('an abort while waiting runs nothing', async (t) => {
    /** One slot, taken by a task that runs until released; a second task waits for it, abortable. */
    const waitingBehindBlocker = () => {
      const politeness = new Politeness({ concurrency: 1, perHost: 1, hostDelayMs: 0 })
      let releaseBlocker!: () => void
      const blocker = politeness.run('a:1', () => new Promise<void>((resolve) => (releaseBlocker = resolve)))
      const controller = new AbortController()
      const counts = { ran: 0 }
      const waiting = politeness.run(
        'b:1',
        async () => {
          counts.ran++
        },
        controller.signal,
      )
      const release = async () => {
        releaseBlocker()
        await blocker
      }
      return { politeness, controller, counts, waiting, release }
    }

    await t.test('waiting for a slot', async (t) => {
      const { politeness, controller, counts, waiting, release } = waitingBehindBlocker()
      await sleep(20)
      t.equal(counts.ran, 0, 'still waiting while the slot is taken')
      controller.abort()
      politeness.wakeAll() // as the checker does on its stop signal
      await release()
      await t.rejects(waiting, { name: 'AbortError' }, 'the wait ends with AbortError')
      await sleep(20)
      t.equal(counts.ran, 0, 'the aborted task never runs, not even when the slot is free again')
      let after = 0
      await politeness.run('b:1', async () => {
        after++
      })
      t.equal(after, 1, 'the slot was given back: a later task runs')
    })

    await t.test('waiting for a slot, nobody waking it: the abort alone ends the wait', HANG_GUARD, async (t) => {
      const { controller, counts, waiting, release } = waitingBehindBlocker()
      await sleep(20)
      controller.abort()
      await t.rejects(waiting, { name: 'AbortError' }, 'rejected while the slot is still taken')
      t.equal(counts.ran, 0)
      await release()
    })

    await t.test('many hosts: idle states within their delay are swept, not kept for good', async (t) => {
      const politeness = new Politeness({ concurrency: 10, perHost: 1, hostDelayMs: 30 })
      for (let i = 0; i < 1100; i++) await politeness.run(`h${i}:1`, async () => {})
      t.ok(politeness.trackedHosts > 0, `hosts within their delay are kept (${politeness.trackedHosts})`)
      await sleep(50)
      await politeness.run('last:1', async () => {})
      t.ok(politeness.trackedHosts <= 1025, `swept once past 1024 hosts (${politeness.trackedHosts} kept)`)
    })

    await t.test('waiting for the host delay', HANG_GUARD, async (t) => {
      const politeness = new Politeness({ concurrency: 4, perHost: 4, hostDelayMs: 600_000 })
      let ran = 0
      await politeness.run('a:1', async () => {
        ran++
      })
      const controller = new AbortController()
      const waiting = politeness.run(
        'a:1',
        async () => {
          ran++
        },
        controller.signal,
      )
      await sleep(20)
      controller.abort()
      await t.rejects(waiting, { name: 'AbortError' }, 'the wait (ten minutes) ends at the abort')
      t.equal(ran, 1, 'only the first task ran')
    })

    await t.test('aborted before it asks', async (t) => {
      const politeness = new Politeness({ concurrency: 4, perHost: 4, hostDelayMs: 0 })
      let ran = 0
      await t.rejects(
        politeness.run(
          'a:1',
          async () => {
            ran++
          },
          AbortSignal.abort(),
        ),
        { name: 'AbortError' },
      )
      t.equal(ran, 0)
    })
  })

  await t.test('hostKey: host and port of the URL', async (t) => {
    t.equal(hostKey('http://127.0.0.1:8080/a'), '127.0.0.1:8080')
    t.not(hostKey('http://127.0.0.1:8080/a'), hostKey('http://127.0.0.1:8081/a'), 'another port is another host')
    t.equal(hostKey('HTTP://Example.ORG/x'), 'example.org')
  })
})

// ---------------------------------------------------------------------------------------------
// Through the checker

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const db = linksDb(app.store.db)
  let datasets = 0
  /** Stores a dataset with these URLs, makes their jobs and returns their hashes (the `among` of a run). */
  const jobsFor = async (urls: string[]): Promise<string[]> => {
    const name = `politeness-${++datasets}`
    await insertDatasets(app, [
      {
        name,
        title: name,
        owner_org: 'marburg',
        resources: urls.map((url, i) => ({ name: `r${i}`, url, format: 'CSV' })),
      },
    ])
    await syncJobs(app.store)
    return urls.map((url) => urlHash(url))
  }
  const urlsOn = (bases: string[], perHost: number, tag: string) =>
    bases.flatMap((base) => Array.from({ length: perHost }, (_, i) => `${base}/${tag}/${i}.csv`))

  await t.test('global concurrency holds over several hosts, and is reached', async (t) => {
    const { bases, tally } = await startHosts(t, 3, { holdMs: 80 })
    const among = await jobsFor(urlsOn(bases, 5, 'global'))
    const checker = new LinkChecker(app.store, testLinkSettings({ concurrency: 3, perHost: 3, hostDelayMs: 0 }))
    const summary = await checker.runDue({ among })
    t.equal(summary.checked, 15, 'every job checked')
    t.equal(summary.reachable, 15)
    t.equal(tally.requests.length, 15, 'one request per check')
    t.equal(
      tally.maxInFlight,
      3,
      `at most 3 requests in flight over the 3 hosts, and 3 were (saw ${tally.maxInFlight})`,
    )
  })

  await t.test('per-host concurrency holds on every host, and is reached', async (t) => {
    const { bases, tally } = await startHosts(t, 2, { holdMs: 80 })
    const among = await jobsFor(urlsOn(bases, 6, 'perhost'))
    const checker = new LinkChecker(app.store, testLinkSettings({ concurrency: 8, perHost: 2, hostDelayMs: 0 }))
    t.equal((await checker.runDue({ among })).checked, 12)
    t.equal(tally.requests.length, 12)
    t.same(
      [...tally.maxPerHost.values()],
      [2, 2],
      `at most 2 in flight per host, and 2 were (saw ${[...tally.maxPerHost.values()].join(', ')})`,
    )
    t.equal(tally.maxInFlight, 4, 'the hosts were checked at the same time')
  })

  await t.test('host delay: the server receives two checks at least hostDelayMs apart', async (t) => {
    const hostDelayMs = 200
    const { bases, tally } = await startHosts(t, 2)
    const among = await jobsFor(urlsOn(bases, 3, 'delay'))
    // perHost 2 and quick answers: without the delay, two checks would reach each host at once.
    const checker = new LinkChecker(app.store, testLinkSettings({ concurrency: 8, perHost: 2, hostDelayMs }))
    t.equal((await checker.runDue({ among })).checked, 6)
    t.equal(tally.requests.length, 6)
    for (const [host, starts] of tally.starts) {
      t.equal(starts.length, 3, `${host}: three checks`)
      const gaps = starts.slice(1).map((s, i) => s - starts[i])
      t.ok(
        gaps.every((gap) => gap >= hostDelayMs - SERVER_TOLERANCE_MS),
        `${host}: gaps between starts ${gaps.map((g) => g.toFixed(1)).join(', ')} ms, each >= ${hostDelayMs} - ${SERVER_TOLERANCE_MS}`,
      )
    }
    // Ordering, not speed: each host's first check comes before either host's second (the delay holds no slot).
    const order = tally.requests.map((r) => r.host)
    t.same(new Set(order.slice(0, 2)).size, 2, 'both hosts are asked before either is asked again')
  })

  await t.test('a stop while checks wait for a slot: the waiting ones are never requested', async (t) => {
    const { bases, tally, openGates } = await startHosts(t, 1, { gate: true })
    const urls = urlsOn(bases, 4, 'abort-slot')
    const among = await jobsFor(urls)
    const checker = new LinkChecker(app.store, testLinkSettings({ concurrency: 1, perHost: 1, hostDelayMs: 0 }))
    const controller = new AbortController()
    const run = checker.runDue({ among, signal: controller.signal })
    await until(() => tally.requests.length === 1, 'the first request')
    await sleep(50)
    t.equal(tally.requests.length, 1, 'one slot: one request, three checks waiting')
    controller.abort()
    const summary = await run
    openGates()
    t.equal(summary.checked, 0, 'nothing recorded')
    t.equal(tally.requests.length, 1, 'the waiting checks never reached the server')
    const jobs = await db.selectFrom('link_check_job').selectAll().where('url_hash', 'in', among).execute()
    t.equal(jobs.length, 4)
    t.ok(
      jobs.every((j) => j.claimed_by === null && j.lease_until === null),
      'their jobs are released',
    )
    const checked = await db.selectFrom('link_check').select('url').where('url_hash', 'in', among).execute()
    t.same(checked, [], 'and no result is stored for any of them')
  })

  await t.test('a stop while checks wait for their host delay: they are never requested', async (t) => {
    const { bases, tally } = await startHosts(t, 1)
    const among = await jobsFor(urlsOn(bases, 3, 'abort-delay'))
    // Ten minutes between starts: the run ends only if the stop ends the wait (else tap's timeout fails it).
    const checker = new LinkChecker(app.store, testLinkSettings({ concurrency: 4, perHost: 4, hostDelayMs: 600_000 }))
    const controller = new AbortController()
    let recorded = 0
    const run = checker.runDue({ among, signal: controller.signal, onChecked: () => recorded++ })
    await until(() => recorded >= 1, 'the first check recorded')
    controller.abort()
    const summary = await run
    t.equal(summary.checked, 1, 'the first check only')
    t.equal(tally.requests.length, 1, 'the two waiting checks never reached the server')
    const checked = await db.selectFrom('link_check').select('url').where('url_hash', 'in', among).execute()
    t.equal(checked.length, 1)
  })
})
