/**
 * Runs harvest jobs: gathers a source's pages (sources.ts), writes each dataset through the catalog service's
 * write path (the same validation, identity, URI and size rules as the write API; owner = the source's
 * Kommune), links it to its source by a harvest object written in the same transaction, and, only after a
 * complete and successful run, withdraws what vanished from the source, unless that is more than the allowed
 * share (then the job asks for confirmation and deletes nothing).
 */
import { createHash, randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { sql, type Kysely } from 'kysely'
import type { AppConfig } from '../config.js'
import type { CatalogService, WriteBatch } from '../catalog/service.js'
import type { Database } from '../db/types.js'
import { packageFromDict, type FieldErrors } from '../catalog/package-input.js'
import type { PackageInput } from '../catalog/package.js'
import { CatalogError } from '../errors.js'
import { isRetryable, writeTransaction } from '../db/write.js'
import { fromMicros, toMicros } from '../catalog/time.js'
import type { Viewer } from '../auth/viewer.js'
import { HarvestJobs, JobAbortRequestedError, LeaseLostError, type LogEntry } from './jobs.js'
import { ckanPages, dcatPages, type HarvestItem, type HarvestPage, type SourceContext } from './sources.js'
import {
  emptyCounts,
  harvestDb,
  type HarvestJobTable,
  type HarvestObjectTable,
  type HarvestSourceTable,
  type JobCounts,
  type JobStatus,
  type SourceConfig,
} from './tables.js'

/** Datasets written in one transaction (one commit), each in a savepoint of its own. */
export const BATCH_SIZE = 100

type ItemOutcome = { kind: 'added' | 'updated' | 'unchanged' | 'skipped' | 'failed'; objectId?: string }

/** A dataset checked and ready to be written. */
interface WritePlan {
  job: HarvestJobTable
  source: HarvestSourceTable
  item: HarvestItem
  guidHash: string
  object: HarvestObjectTable | undefined
  objectId: string
  contentHash: string
  existing: { id: string; name: string } | undefined
  input: PackageInput
}

/** The harvester writes as a sysadmin without a user (activities show no user). */
const HARVESTER: Viewer = { userId: null, userName: 'harvester', sysadmin: true, orgRoles: new Map() }

export interface Progress {
  pages: number
  datasets: number
  counts: JobCounts
}

export interface JobResult {
  job: HarvestJobTable
  status: JobStatus
  counts: JobCounts
  error: string | null
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** A UUID made from a text (resource ids stay the same from run to run). */
function derivedUuid(text: string): string {
  const h = sha256(text)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** JSON with sorted keys: the content hash does not depend on the source's key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

const DROPPED_KEYS = [
  'id',
  'owner_org',
  'organization',
  'private',
  'state',
  'type',
  'creator_user_id',
  'metadata_created',
  'metadata_modified',
  'revision_id',
  'num_resources',
  'num_tags',
  'relationships_as_object',
  'relationships_as_subject',
  'isopen',
  'license_title',
  'license_url',
  'uri',
]
const HARVEST_KEYS = new Set([
  'harvest_object_id',
  'harvest_source_id',
  'harvest_source_title',
  'harvest_url',
  'harvest_source_uri',
  'uri',
])
const RESOURCE_DROPPED = [
  'id',
  'package_id',
  'position',
  'state',
  'metadata_modified',
  'revision_id',
  'cache_url',
  'cache_last_updated',
  'datastore_active',
  'url_type',
  'tracking_summary',
]

/** The source's dict as this catalog will store it, before ids, owner and the harvest extras. */
function sourceContent(item: HarvestItem): Record<string, unknown> {
  const dict: Record<string, unknown> = { ...item.dict }
  for (const key of DROPPED_KEYS) delete dict[key]
  const extras = Array.isArray(dict.extras)
    ? (dict.extras as Array<{ key?: unknown; value?: unknown }>).filter((e) => e && !HARVEST_KEYS.has(String(e.key)))
    : []
  if (item.identifier && !extras.some((e) => e.key === 'identifier'))
    extras.push({ key: 'identifier', value: item.identifier })
  dict.extras = extras
  if (Array.isArray(dict.groups))
    dict.groups = (dict.groups as Array<Record<string, unknown>>).map((g) =>
      g && typeof g === 'object' ? { name: g.name } : g,
    )
  if (Array.isArray(dict.tags))
    dict.tags = (dict.tags as Array<Record<string, unknown>>).map((t) =>
      t && typeof t === 'object' ? { name: t.name } : t,
    )
  if (Array.isArray(dict.resources)) {
    // The dataset's own URI is taken too: a distribution may not share it.
    const uris = new Set<string>(item.sourceUri ? [item.sourceUri] : [])
    dict.resources = (dict.resources as Array<Record<string, unknown>>).map((r) => {
      if (!r || typeof r !== 'object') return r
      const copy = { ...r }
      for (const key of RESOURCE_DROPPED) delete copy[key]
      // A URI given twice in one dataset (portals do so) would be refused: the first holder keeps it.
      if (typeof copy.uri === 'string') {
        if (uris.has(copy.uri)) delete copy.uri
        else uris.add(copy.uri)
      }
      return copy
    })
  }
  return dict
}

/** Fields whose refused values are left out (a finding), rather than the dataset skipped. */
const DROPPABLE = new Set(['license_id', 'groups', 'url', 'author_email', 'maintainer_email', 'version'])

/**
 * CKAN's rules on the dict; values of vocabulary fields and other optional values that they refuse are left
 * out and reported, so that one odd licence does not lose a whole dataset. Errors of required or structural
 * fields (name, title, resources' urls, text that cannot be stored) skip the dataset.
 */
function validate(
  dict: Record<string, unknown>,
  ctx: Parameters<typeof packageFromDict>[1],
): { input?: PackageInput; errors?: FieldErrors; notes: string[] } {
  const notes: string[] = []
  let current = dict
  for (let pass = 0; pass < 3; pass++) {
    const { input, errors } = packageFromDict(current, ctx)
    const fields = Object.keys(errors)
    if (fields.length === 0) return { input, notes }
    const next: Record<string, unknown> = { ...current }
    let repaired = false
    for (const field of fields) {
      if (DROPPABLE.has(field)) {
        notes.push(`${field}: ${JSON.stringify(errors[field]).slice(0, 300)} (left out)`)
        delete next[field]
        repaired = true
      } else if (
        (field === 'extras' || field === 'resources') &&
        Array.isArray(errors[field]) &&
        Array.isArray(next[field])
      ) {
        const itemErrors = errors[field] as Array<Record<string, string[]>>
        const list = [...(next[field] as Array<Record<string, unknown>>)]
        let ok = true
        itemErrors.forEach((e, i) => {
          for (const [key, messages] of Object.entries(e ?? {})) {
            const item = list[i]
            if (!item) continue
            if (field === 'extras' && key === 'value' && item.key !== 'uri') {
              notes.push(`extra ${String(item.key)}: ${messages.join(' ')} (left out)`)
              list[i] = undefined as never
            } else if (field === 'resources' && key === 'url' && messages.includes('Missing value') && !item.url) {
              // A distribution without any URL cannot be used: it is left out, the dataset kept.
              notes.push(
                `resource ${i + 1} (${JSON.stringify(item.name ?? item.uri ?? '').slice(0, 200)}) has no URL (left out)`,
              )
              list[i] = undefined as never
            } else if (
              field === 'resources' &&
              [
                'format',
                'mimetype',
                'license',
                'language',
                'size',
                'hash',
                'created',
                'last_modified',
                'compress_format',
                'package_format',
                'hash_algorithm',
                'conforms_to',
                'documentation',
                'rights',
                'status',
                'availability',
              ].includes(key)
            ) {
              notes.push(`resource ${i + 1} ${key}: ${messages.join(' ')} (left out)`)
              const copy = { ...item }
              delete copy[key]
              list[i] = copy
            } else ok = false
          }
        })
        if (!ok) return { errors, notes }
        next[field] = list.filter((x) => x !== undefined)
        repaired = true
      } else return { errors, notes }
    }
    if (!repaired) return { errors, notes }
    current = next
  }
  return { errors: { __all__: ['the dataset could not be repaired'] }, notes }
}

export interface HarvesterOptions {
  /**
   * The DCAT-AP.de rules (DatasetValidation.writeFindings): a dataset with findings is imported all the same,
   * its findings recorded in the job's report (a write through the API would be refused). Off: not checked.
   */
  datasetRules?: (input: PackageInput) => Promise<unknown[]>
  /** The identity this process claims jobs under (default host:pid:random). */
  worker?: string
  onProgress?: (p: Progress) => void
  log?: (level: 'info' | 'warn' | 'error', message: string) => void
}

export class Harvester {
  readonly jobs: HarvestJobs
  readonly worker: string
  private readonly db

  constructor(
    readonly service: CatalogService,
    readonly config: AppConfig,
    readonly options: HarvesterOptions = {},
  ) {
    this.jobs = new HarvestJobs(service.store)
    this.db = harvestDb(service.db)
    this.worker = options.worker ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  }

  private readonly controllers = new Set<(reason: string) => void>()

  /** Stops every job of this harvester (the server is stopping): they fail, deleting nothing. */
  abortAll(reason: string): void {
    for (const stop of this.controllers) stop(reason)
  }

  /** Claims the given job (or the oldest new one) and runs it to its end; undefined when there was none. */
  async claimAndRun(jobId?: string, onProgress = this.options.onProgress): Promise<JobResult | undefined> {
    const job = await this.jobs.claim(this.worker, this.config.harvest.leaseMs, jobId)
    if (!job) return undefined
    return this.run(job, onProgress)
  }

  /** Runs a claimed job: the lease is renewed while it works; the job ends as finished, failed, aborted or needs_confirmation. */
  async run(job: HarvestJobTable, onProgress?: (p: Progress) => void): Promise<JobResult> {
    const counts = emptyCounts()
    const token = job.claimed_by
    if (!token) throw new Error('run() needs a claimed job')
    const controller = new AbortController()
    const { leaseMs, jobTimeoutMs } = this.config.harvest
    let stopReason: string | undefined
    const stop = (reason: string) => {
      stopReason ??= reason
      controller.abort(new Error(reason))
    }
    const deadline = setTimeout(
      () => stop(`the job ran longer than ${jobTimeoutMs} ms (HARVEST_JOB_TIMEOUT_MS)`),
      jobTimeoutMs,
    )
    let renewing = false
    let aborted = false
    const renewal = setInterval(
      () => {
        if (renewing) return
        renewing = true
        this.jobs
          .renew(job.id, token, leaseMs, counts)
          .then(({ ours, abort }) => {
            if (abort) {
              aborted = true
              stop('the job was aborted (harvest_job_abort)')
            } else if (!ours) stop("the job is no longer this process's (its lease expired)")
          })
          .catch(() => {})
          .finally(() => (renewing = false))
      },
      Math.max(100, Math.floor(leaseMs / 3)),
    )
    let status: JobStatus = 'finished'
    let error: string | null = null
    try {
      const source = await this.db
        .selectFrom('harvest_source')
        .selectAll()
        .where('id', '=', job.source_id)
        .executeTakeFirst()
      if (!source || source.state !== 'active') throw new Error('the source was deleted')
      const outcome = await this.gather(job, source, counts, controller.signal, onProgress)
      if (outcome.complete) ({ status, message: error } = await this.withdraw(job, source, counts, controller.signal))
    } catch (err) {
      if (err instanceof JobAbortRequestedError) aborted = true
      status = aborted ? 'aborted' : 'failed'
      error = stopReason ?? (err as Error).message ?? String(err)
      await this.jobs
        .log(
          job.id,
          token,
          'error',
          `the job ${status === 'aborted' ? 'was aborted' : 'failed'}: ${error}; nothing was withdrawn`,
        )
        .catch(() => {})
    } finally {
      clearTimeout(deadline)
      clearInterval(renewal)
      this.controllers.delete(stop)
    }
    const ended = await this.jobs.finish(job.id, token, status, counts, error)
    if (!ended) {
      // Another process failed the job meanwhile (the lease expired): its state stands.
      const row = await this.jobs.job(job.id)
      return { job, status: row?.status ?? 'failed', counts, error: row?.error ?? error }
    }
    return { job, status, counts, error }
  }

  private async gather(
    job: HarvestJobTable,
    source: HarvestSourceTable,
    counts: JobCounts,
    signal: AbortSignal,
    onProgress?: (p: Progress) => void,
  ): Promise<{ complete: boolean }> {
    const config = JSON.parse(source.config) as SourceConfig
    const ctx: SourceContext = {
      limits: {
        timeoutMs: this.config.harvest.requestTimeoutMs,
        maxBytes: this.config.harvest.maxBytes,
        retries: this.config.harvest.retries,
        allowPrivateAddresses: this.config.harvest.allowPrivateAddresses,
        signal,
      },
      maxPages: this.config.harvest.maxPages,
      vocab: this.service.vocab,
    }
    let pages: AsyncIterable<HarvestPage>
    let complete = true
    if (source.type === 'ckan') {
      const last = job.full_run ? undefined : await this.jobs.lastSuccess(source.id)
      // Incremental: from the start of the last successful run, minus a margin for clocks and slow commits.
      const since = last?.started
        ? fromMicros(toMicros(last.started) - (config.margin_seconds ?? 3600) * 1_000_000)
        : undefined
      complete = since === undefined
      await this.jobs.log(
        job.id,
        job.claimed_by!,
        'info',
        complete ? 'complete run: every dataset of the source' : `incremental run: datasets modified since ${since}`,
      )
      pages = ckanPages(source.url, config, ctx, { modifiedSince: since })
    } else {
      await this.jobs.log(job.id, job.claimed_by!, 'info', 'complete run of the DCAT catalog')
      pages = dcatPages(source.url, config, ctx)
    }
    let datasets = 0
    const seen = new Set<string>()
    for await (const page of pages) {
      if (signal.aborted) throw signal.reason as Error
      counts.pages++
      const unchanged: string[] = []
      const pending: WritePlan[] = []
      const tally = (outcome: ItemOutcome) => {
        counts[outcome.kind]++
        // Seen at the source though not written (unchanged, or skipped for its errors): never withdrawn for it.
        if ((outcome.kind === 'unchanged' || outcome.kind === 'skipped') && outcome.objectId)
          unchanged.push(outcome.objectId)
      }
      // The page's report lines, written in one transaction after its datasets are prepared.
      const logs: LogEntry[] = []
      const known = await this.knownObjects(
        source.id,
        page.items.filter((item) => !item.error).map((item) => sha256(item.guid)),
      )
      try {
        for (const item of page.items) {
          if (signal.aborted) throw signal.reason as Error
          if (item.error) {
            logs.push({ level: 'error', message: `skipped: ${item.error}` })
            counts.skipped++
            continue
          }
          const guidHash = sha256(item.guid)
          if (seen.has(guidHash)) continue
          seen.add(guidHash)
          datasets++
          const prepared = await this.prepareItem(source, item, guidHash, known.get(guidHash), logs)
          if ('plan' in prepared) pending.push({ ...prepared.plan, job })
          else tally(prepared.outcome)
        }
      } catch (err) {
        // What was found so far is reported even when the job ends here (an abort); a lost lease writes nothing.
        await this.jobs.logMany(job.id, job.claimed_by!, logs).catch(() => {})
        throw err
      }
      await this.jobs.logMany(job.id, job.claimed_by!, logs)
      // The datasets to write, BATCH_SIZE to a transaction (each validated on its own above).
      for (let i = 0; i < pending.length; i += BATCH_SIZE)
        for (const outcome of await this.writeMany(job, pending.slice(i, i + BATCH_SIZE))) tally(outcome)
      // Unchanged datasets are not rewritten: only their harvest objects learn that this job saw them.
      for (let i = 0; i < unchanged.length; i += 500) {
        const ids = unchanged.slice(i, i + 500)
        await writeTransaction(this.service.store, async (trx) => {
          await this.jobs.assertLease(harvestDb(trx), job.id, job.claimed_by!)
          await harvestDb(trx)
            .updateTable('harvest_object')
            .set({ last_job_id: job.id })
            .where('id', 'in', ids)
            .execute()
        })
      }
      onProgress?.({ pages: counts.pages, datasets, counts: { ...counts } })
    }
    return { complete }
  }

  /**
   * Writes datasets in one transaction (fenced once by the job's lease inside it), each in a savepoint of its
   * own: a dataset whose write fails is rolled back to its savepoint, the others of the batch are kept, and it
   * is written again alone after the commit (writeItem), which reports why it fails (or gives it a name of its
   * own). A lost lease, an abort or a lock race (the whole transaction is rolled back, then run again) ends the batch.
   */
  private async writeMany(job: HarvestJobTable, plans: WritePlan[]): Promise<ItemOutcome[]> {
    if (plans.length === 1) return [await this.writeItem(job, plans[0]!)]
    let results: Array<ItemOutcome | undefined> = []
    let alone: number[] = []
    await this.service.writeBatch(async (batch) => {
      results = []
      alone = []
      await this.jobs.assertLease(harvestDb(batch.trx), job.id, job.claimed_by!)
      for (const [i, plan] of plans.entries()) {
        await sql`savepoint harvest_item`.execute(batch.trx)
        try {
          results[i] = await this.writePlanned(plan, batch)
          await sql`release savepoint harvest_item`.execute(batch.trx)
        } catch (err) {
          if (err instanceof LeaseLostError || err instanceof JobAbortRequestedError || isRetryable(err)) throw err
          await sql`rollback to savepoint harvest_item`.execute(batch.trx)
          await sql`release savepoint harvest_item`.execute(batch.trx)
          alone.push(i)
        }
      }
    })
    for (const i of alone) results[i] = await this.writeItem(job, plans[i]!)
    return results.map((r) => r ?? { kind: 'failed' as const })
  }

  /** What is to be written for an item (validated on its own), or its outcome when nothing is (unchanged, skipped). */
  /**
   * The harvest objects of a page's items already known for the source, by guid hash, each with the name of its
   * dataset as stored now: one query per 500 items instead of two per item.
   */
  private async knownObjects(
    sourceId: string,
    guidHashes: string[],
  ): Promise<Map<string, { object: HarvestObjectTable; existing: { id: string; name: string } | undefined }>> {
    const known = new Map<string, { object: HarvestObjectTable; existing: { id: string; name: string } | undefined }>()
    const unique = [...new Set(guidHashes)]
    for (let i = 0; i < unique.length; i += 500) {
      const objects = await this.db
        .selectFrom('harvest_object')
        .selectAll()
        .where('source_id', '=', sourceId)
        .where('guid_hash', 'in', unique.slice(i, i + 500))
        .execute()
      if (objects.length === 0) continue
      const packages = await this.db
        .selectFrom('package')
        .select(['id', 'name'])
        .where(
          'id',
          'in',
          objects.map((o) => o.package_id),
        )
        .execute()
      const byId = new Map(packages.map((p) => [p.id, p]))
      for (const object of objects) known.set(object.guid_hash, { object, existing: byId.get(object.package_id) })
    }
    return known
  }

  /**
   * What is to be written for an item (validated on its own), or its outcome when nothing is (unchanged, skipped);
   * its report lines go to `logs`. `known`: its harvest object and that object's dataset, when there are.
   */
  private async prepareItem(
    source: HarvestSourceTable,
    item: HarvestItem,
    guidHash: string,
    known: { object: HarvestObjectTable; existing: { id: string; name: string } | undefined } | undefined,
    logs: LogEntry[],
  ): Promise<{ outcome: ItemOutcome } | { plan: Omit<WritePlan, 'job'> }> {
    const object = known?.object
    const content = sourceContent(item)
    const contentHash = sha256(stableJson(content))
    if (object && object.content_hash === contentHash && object.withdrawn === 0)
      return { outcome: { kind: 'unchanged', objectId: object.id } }
    const objectId = object?.id ?? randomUUID()
    const extras = [...(content.extras as Array<Record<string, unknown>>)]
    if (item.sourceUri && /^https?:\/\//i.test(item.sourceUri)) extras.push({ key: 'uri', value: item.sourceUri })
    extras.push(
      { key: 'harvest_object_id', value: objectId },
      { key: 'harvest_source_id', value: source.id },
      { key: 'harvest_source_title', value: source.title },
    )
    const resources = Array.isArray(content.resources)
      ? (content.resources as Array<Record<string, unknown>>).map((r, i) =>
          r && typeof r === 'object' ? { ...r, id: derivedUuid(`${source.id}\n${item.guid}\n${i}`) } : r,
        )
      : content.resources
    const packageId = object?.package_id ?? derivedUuid(`${source.id}\n${item.guid}\npackage`)
    const dict: Record<string, unknown> = {
      ...content,
      id: packageId,
      extras,
      resources,
      owner_org: source.owner_org,
      state: 'active',
      private: false,
    }
    const existing = known?.existing
    if (existing) dict.name = existing.name
    const checked = validate(dict, {
      reference: this.service.reference,
      vocab: this.service.vocab,
      baseUrl: this.config.baseUrl,
      newDataset: existing ? undefined : { mayChooseId: true },
      existingResourceIds: new Set(
        Array.isArray(resources) ? (resources as Array<{ id?: string }>).map((r) => r?.id ?? '') : [],
      ),
    })
    if (!checked.input) {
      logs.push({
        level: 'error',
        message: `skipped: ${JSON.stringify(checked.errors).slice(0, 2000)}`,
        guid: item.guid,
      })
      return { outcome: { kind: 'skipped', objectId: object?.id } }
    }
    if (checked.notes.length)
      logs.push({ level: 'warning', message: checked.notes.join('; ').slice(0, 5000), guid: item.guid })
    if (this.options.datasetRules) {
      const findings = await this.options
        .datasetRules(checked.input)
        .catch((err: Error) => [`the rules could not be applied: ${err.message}`])
      if (findings.length)
        logs.push({
          level: 'warning',
          message: `DCAT-AP.de findings: ${JSON.stringify(findings).slice(0, 20_000)}`,
          guid: item.guid,
        })
    }
    return {
      plan: {
        source,
        item,
        guidHash,
        object,
        objectId,
        contentHash,
        existing,
        input: checked.input,
      },
    }
  }

  /** The harvest object's row written with the dataset, in its transaction; `fenced`: the batch has checked the lease. */
  private linkObject(plan: WritePlan, packageIdWritten: string, fenced: boolean) {
    const { job, source, item, guidHash, object, objectId, contentHash } = plan
    return async (trx: Kysely<Database>) => {
      const now = fromMicros(Date.now() * 1000)
      const h = harvestDb(trx)
      // The fence: a job whose lease was lost writes nothing more (the whole transaction is rolled back).
      if (!fenced) await this.jobs.assertLease(h, job.id, job.claimed_by!)
      const row: HarvestObjectTable = {
        id: objectId,
        source_id: source.id,
        package_id: packageIdWritten,
        guid_hash: guidHash,
        source_uri: item.sourceUri ?? null,
        identifier: item.identifier ?? null,
        content_hash: contentHash,
        source_modified: item.modified?.slice(0, 40) ?? null,
        last_job_id: job.id,
        withdrawn: 0,
        created: object?.created ?? now,
        modified: now,
      }
      if (object)
        await h
          .updateTable('harvest_object')
          .set({
            content_hash: contentHash,
            source_uri: row.source_uri,
            identifier: row.identifier,
            source_modified: row.source_modified,
            last_job_id: job.id,
            withdrawn: 0,
            modified: now,
          })
          .where('id', '=', objectId)
          .execute()
      else await h.insertInto('harvest_object').values(row).execute()
    }
  }

  /** Writes a plan inside a batch's transaction; errors are thrown (the batch rolls the dataset back to its savepoint). */
  private async writePlanned(plan: WritePlan, batch: WriteBatch): Promise<ItemOutcome> {
    if (plan.existing) {
      await this.service.modifyPackage(
        plan.existing.id,
        HARVESTER,
        () => Promise.resolve({ input: plan.input, activity: 'changed package' }),
        { harvest: true, within: this.linkObject(plan, plan.existing.id, true), batch },
      )
      return { kind: 'updated', objectId: plan.objectId }
    }
    await this.service.createPackage(plan.input, HARVESTER, {
      harvest: true,
      within: (trx, id) => this.linkObject(plan, id, true)(trx),
      batch,
    })
    return { kind: 'added', objectId: plan.objectId }
  }

  /** Writes a plan in a transaction of its own; a dataset that cannot be written is reported and skipped. */
  private async writeItem(job: HarvestJobTable, plan: WritePlan): Promise<ItemOutcome> {
    const { item, guidHash, object, objectId, existing } = plan
    const linkObject = (packageIdWritten: string) => this.linkObject(plan, packageIdWritten, false)
    try {
      if (existing) {
        await this.service.modifyPackage(
          existing.id,
          HARVESTER,
          () => Promise.resolve({ input: plan.input, activity: 'changed package' }),
          { harvest: true, within: linkObject(existing.id) },
        )
        return { kind: 'updated', objectId }
      }
      let input = plan.input
      for (let attempt = 0; ; attempt++) {
        try {
          await this.service.createPackage(input, HARVESTER, {
            harvest: true,
            within: (trx, id) => linkObject(id)(trx),
          })
          return { kind: 'added', objectId }
        } catch (err) {
          // A name another dataset has: the harvested one gets a name of its own (a suffix from its identity).
          const fields = err instanceof CatalogError ? err.fields : {}
          if (
            attempt === 0 &&
            err instanceof CatalogError &&
            err.code === 'validation' &&
            Object.keys(fields).length === 1 &&
            'name' in fields
          ) {
            input = { ...input, name: `${input.name.slice(0, 87)}-${guidHash.slice(0, 12)}` }
            continue
          }
          throw err
        }
      }
    } catch (err) {
      if (err instanceof LeaseLostError || err instanceof JobAbortRequestedError) throw err
      if (err instanceof CatalogError && (err.code === 'validation' || err.code === 'conflict')) {
        await this.jobs.log(
          job.id,
          job.claimed_by!,
          'error',
          `skipped: ${err.message} ${JSON.stringify(err.fields).slice(0, 2000)}`,
          item.guid,
        )
        return { kind: 'skipped', objectId: object?.id }
      }
      await this.jobs.log(job.id, job.claimed_by!, 'error', `failed: ${(err as Error).message}`, item.guid)
      return { kind: 'failed' }
    }
  }

  /**
   * After a complete, successful gather: the source's datasets this job did not see are withdrawn (deleted
   * here, their harvest objects marked), unless that is more than the allowed share of the source's datasets
   * and the job was not started with confirm_withdrawals: then nothing is deleted and the job says why.
   */
  private async withdraw(
    job: HarvestJobTable,
    source: HarvestSourceTable,
    counts: JobCounts,
    signal: AbortSignal,
  ): Promise<{ status: JobStatus; message: string | null }> {
    if (counts.failed > 0) {
      await this.jobs.log(
        job.id,
        job.claimed_by!,
        'warning',
        `${counts.failed} datasets failed to be written: nothing is withdrawn after an incomplete run`,
      )
      return { status: 'finished', message: null }
    }
    const current = await this.db
      .selectFrom('harvest_object')
      .select(['id', 'package_id', 'last_job_id'])
      .where('source_id', '=', source.id)
      .where('withdrawn', '=', 0)
      .execute()
    const vanished = current.filter((o) => o.last_job_id !== job.id)
    if (vanished.length === 0) return { status: 'finished', message: null }
    const share = (vanished.length / current.length) * 100
    const allowed = this.config.harvest.maxWithdrawalPercent
    if (share > allowed && !job.confirm_withdrawals) {
      const message = `${vanished.length} of ${current.length} datasets (${share.toFixed(1)} %) vanished from the source, more than the allowed ${allowed} % (HARVEST_MAX_WITHDRAWAL_PERCENT): nothing was withdrawn; run again with --confirm-withdrawals (confirm_withdrawals=true) if the source really withdrew them`
      await this.jobs.log(job.id, job.claimed_by!, 'warning', message)
      return { status: 'needs_confirmation', message }
    }
    for (const object of vanished) {
      if (signal.aborted) throw signal.reason as Error
      try {
        await this.service.modifyPackage(
          object.package_id,
          HARVESTER,
          () => Promise.resolve({ state: 'deleted' as const, activity: 'deleted package' }),
          {
            harvest: true,
            within: async (trx) => {
              await this.jobs.assertLease(harvestDb(trx), job.id, job.claimed_by!)
              await harvestDb(trx)
                .updateTable('harvest_object')
                .set({ withdrawn: 1, last_job_id: job.id })
                .where('id', '=', object.id)
                .execute()
            },
          },
        )
        counts.withdrawn++
      } catch (err) {
        if (err instanceof LeaseLostError || err instanceof JobAbortRequestedError) throw err
        await this.jobs.log(
          job.id,
          job.claimed_by!,
          'error',
          `withdrawing ${object.package_id} failed: ${(err as Error).message}`,
        )
        counts.failed++
      }
    }
    await this.jobs.log(
      job.id,
      job.claimed_by!,
      'info',
      `withdrew ${counts.withdrawn} datasets that vanished from the source`,
    )
    return { status: 'finished', message: null }
  }
}
