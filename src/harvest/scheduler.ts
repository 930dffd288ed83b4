/**
 * The background harvest (HARVEST_SCHEDULER=on, `serve` only; off by default and in tests): every poll it fails
 * jobs whose lease expired, queues a job for each source whose interval has passed since its last job was
 * queued (by the database's clock) and that has no job waiting or running, and runs waiting jobs, at most
 * HARVEST_CONCURRENCY at once in this process. Several servers on one database may all run it: each job is
 * claimed by exactly one of them (jobs.ts). It has its own database connection and catalog service; its writes
 * reach every server's caches through the change feed, as any other process's writes do.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { AppConfig } from '../config.js'
import { openStore, type Store } from '../db/connect.js'
import { CatalogService } from '../catalog/service.js'
import { vocabularies } from '../catalog/vocabularies.js'
import { DatasetValidation } from '../validation/dataset-validation.js'
import { datasetRules } from '../catalog/dataset-rules.js'
import { fromMicros, toMicros } from '../catalog/time.js'
import { CatalogError } from '../errors.js'
import { Harvester } from './harvester.js'
import { databaseNow, harvestDb } from './tables.js'

export interface SchedulerLog {
  info(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export class HarvestScheduler {
  private timer: NodeJS.Timeout | undefined
  private readonly running = new Set<Promise<unknown>>()
  private stopped = false
  private ticking = false

  constructor(
    readonly harvester: Harvester,
    private readonly log: SchedulerLog,
    private readonly pollMs = 15_000,
  ) {}

  start(): void {
    const loop = () => {
      if (this.stopped) return
      this.tick()
        .catch((err: unknown) => this.log.error({ err }, 'harvest scheduler: a poll failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.pollMs)
        })
    }
    this.timer = setTimeout(loop, 0)
  }

  /** One poll: queue due sources, start waiting jobs up to the concurrency. */
  async tick(): Promise<void> {
    if (this.ticking) return
    this.ticking = true
    try {
      const jobs = this.harvester.jobs
      await jobs.failExpired()
      await this.queueDue()
      while (!this.stopped && this.running.size < this.harvester.config.harvest.concurrency) {
        const job = await jobs.claim(this.harvester.worker, this.harvester.config.harvest.leaseMs)
        if (!job) break
        this.log.info({ job: job.id, source: job.source_id }, 'harvest job started')
        const run = this.harvester
          .run(job)
          .then((result) =>
            this.log.info(
              { job: job.id, status: result.status, counts: result.counts, error: result.error },
              'harvest job ended',
            ),
          )
          .catch((err: unknown) => this.log.error({ err, job: job.id }, 'harvest job crashed'))
        this.running.add(run)
        void run.finally(() => this.running.delete(run))
      }
    } finally {
      this.ticking = false
    }
  }

  private async queueDue(): Promise<void> {
    const db = harvestDb(this.harvester.service.db)
    const now = await databaseNow(db)
    const sources = await db
      .selectFrom('harvest_source')
      .select(['id', 'interval_hours', 'type'])
      .where('state', '=', 'active')
      .where('interval_hours', '>', 0)
      .execute()
    for (const source of sources) {
      const due = fromMicros(toMicros(now) - source.interval_hours * 3600 * 1_000_000)
      const recent = await db
        .selectFrom('harvest_job')
        .select('id')
        .where('source_id', '=', source.id)
        .where('created', '>', due)
        .limit(1)
        .executeTakeFirst()
      if (recent) continue
      // A CKAN source gets a complete run (which alone withdraws) when it had none within a day or ten intervals.
      const lastFull = await this.harvester.jobs.lastSuccess(source.id, true)
      const fullDue = fromMicros(toMicros(now) - Math.max(24, source.interval_hours * 10) * 3600 * 1_000_000)
      const full = source.type === 'ckan' && (!lastFull?.started || lastFull.started < fullDue)
      try {
        await this.harvester.jobs.createJob(source.id, { full })
      } catch (err) {
        // Another server queued it first (one job per source): nothing to do.
        if (!(err instanceof CatalogError && err.code === 'conflict')) throw err
      }
    }
  }

  /** Stops polling; running jobs are asked to end (they fail, deleting nothing) and awaited. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.harvester.abortAll('the server is stopping')
    await Promise.allSettled([...this.running])
  }
}

/** The scheduler of `serve`, on a connection of its own. */
export async function startHarvestScheduler(config: AppConfig, log: SchedulerLog): Promise<{ stop(): Promise<void> }> {
  const store: Store = await openStore(config.database)
  const service = new CatalogService(store, vocabularies(), config)
  // This process lives as long as the server: its copy of the Kommunen (which scores and documents of harvested
  // datasets are made with) follows the change feed like every server process's, from before it is read.
  await service.markChangeFeed(config.changePollMs)
  await service.init()
  await service.startChangeFeed(config.changePollMs, (err) => log.error({ err }, 'reading the change feed failed'))
  const validation = new DatasetValidation(service, config)
  const harvester = new Harvester(service, config, { datasetRules: datasetRules(validation) })
  const scheduler = new HarvestScheduler(harvester, log)
  scheduler.start()
  log.info({ concurrency: config.harvest.concurrency, worker: harvester.worker }, 'harvest scheduler started')
  return {
    async stop() {
      await scheduler.stop()
      await service.stopChangeFeed()
      await store.close()
    },
  }
}

/**
 * The background harvest of `serve`, off the server's processes: a child process (worker-entry.ts) with a
 * heap limit of its own (HARVEST_WORKER_MEMORY_MB) runs the scheduler. When it dies (a hostile source
 * exhausted its memory, say), its jobs' leases expire and are failed by the next scheduler; it is started
 * again after a pause that doubles up to a minute. The server's processes never parse a source.
 */
export function startHarvestProcess(
  config: AppConfig,
  log: SchedulerLog,
  env: NodeJS.ProcessEnv = process.env,
): { stop(): Promise<void>; pid(): number | undefined } {
  const here = import.meta.url
  const entry = fileURLToPath(new URL(here.endsWith('.ts') ? './worker-entry.ts' : './worker-entry.js', here))
  let child: ChildProcess | undefined
  let stopped = false
  let pause = 1000
  let restart: NodeJS.Timeout | undefined
  const start = () => {
    const started = Date.now()
    child = fork(entry, [], {
      env,
      execArgv: [
        ...process.execArgv.filter((a) => !a.startsWith('--max-old-space-size')),
        `--max-old-space-size=${config.harvest.workerMemoryMb}`,
      ],
      stdio: 'inherit',
    })
    log.info({ pid: child.pid }, 'harvest process started')
    child.once('exit', (code, signal) => {
      child = undefined
      if (stopped) return
      log.error({ code, signal }, 'the harvest process ended: starting it again')
      pause = Date.now() - started > 60_000 ? 1000 : Math.min(60_000, pause * 2)
      restart = setTimeout(start, pause)
    })
  }
  start()
  return {
    pid: () => child?.pid,
    async stop() {
      stopped = true
      clearTimeout(restart)
      const running = child
      if (!running) return
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
      running.kill('SIGTERM')
      const timer = setTimeout(() => running.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
