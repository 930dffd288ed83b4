/**
 * Harvest sources and jobs in the database. A job is claimed with a lease: on MySQL/MariaDB by
 * `SELECT ... FOR UPDATE SKIP LOCKED` (several processes claim different jobs without waiting on each other);
 * on SQLite inside a BEGIN IMMEDIATE transaction (one writer at a time: the select and the claim cannot be
 * split by another claimer). The claimer renews its lease while it works; a job whose lease expired (its
 * process died or hangs) is marked failed by whoever looks next, so no job stays "running" forever. One job per
 * source is new or running at a time: `active_source` is unique, set while the job is new or running.
 */
import { randomUUID } from 'node:crypto'
import type { Store } from '../db/connect.js'
import { writeTransaction } from '../db/write.js'
import { CatalogError, notFound, validationError } from '../errors.js'
import { ckanNow, fromMicros, toMicros } from '../catalog/time.js'
import {
  databaseNow,
  emptyCounts,
  harvestDb,
  type HarvestDb,
  type HarvestJobTable,
  type HarvestSourceTable,
  type JobCounts,
  type JobStatus,
  type SourceConfig,
} from './tables.js'

export interface SourceFields {
  name: string
  title?: string
  type: 'ckan' | 'dcat'
  url: string
  owner_org: string
  config?: SourceConfig
  interval_hours?: number
}

const NAME_RE = /^[a-z0-9_-]{2,100}$/

export function sourceDict(row: HarvestSourceTable): Record<string, unknown> {
  return {
    id: row.id,
    name: row.name,
    title: row.title,
    source_type: row.type,
    url: row.url,
    owner_org: row.owner_org,
    config: JSON.parse(row.config) as SourceConfig,
    frequency_hours: row.interval_hours,
    state: row.state,
    created: row.created,
    metadata_modified: row.modified,
  }
}

export function jobDict(row: HarvestJobTable): Record<string, unknown> {
  return {
    id: row.id,
    source_id: row.source_id,
    status: row.status,
    full_run: row.full_run === 1,
    confirm_withdrawals: row.confirm_withdrawals === 1,
    abort_requested: row.abort_requested === 1,
    claimed_by: workerOf(row.claimed_by),
    lease_until: row.lease_until,
    created: row.created,
    gather_started: row.started,
    finished: row.finished,
    stats: JSON.parse(row.counts) as JobCounts,
    error: row.error,
  }
}

function checkSourceFields(fields: Partial<SourceFields>, partial: boolean): void {
  const errors: Record<string, string[]> = {}
  if (!partial || fields.name !== undefined)
    if (!fields.name || !NAME_RE.test(fields.name)) errors.name = ['Must be 2-100 characters of a-z, 0-9, - and _']
  if (!partial || fields.type !== undefined)
    if (fields.type !== 'ckan' && fields.type !== 'dcat') errors.source_type = ['Must be ckan or dcat']
  if (!partial || fields.url !== undefined) {
    let ok: boolean
    try {
      const u = new URL(fields.url ?? '')
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password
    } catch {
      ok = false
    }
    if (!ok || (fields.url ?? '').length > 2000)
      errors.url = ['Must be an absolute http(s) URL without credentials, at most 2000 characters']
  }
  if (
    fields.interval_hours !== undefined &&
    (!Number.isInteger(fields.interval_hours) || fields.interval_hours < 0 || fields.interval_hours > 24 * 365)
  ) {
    errors.frequency_hours = ['Must be a whole number of hours from 0 (manual only) to 8760']
  }
  if (fields.title !== undefined && fields.title.length > 500) errors.title = ['At most 500 characters']
  const cfg = fields.config
  if (cfg) {
    if (
      cfg.organizations !== undefined &&
      (!Array.isArray(cfg.organizations) ||
        cfg.organizations.length > 100 ||
        cfg.organizations.some((o) => typeof o !== 'string' || o.length > 100))
    ) {
      errors.config = ['organizations must be a list of at most 100 names']
    }
    if (cfg.format !== undefined && !['ttl', 'rdf', 'jsonld', 'nt'].includes(cfg.format))
      errors.config = ['format must be one of ttl, rdf, jsonld, nt']
    if (cfg.rows !== undefined && (!Number.isInteger(cfg.rows) || cfg.rows < 1 || cfg.rows > 1000))
      errors.config = ['rows must be 1 to 1000']
    if (cfg.margin_seconds !== undefined && (!Number.isInteger(cfg.margin_seconds) || cfg.margin_seconds < 0))
      errors.config = ['margin_seconds must be a whole number >= 0']
  }
  if (Object.keys(errors).length) throw validationError(errors)
}

/** A write of a job whose lease is no longer its own (expired, taken over, or the job ended): refused. */
/** A line of a job's report (harvest_log). */
export interface LogEntry {
  level: 'info' | 'warning' | 'error'
  message: string
  guid?: string
}

/** Log rows per INSERT (bounded statement size). */
const LOG_ROWS_PER_STATEMENT = 200

export class LeaseLostError extends Error {
  override name = 'LeaseLostError'
  constructor() {
    super("the job's lease was lost (it expired and the job was failed or taken over): its writes are refused")
  }
}

/** The lease token of one claim: the worker's name and a random part, unique per claim (the fence compares it). */
export function leaseToken(worker: string): string {
  return `${worker.slice(0, 60)}#${randomUUID()}`
}

/** The worker of a lease token (what reports show: the random part is the fence's, not the public's). */
export function workerOf(token: string | null): string | null {
  return token === null ? null : token.replace(/#[0-9a-f-]{36}$/, '')
}

/** A write of a job that was asked to stop (harvest_job_abort, harvest_source_delete): refused, the job ends aborted. */
export class JobAbortRequestedError extends Error {
  override name = 'JobAbortRequestedError'
  constructor() {
    super('the job was aborted (harvest_job_abort or harvest_source_delete)')
  }
}

export class HarvestJobs {
  readonly db: HarvestDb

  constructor(readonly store: Store) {
    this.db = harvestDb(store.db)
  }

  private write<T>(body: (trx: HarvestDb) => Promise<T>): Promise<T> {
    return writeTransaction(
      this.store,
      (trx) => body(harvestDb(trx)),
      () => ({ field: 'name', message: 'A harvest source of that name already exists' }),
    )
  }

  // ------------------------------------------------------------------------------------------- sources

  async source(idOrName: string): Promise<HarvestSourceTable | undefined> {
    return this.db
      .selectFrom('harvest_source')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .where('state', '=', 'active')
      .executeTakeFirst()
  }

  async requireSource(idOrName: string): Promise<HarvestSourceTable> {
    const row = await this.source(idOrName)
    if (!row) throw notFound('Harvest source')
    return row
  }

  async listSources(ownerOrg?: string): Promise<HarvestSourceTable[]> {
    return this.db
      .selectFrom('harvest_source')
      .selectAll()
      .where('state', '=', 'active')
      .$if(ownerOrg !== undefined, (q) => q.where('owner_org', '=', ownerOrg!))
      .orderBy('name')
      .execute()
  }

  async createSource(fields: SourceFields): Promise<HarvestSourceTable> {
    checkSourceFields(fields, false)
    const now = ckanNow()
    const row: HarvestSourceTable = {
      id: randomUUID(),
      name: fields.name,
      title: fields.title || fields.name,
      type: fields.type,
      url: fields.url,
      owner_org: fields.owner_org,
      config: JSON.stringify(fields.config ?? {}),
      interval_hours: fields.interval_hours ?? 24,
      state: 'active',
      created: now,
      modified: now,
    }
    await this.write((trx) => trx.insertInto('harvest_source').values(row).execute())
    return row
  }

  async updateSource(id: string, fields: Partial<SourceFields>): Promise<HarvestSourceTable> {
    checkSourceFields(fields, true)
    const changes: Partial<HarvestSourceTable> = { modified: ckanNow() }
    if (fields.name !== undefined) changes.name = fields.name
    if (fields.title !== undefined) changes.title = fields.title
    if (fields.type !== undefined) changes.type = fields.type
    if (fields.url !== undefined) changes.url = fields.url
    if (fields.owner_org !== undefined) changes.owner_org = fields.owner_org
    if (fields.config !== undefined) changes.config = JSON.stringify(fields.config)
    if (fields.interval_hours !== undefined) changes.interval_hours = fields.interval_hours
    await this.write((trx) => trx.updateTable('harvest_source').set(changes).where('id', '=', id).execute())
    return await this.requireSource(id)
  }

  /**
   * The source a delete acts on: an active one, or one whose delete did not end (`deleting`, by id or name),
   * or by id one that is deleted already (a retry then finds nothing left to do).
   */
  async sourceToDelete(idOrName: string): Promise<HarvestSourceTable | undefined> {
    return this.db
      .selectFrom('harvest_source')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([
            eb('state', 'in', ['active', 'deleting']),
            eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]),
          ]),
          eb.and([eb('state', '=', 'deleted'), eb('id', '=', idOrName)]),
        ]),
      )
      .executeTakeFirst()
  }

  /**
   * The first step of harvest_source_delete, one transaction: refused (409) while a job of the source runs
   * (that job is asked to stop: retry when it has ended); otherwise its waiting jobs are aborted and the
   * source is marked `deleting` (hidden, never run again). The source row and its jobs' rows are locked on
   * MySQL (SQLite writes one at a time), so no job can be claimed between the check and the commit. Repeating
   * it on a source already `deleting` or `deleted` changes nothing.
   */
  async beginDeleteSource(id: string): Promise<void> {
    await this.failExpired()
    await this.write(async (trx) => {
      const mysql = this.store.dialect === 'mysql'
      const source = await trx
        .selectFrom('harvest_source')
        .select(['state'])
        .where('id', '=', id)
        .$if(mysql, (q) => q.forUpdate())
        .executeTakeFirst()
      if (!source) throw notFound('Harvest source')
      const active = await trx
        .selectFrom('harvest_job')
        .select(['id', 'status'])
        .where('source_id', '=', id)
        .where('status', 'in', ['new', 'running'])
        .$if(mysql, (q) => q.forUpdate())
        .execute()
      if (active.some((j) => j.status === 'running')) {
        await trx
          .updateTable('harvest_job')
          .set({ abort_requested: 1 })
          .where('source_id', '=', id)
          .where('status', '=', 'running')
          .execute()
        return 'running' as const
      }
      await trx
        .updateTable('harvest_job')
        .set({ status: 'aborted', active_source: null, finished: ckanNow(), error: 'the source was deleted' })
        .where('source_id', '=', id)
        .where('status', '=', 'new')
        .execute()
      if (source.state === 'active')
        await trx
          .updateTable('harvest_source')
          .set({ state: 'deleting', modified: ckanNow() })
          .where('id', '=', id)
          .execute()
      return 'ok' as const
    }).then((outcome) => {
      if (outcome === 'running')
        throw new CatalogError(
          'conflict',
          'A harvest job of this source is running: it has been asked to stop; delete the source again when it has ended',
        )
    })
  }

  /**
   * The last step of harvest_source_delete, once every dataset of the source is detached or deleted: the
   * source is `deleted` and its name freed for a new source (the id, unique, takes its place).
   */
  async endDeleteSource(id: string): Promise<void> {
    await this.write(async (trx) => {
      const left = await trx.selectFrom('harvest_object').select('id').where('source_id', '=', id).limit(1).execute()
      if (left.length) throw new Error('the source still has harvested datasets')
      await trx
        .updateTable('harvest_source')
        .set({ state: 'deleted', name: id, modified: ckanNow() })
        .where('id', '=', id)
        .where('state', '=', 'deleting')
        .execute()
    })
  }

  // ---------------------------------------------------------------------------------------------- jobs

  /** A new job for the source; a 409 when one is already new or running (one job per source). */
  async createJob(
    sourceId: string,
    opts: { full?: boolean; confirmWithdrawals?: boolean } = {},
  ): Promise<HarvestJobTable> {
    await this.failExpired()
    const row: HarvestJobTable = {
      id: randomUUID(),
      source_id: sourceId,
      active_source: sourceId,
      status: 'new',
      full_run: opts.full ? 1 : 0,
      confirm_withdrawals: opts.confirmWithdrawals ? 1 : 0,
      abort_requested: 0,
      claimed_by: null,
      lease_until: null,
      created: ckanNow(),
      started: null,
      finished: null,
      counts: JSON.stringify(emptyCounts()),
      error: null,
    }
    try {
      await writeTransaction(
        this.store,
        (trx) => harvestDb(trx).insertInto('harvest_job').values(row).execute(),
        () => ({ field: 'source', message: 'dup' }),
      )
    } catch (err) {
      if (err instanceof CatalogError && err.code === 'validation')
        throw new CatalogError(
          'conflict',
          'A harvest job for this source is already waiting or running: wait for it to end, or abort it (harvest_job_abort)',
        )
      throw err
    }
    return row
  }

  async job(id: string): Promise<HarvestJobTable | undefined> {
    return this.db.selectFrom('harvest_job').selectAll().where('id', '=', id).executeTakeFirst()
  }

  async listJobs(sourceId: string | undefined, limit = 20, status?: string): Promise<HarvestJobTable[]> {
    return this.db
      .selectFrom('harvest_job')
      .selectAll()
      .$if(sourceId !== undefined, (q) => q.where('source_id', '=', sourceId!))
      .$if(status !== undefined, (q) => q.where('status', '=', status as JobStatus))
      .orderBy('created', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute()
  }

  /**
   * The last fully successful job of a source (incremental runs start from its start): finished, and no
   * dataset of it failed to be written (a run with failures would make its failed datasets look done).
   */
  async lastSuccess(sourceId: string, fullOnly = false): Promise<HarvestJobTable | undefined> {
    for (let offset = 0; ; offset += 50) {
      const rows = await this.db
        .selectFrom('harvest_job')
        .selectAll()
        .where('source_id', '=', sourceId)
        .where('status', '=', 'finished')
        .$if(fullOnly, (q) => q.where('full_run', '=', 1))
        .orderBy('started', 'desc')
        .orderBy('id')
        .limit(50)
        .offset(offset)
        .execute()
      const clean = rows.find((r) => (JSON.parse(r.counts) as JobCounts).failed === 0)
      if (clean || rows.length < 50) return clean
    }
  }

  /**
   * Running jobs whose lease expired are failed: their process died or stopped renewing. They deleted nothing
   * they had not finished deleting (each dataset write is one transaction with its harvest object).
   */
  async failExpired(): Promise<number> {
    const now = await databaseNow(this.db)
    const result = await this.write((trx) =>
      trx
        .updateTable('harvest_job')
        .set({
          status: 'failed',
          active_source: null,
          finished: now,
          error:
            'the process running the job stopped (its lease expired); nothing was deleted by it that it had not finished',
        })
        .where('status', '=', 'running')
        .where('lease_until', '<', now)
        .executeTakeFirst(),
    )
    return Number(result.numUpdatedRows)
  }

  /**
   * Claims a new job (the given one, or the oldest) for `worker` with a lease of `leaseMs`, by the database's
   * clock. Returns undefined when there is none to claim (or another process claimed it first).
   */
  async claim(worker: string, leaseMs: number, jobId?: string): Promise<HarvestJobTable | undefined> {
    await this.failExpired()
    return this.write(async (trx) => {
      const now = await databaseNow(trx)
      let query = trx
        .selectFrom('harvest_job')
        .select('id')
        .where('status', '=', 'new')
        .where('abort_requested', '=', 0)
        .orderBy('created')
        .limit(1)
      if (jobId) query = query.where('id', '=', jobId)
      // The next due job: SKIP LOCKED, so that claimers never queue behind each other (a skipped job is taken
      // at the next tick). A named job: wait for its row instead. On MySQL a claimer's FOR UPDATE locks the
      // index records it scanned, other jobs' rows among them; skipping those made a concurrent claim of
      // another, free job find nothing.
      const row =
        this.store.dialect !== 'mysql'
          ? await query.executeTakeFirst()
          : jobId
            ? await query.forUpdate().executeTakeFirst()
            : await query.forUpdate().skipLocked().executeTakeFirst()
      if (!row) return undefined
      const lease = fromMicros(toMicros(now) + leaseMs * 1000)
      const updated = await trx
        .updateTable('harvest_job')
        .set({ status: 'running', claimed_by: leaseToken(worker), lease_until: lease, started: now })
        .where('id', '=', row.id)
        .where('status', '=', 'new')
        .executeTakeFirst()
      if (Number(updated.numUpdatedRows) !== 1) return undefined
      return trx.selectFrom('harvest_job').selectAll().where('id', '=', row.id).executeTakeFirst()
    })
  }

  /**
   * The fence of every write of a job, called inside the write's transaction: the job must still be running
   * under this claim's lease token (a token compared in the database, no clock compared). A lease that expired
   * is failed (failExpired, by the database's clock) before anyone takes the source over, which changes the
   * job's status: from then on every write of the stalled claimer is refused. On MySQL the job's row is locked
   * until the write commits, so the job cannot be failed or taken over between this check and the commit;
   * SQLite writes one at a time. Throws LeaseLostError (the caller aborts the job), or JobAbortRequestedError
   * when the job was asked to stop.
   */
  async assertLease(trx: HarvestDb, jobId: string, token: string): Promise<void> {
    const row = await trx
      .selectFrom('harvest_job')
      .select(['status', 'claimed_by', 'abort_requested'])
      .where('id', '=', jobId)
      .$if(this.store.dialect === 'mysql', (q) => q.forUpdate())
      .executeTakeFirst()
    if (!row || row.status !== 'running' || row.claimed_by !== token) throw new LeaseLostError()
    if (row.abort_requested === 1) throw new JobAbortRequestedError()
  }

  /** Extends the lease; says whether the job is still this claim's and whether an abort was asked for. */
  async renew(
    jobId: string,
    worker: string,
    leaseMs: number,
    counts: JobCounts,
  ): Promise<{ ours: boolean; abort: boolean }> {
    return this.write(async (trx) => {
      const now = await databaseNow(trx)
      const lease = fromMicros(toMicros(now) + leaseMs * 1000)
      const updated = await trx
        .updateTable('harvest_job')
        .set({ lease_until: lease, counts: JSON.stringify(counts) })
        .where('id', '=', jobId)
        .where('claimed_by', '=', worker)
        .where('status', '=', 'running')
        .executeTakeFirst()
      const row = await trx
        .selectFrom('harvest_job')
        .select(['abort_requested'])
        .where('id', '=', jobId)
        .executeTakeFirst()
      return { ours: Number(updated.numUpdatedRows) === 1, abort: row?.abort_requested === 1 }
    })
  }

  /** Ends a job (only while this worker holds it); frees its source for the next job. */
  async finish(
    jobId: string,
    worker: string,
    status: JobStatus,
    counts: JobCounts,
    error: string | null,
  ): Promise<boolean> {
    const result = await this.write(async (trx) =>
      trx
        .updateTable('harvest_job')
        .set({
          status,
          counts: JSON.stringify(counts),
          error: error ? error.slice(0, 10_000) : null,
          finished: await databaseNow(trx),
          active_source: null,
          lease_until: null,
        })
        .where('id', '=', jobId)
        .where('claimed_by', '=', worker)
        .where('status', '=', 'running')
        .executeTakeFirst(),
    )
    return Number(result.numUpdatedRows) === 1
  }

  /** harvest_job_abort: a new job ends at once; a running one stops at its next step, deleting nothing. */
  async abort(jobId: string): Promise<HarvestJobTable> {
    await this.write(async (trx) => {
      await trx
        .updateTable('harvest_job')
        .set({ abort_requested: 1 })
        .where('id', '=', jobId)
        .where('status', 'in', ['new', 'running'])
        .execute()
      await trx
        .updateTable('harvest_job')
        .set({
          status: 'aborted',
          active_source: null,
          finished: await databaseNow(trx),
          error: 'aborted before it started',
        })
        .where('id', '=', jobId)
        .where('status', '=', 'new')
        .execute()
    })
    const row = await this.job(jobId)
    if (!row) throw notFound('Harvest job')
    return row
  }

  /**
   * A line of the job's report, fenced like the job's other writes: written only while the job is running
   * under this claim's lease token, so a claimer whose lease was lost (the job failed or taken over) cannot
   * append to a report that is no longer its own. The condition and the insert are one statement
   * (INSERT ... SELECT from the job's row); on MySQL the job's row is locked first, so it cannot be failed or
   * taken over before the line commits whatever the isolation level. Unlike assertLease an asked-for abort
   * does not refuse it: the job still reports why it stopped. Throws LeaseLostError when refused.
   */
  async log(
    jobId: string,
    token: string,
    level: 'info' | 'warning' | 'error',
    message: string,
    guid?: string,
  ): Promise<void> {
    await this.logMany(jobId, token, [{ level, message, guid }])
  }

  /**
   * Appends log lines to a running job's report in one transaction, fenced by the lease token: the job's row is
   * read with the token and status inside the transaction (locked on MySQL/MariaDB, so that a takeover, which
   * updates that row, waits or is waited for; SQLite writes one at a time), and nothing is written unless this
   * process still holds the job. LeaseLostError otherwise. One transaction for a page's lines, not one per line:
   * a commit per harvested dataset was most of a harvest's time.
   */
  async logMany(jobId: string, token: string, entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return
    const created = ckanNow()
    const held = await this.write(async (trx) => {
      const job = await trx
        .selectFrom('harvest_job')
        .select('id')
        .where('id', '=', jobId)
        .where('claimed_by', '=', token)
        .where('status', '=', 'running')
        .$if(this.store.dialect === 'mysql', (q) => q.forUpdate())
        .executeTakeFirst()
      if (!job) return false
      for (let i = 0; i < entries.length; i += LOG_ROWS_PER_STATEMENT)
        await trx
          .insertInto('harvest_log')
          .values(
            entries.slice(i, i + LOG_ROWS_PER_STATEMENT).map((e) => ({
              job_id: jobId,
              level: e.level,
              created,
              guid: e.guid ? e.guid.slice(0, 2000) : null,
              message: e.message.slice(0, 100_000),
            })),
          )
          .execute()
      return true
    })
    if (!held) throw new LeaseLostError()
  }

  async logs(jobId: string, limit: number, offset: number, level?: string): Promise<Array<Record<string, unknown>>> {
    const rows = await this.db
      .selectFrom('harvest_log')
      .selectAll()
      .where('job_id', '=', jobId)
      .$if(level !== undefined, (q) => q.where('level', '=', level as 'info'))
      .orderBy('id')
      .limit(limit)
      .offset(offset)
      .execute()
    return rows.map((r) => ({
      id: Number(r.id),
      job_id: r.job_id,
      level: r.level,
      created: r.created,
      guid: r.guid,
      message: r.message,
    }))
  }
}
