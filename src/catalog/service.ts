import type { Kysely } from 'kysely'
import { sql, type RawBuilder, type SqlBool } from 'kysely'
import type { AppConfig } from '../config.js'
import type { Store } from '../db/connect.js'
import type { Database, OrganizationTable } from '../db/types.js'
import { canReadPackage, PUBLIC_DATASETS, readableBy, type Viewer } from '../auth/viewer.js'
import { notAuthorized, notFound } from '../errors.js'
import { groupDict, organizationDict, type GroupDictOptions } from './dictize.js'
import { ReferenceCache, syncReferenceData } from './reference.js'
import { StatementBatch, findResourcePackageId, insertPackageRecords, loadDocument, loadDocuments, replacePackageRecord, type StoredDocument } from './repository.js'
import { RawJson } from '../json.js'
import { escapeLike } from '../db/dialect.js'
import { buildPackageRecord, type PackageInput, type PackageRecord } from './package.js'
import { ckanNow, fromMicros, toMicros } from './time.js'
import { DocumentCache } from './document-cache.js'
import { randomUUID } from 'node:crypto'
import { ANONYMOUS } from '../auth/viewer.js'
import { CatalogError, validationError } from '../errors.js'
import { deletePackage, type WriteHooks } from './repository.js'
import type { Vocabularies } from './vocabularies.js'
import { appendChange, ChangeFeedTailer, mergeChanges, pruneChangeFeed, type CatalogChange } from './change-feed.js'
import { writeTransaction, type DuplicateField } from '../db/write.js'
import { inNamespace, uriHash, uriIdentity } from './uris.js'
import { ownDatasetUri } from '../dcat/mapping.js'
import { isHttpIri } from '../dcat/iri.js'
import { QualityRecorder, qualityDb } from '../quality/recorder.js'
import { linkHealthSource } from '../links/health-source.js'
import { complianceOf } from '../quality/compliance.js'
import type { PackageDict } from '../dcat/mapping.js'

export interface ListOptions {
  limit?: number
  offset?: number
}

export interface GroupListOptions extends ListOptions {
  allFields: boolean
  sort: string
  names?: string[]
  q?: string
  includeDatasetCount: boolean
  includeExtras: boolean
  includeUsers: boolean
  includeGroups: boolean
  includeTags: boolean
}

/** CKAN's message for a dataset name that another dataset has. */
const NAME_TAKEN = 'That URL is already in use.'

export type { CatalogChange } from './change-feed.js'

/** A UUID, the form of every dataset id: a name of this form could be mistaken for another dataset's id. */
const UUID_FORM = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The dataset a write starts from: read from the database inside the write's own transaction. */
export interface CurrentPackage {
  id: string
  name: string
  owner_org: string | null
  revision: number
  /** The full package dict (package_show's answer). */
  dict: Record<string, unknown>
}

/** What a read-modify-write makes of the current dataset. */
export interface PackageChangePlan {
  /** The dataset's new content; or, with `state` instead, the stored content kept as it is. */
  input?: PackageInput
  /** Only the state changes (package_delete): nothing of the stored dataset is rebuilt or dropped. */
  state?: 'deleted'
  /** If-Match: the write happens only when the stored revision still is this one (else a 409 Conflict). */
  expectedRevision?: number
  activity?: string
}

/**
 * How a harvest writes (src/harvest/): as the harvester of a source, with further statements of its own (the
 * harvest object) in the dataset's transaction. Without `harvest`, a write of a harvested dataset is refused
 * (harvestGuard): its source owns it until it is detached.
 */
export interface HarvestWrite {
  harvest?: boolean
  within?: (trx: Kysely<Database>, packageId: string) => Promise<void>
  /** Written in this open transaction of a batch (writeBatch), not one of its own; its change is applied after the batch commits. */
  batch?: WriteBatch
}

/** A transaction several writes share (writeBatch): the changes they made, applied to the caches once it has committed. */
export interface WriteBatch {
  trx: Kysely<Database>
  changes: CatalogChange[]
}

/** Extras only the harvester writes (ckanext-harvest's names); a client may not claim them. */
export const HARVEST_EXTRAS = ['harvest_object_id', 'harvest_source_id', 'harvest_source_title', 'harvest_url', 'harvest_source_uri']

/** The catalog domain: the only place that reads and writes datasets, organizations and themes. */
export class CatalogService {
  readonly db: Kysely<Database>
  readonly reference: ReferenceCache
  private readonly documents: DocumentCache

  constructor(
    readonly store: Store,
    readonly vocab: Vocabularies,
    readonly config: AppConfig,
  ) {
    this.db = store.db
    this.reference = new ReferenceCache(store.db)
    this.documents = new DocumentCache(config.readCacheTtlMs)
    this.quality = new QualityRecorder({ vocab, config, dialect: store.dialect, organization: (id) => this.reference.organizations.get(id) })
    // The accessibility indicators read the link checker's latest results (unknown until a URL is checked).
    this.quality.links = linkHealthSource(store.db)
  }

  /** MQA scores: made by every dataset write inside its transaction (src/quality/). */
  readonly quality: QualityRecorder

  async init(): Promise<void> {
    await syncReferenceData(this.db, this.vocab)
    await this.reference.reload()
  }

  /** The full CKAN package dict of a stored document as JSON text: organization and groups spliced in. */
  packageJson(doc: StoredDocument): string {
    const org = doc.owner_org ? this.reference.organizationJson.get(doc.owner_org) : undefined
    const groups = doc.themeIds
      .map((id) => ({ id, name: this.reference.themes.get(id)?.name ?? '' }))
      .filter((g) => this.reference.groupJson.has(g.id))
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((g) => this.reference.groupJson.get(g.id)!)
    return `{"organization":${org ?? 'null'},"groups":[${groups.join(',')}],${doc.document.slice(1)}`
  }

  packageDict(doc: StoredDocument): Record<string, unknown> {
    return JSON.parse(this.packageJson(doc)) as Record<string, unknown>
  }

  /**
   * Package dicts (as raw JSON) for ids in the given order, as far as `visibility` (the caller's, from
   * visibilityCondition) lets them be seen: ids not found or not visible are left out. Whatever list of ids
   * a caller holds (an index, a cache, a page), what it may see is decided here, in SQL, on the current rows.
   */
  async packageJsons(ids: string[], visibility: RawBuilder<SqlBool>, db: Kysely<Database> = this.db): Promise<RawJson[]> {
    const docs = await loadDocuments(db, ids, visibility)
    return ids.flatMap((id) => {
      const doc = docs.get(id)
      return doc ? [new RawJson(this.packageJson(doc))] : []
    })
  }

  async packageDicts(ids: string[], visibility: RawBuilder<SqlBool>, db: Kysely<Database> = this.db): Promise<Array<Record<string, unknown>>> {
    return (await this.packageJsons(ids, visibility, db)).map((raw) => JSON.parse(raw.json) as Record<string, unknown>)
  }

  /** package_show's answer, readable by the viewer, as raw JSON. */
  async showPackageJson(idOrName: string, viewer: Viewer): Promise<{ json: RawJson; id: string; revision: number }> {
    let doc = this.documents.get(idOrName)
    if (!doc) {
      const generation = this.documents.generation
      doc = await loadDocument(this.db, idOrName)
      if (!doc) throw notFound()
      this.documents.set(doc, generation)
    }
    if (!canReadPackage(viewer, doc)) {
      throw notAuthorized(`User ${viewer.userName ?? ''} not authorized to read package ${doc.id}`)
    }
    return { json: new RawJson(this.packageJson(doc)), id: doc.id, revision: doc.revision }
  }

  async showPackage(idOrName: string, viewer: Viewer): Promise<{ dict: Record<string, unknown>; revision: number }> {
    const { json, revision } = await this.showPackageJson(idOrName, viewer)
    return { dict: JSON.parse(json.json) as Record<string, unknown>, revision }
  }

  packageIdOfResource(resourceId: string): Promise<string | undefined> {
    return findResourcePackageId(this.db, resourceId)
  }

  async showResource(resourceId: string, viewer: Viewer): Promise<Record<string, unknown>> {
    const packageId = await findResourcePackageId(this.db, resourceId)
    if (!packageId) throw notFound('Resource was not found.')
    const { dict } = await this.showPackage(packageId, viewer)
    const resource = (dict.resources as Array<Record<string, unknown>>).find((r) => r.id === resourceId)
    if (!resource) throw notFound('Resource was not found.')
    return resource
  }

  /** Names of active public datasets, ordered by name (CKAN package_list). */
  async listPackageNames({ limit, offset = 0 }: ListOptions): Promise<string[]> {
    let query = this.db
      .selectFrom('package as p')
      .select('p.name')
      .where(PUBLIC_DATASETS)
      .orderBy('p.name')
    if (limit !== undefined) query = query.limit(limit)
    if (offset) query = query.offset(offset).$if(limit === undefined, (q) => q.limit(Number.MAX_SAFE_INTEGER))
    return (await query.execute()).map((r) => r.name)
  }

  /** Active public dataset counts per organization id. */
  async organizationPackageCounts(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('package as p')
      .select(['p.owner_org', (eb) => eb.fn.countAll<number>().as('n')])
      .where(PUBLIC_DATASETS)
      .groupBy('p.owner_org')
      .execute()
    return new Map(rows.filter((r) => r.owner_org).map((r) => [r.owner_org as string, Number(r.n)]))
  }

  async themePackageCounts(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('package_theme as pt')
      .innerJoin('package as p', 'p.id', 'pt.package_id')
      .select(['pt.theme_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where(PUBLIC_DATASETS)
      .groupBy('pt.theme_id')
      .execute()
    return new Map(rows.map((r) => [r.theme_id, Number(r.n)]))
  }

  async listOrganizations(opts: GroupListOptions): Promise<unknown[]> {
    const counts = opts.includeDatasetCount || opts.sort.startsWith('package') ? await this.organizationPackageCounts() : undefined
    const items = [...this.reference.organizations.values()]
      .filter((o) => o.state === 'active')
      .map((o) => ({ row: o, count: counts?.get(o.id) ?? 0 }))
    return this.pageGroups(items, opts, (row, dictOpts) => organizationDict(row, dictOpts))
  }

  async listGroups(opts: GroupListOptions): Promise<unknown[]> {
    const counts = opts.includeDatasetCount || opts.sort.startsWith('package') ? await this.themePackageCounts() : undefined
    const items = [...this.reference.themes.values()]
      .filter((t) => t.state === 'active')
      .map((t) => ({ row: t, count: counts?.get(t.id) ?? 0 }))
    return this.pageGroups(items, opts, (row, dictOpts) => groupDict(row, dictOpts))
  }

  private pageGroups<T extends { name: string; title: string; description: string }>(
    items: Array<{ row: T; count: number }>,
    opts: GroupListOptions,
    dictize: (row: T, o: GroupDictOptions) => Record<string, unknown>,
  ): unknown[] {
    let list = items
    if (opts.names?.length) {
      const wanted = new Set(opts.names)
      list = list.filter((i) => wanted.has(i.row.name))
    }
    if (opts.q) {
      const needle = opts.q.toLowerCase()
      list = list.filter((i) => [i.row.name, i.row.title, i.row.description].some((f) => f.toLowerCase().includes(needle)))
    }
    const [field, direction] = opts.sort.split(/\s+/)
    const factor = direction === 'desc' ? -1 : 1
    list.sort((a, b) => {
      const key = (i: { row: T; count: number }) =>
        field === 'package_count' || field === 'packages' ? i.count : field === 'name' ? i.row.name : (i.row.title || i.row.name).toLowerCase()
      const ka = key(a)
      const kb = key(b)
      if (ka !== kb) return (ka < kb ? -1 : 1) * factor
      return a.row.name < b.row.name ? -1 : 1
    })
    const offset = opts.offset ?? 0
    const limit = opts.limit ?? (opts.allFields ? 25 : 1000)
    list = list.slice(offset, offset + limit)
    if (!opts.allFields) return list.map((i) => i.row.name)
    return list.map((i) =>
      dictize(i.row, {
        packageCount: opts.includeDatasetCount ? i.count : undefined,
        includeExtras: opts.includeExtras,
        includeUsers: opts.includeUsers,
        includeGroups: opts.includeGroups,
        includeTags: opts.includeTags,
      }),
    )
  }

  async showOrganization(
    idOrName: string,
    opts: { includeDatasets: boolean; includeDatasetCount: boolean; includeExtras: boolean; includeUsers: boolean },
    viewer: Viewer,
  ): Promise<Record<string, unknown>> {
    const org = this.reference.organization(idOrName)
    if (!org || (org.state !== 'active' && !viewer.sysadmin)) throw notFound('Organization was not found.')
    const counts = await this.organizationPackageCounts()
    const dict = organizationDict(org, {
      packageCount: opts.includeDatasetCount ? counts.get(org.id) ?? 0 : undefined,
      includeExtras: opts.includeExtras,
      includeUsers: opts.includeUsers,
      includeGroups: true,
      includeTags: true,
    })
    if (opts.includeDatasets) dict.packages = await this.recentPackages(sql`owner_org = ${org.id}`)
    return dict
  }

  async showGroup(
    idOrName: string,
    opts: { includeDatasets: boolean; includeDatasetCount: boolean; includeExtras: boolean; includeUsers: boolean },
  ): Promise<Record<string, unknown>> {
    const theme = this.reference.theme(idOrName)
    if (!theme) throw notFound('Group was not found.')
    const counts = await this.themePackageCounts()
    const dict = groupDict(theme, {
      packageCount: opts.includeDatasetCount ? counts.get(theme.id) ?? 0 : undefined,
      includeExtras: opts.includeExtras,
      includeUsers: opts.includeUsers,
      includeGroups: true,
      includeTags: true,
    })
    if (opts.includeDatasets) {
      dict.packages = await this.recentPackages(sql`id in (select package_id from package_theme where theme_id = ${theme.id})`)
    }
    return dict
  }

  /** The newest public datasets matching a condition: CKAN's organization_show include_datasets shows up to 1000. */
  private async recentPackages(condition: ReturnType<typeof sql>): Promise<Array<Record<string, unknown>>> {
    const rows = await this.db
      .selectFrom('package as p')
      .select('p.id')
      .where(PUBLIC_DATASETS)
      .where(condition as never)
      .orderBy('p.metadata_modified', 'desc')
      .limit(1000)
      .execute()
    return this.packageDicts(rows.map((r) => r.id), PUBLIC_DATASETS)
  }

  async listTags(query: string | undefined, allFields: boolean): Promise<unknown[]> {
    let q = this.db
      .selectFrom('tag as t')
      .select(['t.id', 't.name'])
      .where((eb) => eb.exists(
        eb.selectFrom('package_tag as pt')
          .innerJoin('package as p', 'p.id', 'pt.package_id')
          .select(sql.lit(1).as('one'))
          .whereRef('pt.tag_id', '=', 't.id')
          .where(PUBLIC_DATASETS),
      ))
      .orderBy('t.name')
    if (query) q = q.where(sql<boolean>`t.name like ${`%${escapeLike(query)}%`} escape '!'`)
    const rows = await q.execute()
    if (!allFields) return rows.map((r) => r.name)
    return rows.map((r) => ({ display_name: r.name, id: r.id, name: r.name, vocabulary_id: null }))
  }

  /** Builds the stored record of a dataset, with the organization and theme titles its text index needs. */
  recordFor(input: PackageInput, previous?: { revision: number; metadata_created: string }, now = ckanNow()): PackageRecord {
    const org = input.owner_org ? this.reference.organizations.get(input.owner_org) : undefined
    return buildPackageRecord(input, {
      vocab: this.vocab,
      now,
      previousRevision: previous?.revision ?? 0,
      metadataCreated: previous?.metadata_created,
      organizationTitle: org?.title,
      themeTitles: (input.themeIds ?? []).map((id) => this.reference.themes.get(id)?.title ?? ''),
    })
  }

  /**
   * Told after every dataset or reference write (caches derived from the catalog listen), of this process
   * ('local', at once) or of any other process or server ('remote', from the change feed). A write of this
   * process answers its caller only once its listeners are done: the cluster relay resolves when every
   * other worker has dropped what it cached, so a client reads its own write whichever worker answers.
   */
  private readonly changeListeners: Array<(change: CatalogChange, origin: 'local' | 'remote') => void | Promise<void>> = []

  onChange(listener: (change: CatalogChange, origin: 'local' | 'remote') => void | Promise<void>): void {
    this.changeListeners.push(listener)
  }

  private async changed(change: CatalogChange): Promise<void> {
    await Promise.all(this.changeListeners.map((listener) => listener(change, 'local')))
  }

  /**
   * A write of another process (a worker of this server, another server, a command) on the same database:
   * drop what this process cached of it, as a local write would. Idempotent: a change applied twice (relayed
   * and then read from the feed) costs a reload, nothing more.
   */
  async applyRemoteChange(change: CatalogChange): Promise<void> {
    if (change.kind === 'datasets') this.documents.invalidate(...change.keys)
    else if (change.kind === 'reference') {
      await this.reference.reload()
      this.documents.clear()
    } else {
      await this.reference.reload()
      this.documents.clear()
    }
    await Promise.all(this.changeListeners.map((listener) => listener(change, 'remote')))
  }

  private tailer: ChangeFeedTailer | null = null
  private pruneCountdown = 0

  /**
   * Takes the change feed's position before this process reads any data (ChangeFeedTailer.mark): what is
   * committed by then is in what it reads; what commits later is applied from the feed.
   */
  async markChangeFeed(pollMs: number): Promise<void> {
    if (this.tailer) return
    const tailer = new ChangeFeedTailer(this.db, {
      pollMs,
      apply: async (changes) => {
        for (const change of mergeChanges(changes)) await this.applyRemoteChange(change)
      },
      reloadAll: () => this.applyRemoteChange({ kind: 'all' }),
      onError: (err) => this.changeFeedError(err),
    })
    this.tailer = tailer
    await tailer.mark()
  }

  private changeFeedError: (err: unknown) => void = () => undefined

  /**
   * Tails the change feed every `pollMs` from the position markChangeFeed took (or from now): the coherence rule
   * of every cache and index of this process is that it applies each committed write of any process within one
   * poll (see change-feed.ts).
   */
  async startChangeFeed(pollMs: number, onError: (err: unknown) => void): Promise<void> {
    this.changeFeedError = onError
    if (!this.tailer) await this.markChangeFeed(pollMs)
    await this.tailer!.start()
  }

  /** The newest change in the feed: moves with every committed write of any process (validators of answers). */
  async changePosition(): Promise<number> {
    const row = await sql<{ seq: number | string | null }>`select max(seq) as seq from change_feed`.execute(this.db)
    return Number(row.rows[0]?.seq ?? 0)
  }

  /** Applies what the feed holds now (tests; and a poll before answering what must be current). */
  async catchUpChangeFeed(): Promise<void> {
    await this.tailer?.pollNow()
  }

  async stopChangeFeed(): Promise<void> {
    await this.tailer?.stop()
    this.tailer = null
  }

  /**
   * Runs a write in one transaction that also appends its change to the feed; then applies the change to
   * this process's caches before the caller answers (read-your-writes). Now and then it prunes the feed.
   */
  private async write<T>(change: (result: T) => CatalogChange, body: (trx: Kysely<Database>, batch: StatementBatch) => Promise<T>, duplicateField?: DuplicateField, outer?: WriteBatch): Promise<T> {
    if (outer) {
      // Inside a batch's transaction: the batch commits (or rolls back) and then applies the changes.
      const batch = new StatementBatch(outer.trx)
      const value = await body(outer.trx, batch)
      const committed = change(value)
      batch.add(appendChange(outer.trx, committed))
      await batch.flush()
      outer.changes.push(committed)
      return value
    }
    let result!: T
    let committed: CatalogChange | undefined
    try {
      result = await writeTransaction(
        this.store,
        async (trx) => {
          const batch = new StatementBatch(trx)
          const value = await body(trx, batch)
          committed = change(value)
          batch.add(appendChange(trx, committed))
          await batch.flush()
          return value
        },
        duplicateField,
      )
    } finally {
      // Also after a failure: a write that failed after its commit (it cannot, but a driver may report so) must not leave stale copies.
      if (committed) {
        if (committed.kind === 'datasets') this.documents.invalidate(...committed.keys)
        else this.documents.clear()
        if (committed.kind !== 'datasets') await this.reference.reload()
      }
    }
    if (--this.pruneCountdown <= 0) {
      this.pruneCountdown = 1000
      await pruneChangeFeed(this.db).catch(() => {})
    }
    await this.changed(committed!)
    return result
  }

  /**
   * Several writes (createPackage/modifyPackage with `{ batch }`) in one write transaction, as the harvester
   * writes a page: one commit for all. The caches learn the changes only after the commit (as with write()).
   * A database error that a retry may cure (deadlock, busy) runs `body` again; other errors roll it all back.
   */
  async writeBatch<T>(body: (batch: WriteBatch) => Promise<T>): Promise<T> {
    let batch: WriteBatch | undefined
    const result = await writeTransaction(this.store, async (trx) => {
      batch = { trx, changes: [] }
      return body(batch)
    })
    const changes = batch?.changes ?? []
    for (const c of changes) {
      if (c.kind === 'datasets') this.documents.invalidate(...c.keys)
      else this.documents.clear()
    }
    if (changes.some((c) => c.kind !== 'datasets')) await this.reference.reload()
    this.pruneCountdown -= changes.length
    if (this.pruneCountdown <= 0) {
      this.pruneCountdown = 1000
      await pruneChangeFeed(this.db).catch(() => {})
    }
    for (const c of changes) await this.changed(c)
    return result
  }

  /** Test seam: lets a test fail a write midway to prove the transaction leaves nothing behind. */
  writeHooks: WriteHooks = {}

  /** Stores a new dataset with its activity in one transaction; returns its id. */
  async createPackage(input: PackageInput, actor: Viewer = ANONYMOUS, harvest: HarvestWrite = {}): Promise<string> {
    if (!harvest.harvest) assertNoHarvestExtras(input)
    let record = this.recordFor(input)
    this.assertRecordFits(record)
    await this.write(
      () => ({ kind: 'datasets', keys: [record.row.id, record.row.name] }),
      async (trx, batch) => {
        record = this.recordFor({ ...input, id: record.row.id }, undefined, await catalogNow(trx))
        await this.assertOrganizationActive(trx, record.row.owner_org)
        await this.assertIdentityFree(trx, record, true)
        const uris = await this.claimUris(trx, record)
        await insertPackageRecords(trx, [record], this.writeHooks, batch)
        for (const insert of uris) batch.add(insert)
        batch.add(this.activityInsert(trx, actor, record, 'new package', null))
        await this.recordQuality(trx, batch, record, input)
        if (harvest.within) {
          await batch.flush()
          await harvest.within(trx, record.row.id)
        }
      },
      (value, key) => this.duplicateFieldOf(record)(value, key),
      harvest.batch,
    )
    // The written document is not cached here: a later write of another server, applied from the feed before
    // this line, could not be told from it. The answer reads it back like any other read.
    return record.row.id
  }

  /**
   * Changes a dataset by reading it, deciding and writing, all in one transaction: the current state comes
   * from the database (locked on MySQL; SQLite writes one at a time), never from a cache, so no concurrent
   * write is lost. `plan` authorizes and validates against that state (it must not touch the database
   * itself: the transaction holds the connection). Returns the new revision.
   */
  async modifyPackage(idOrName: string, actor: Viewer, plan: (current: CurrentPackage) => Promise<PackageChangePlan>, harvest: HarvestWrite = {}): Promise<{ id: string; revision: number }> {
    let record: PackageRecord | undefined
    let revision = 0
    let packageId = ''
    const keys: string[] = [idOrName]
    await this.write(
      () => ({ kind: 'datasets', keys }),
      async (trx, batch) => {
        const rows = await trx
          .selectFrom('package as p')
          .innerJoin('package_document as d', 'd.package_id', 'p.id')
          .select(['p.id', 'p.name', 'p.owner_org', 'p.private', 'p.state', 'p.type', 'p.revision', 'p.metadata_created', 'p.creator_user_id', 'd.document', 'd.theme_ids'])
          .where((eb) => eb.or([eb('p.id', '=', idOrName), eb('p.name', '=', idOrName)]))
          .$if(this.store.dialect === 'mysql', (q) => q.forUpdate())
          .execute()
        const row = rows.find((r) => r.id === idOrName) ?? rows[0]
        if (!row) throw notFound()
        packageId = row.id
        keys.push(row.id, row.name)
        if (!harvest.harvest) await harvestGuard(trx, row.id)
        const stored: StoredDocument = { id: row.id, name: row.name, owner_org: row.owner_org, private: row.private, state: row.state, revision: row.revision, document: row.document, themeIds: JSON.parse(row.theme_ids) as string[] }
        const dict = this.packageDict(stored)
        const decided = await plan({ id: row.id, name: row.name, owner_org: row.owner_org, revision: row.revision, dict })
        if (decided.expectedRevision !== undefined && decided.expectedRevision !== row.revision) {
          throw new CatalogError('conflict', 'The dataset was changed by someone else since you read it (If-Match does not match its revision)')
        }
        if (decided.state) {
          revision = await this.writeState(trx, batch, actor, row, decided.state, decided.activity ?? 'changed package')
          if (harvest.within) {
            await batch.flush()
            await harvest.within(trx, row.id)
          }
          return
        }
        if (!decided.input) throw new Error('a package change plan needs an input or a state')
        if (!harvest.harvest) assertNoHarvestExtras(decided.input)
        const next = this.recordFor({ ...decided.input, id: row.id, creator_user_id: row.creator_user_id }, row, await catalogNow(trx))
        this.assertRecordFits(next)
        if (next.row.owner_org !== row.owner_org) await this.assertOrganizationActive(trx, next.row.owner_org)
        keys.push(next.row.name)
        if (next.row.name !== row.name) await this.assertIdentityFree(trx, next, false)
        const uris = await this.claimUris(trx, next)
        const previous = JSON.parse(row.document) as Record<string, unknown>
        await replacePackageRecord(trx, next, this.writeHooks, batch)
        batch.add(trx.deleteFrom('package_uri').where('package_id', '=', row.id))
        for (const insert of uris) batch.add(insert)
        batch.add(this.activityInsert(trx, actor, next, decided.activity ?? 'changed package', previous))
        await this.recordQuality(trx, batch, next, decided.input)
        if (harvest.within) {
          await batch.flush()
          await harvest.within(trx, row.id)
        }
        record = next
        revision = next.row.revision
      },
      (value, key) => (record ? this.duplicateFieldOf(record)(value, key) : undefined),
      harvest.batch,
    )
    return { id: packageId, revision }
  }

  /** A change of state alone: the row and the stored document say so, the rest stays as stored. */
  private async writeState(trx: Kysely<Database>, batch: StatementBatch, actor: Viewer, row: { id: string; owner_org: string | null; private: number; revision: number; document: string; type: string }, state: string, activity: string): Promise<number> {
    const now = await catalogNow(trx)
    const previous = JSON.parse(row.document) as Record<string, unknown>
    const next = { ...previous, state, metadata_modified: now }
    const visible = state === 'active' && row.private === 0 && row.type === 'dataset' ? 1 : 0
    batch.add(trx.updateTable('package').set({ state, visible, revision: row.revision + 1, metadata_modified: now }).where('id', '=', row.id))
    batch.add(trx.updateTable('package_document').set({ document: JSON.stringify(next) }).where('package_id', '=', row.id))
    batch.add(this.activityInsert(trx, actor, { id: row.id, owner_org: row.owner_org, timestamp: now, dict: next }, activity, previous))
    await this.quality.recordVisibility(trx, row.id, visible, now, batch)
    return row.revision + 1
  }

  /**
   * Replaces a dataset with its activity in one transaction (the seeder's and tests' way; the API goes
   * through modifyPackage). With `expectedRevision`, the write only happens when the stored revision still
   * is that one; returns false when it was not.
   */
  async updatePackage(id: string, input: PackageInput, expectedRevision?: number, actor: Viewer = ANONYMOUS, activityType = 'changed package'): Promise<boolean> {
    try {
      await this.modifyPackage(id, actor, async () => ({ input, expectedRevision, activity: activityType }))
      return true
    } catch (err) {
      if (err instanceof CatalogError && err.code === 'conflict' && expectedRevision !== undefined) return false
      throw err
    }
  }

  /** The MQA score of a dataset being written, stored by the write's own transaction (src/quality/). */
  private async recordQuality(trx: Kysely<Database>, batch: StatementBatch, record: PackageRecord, input: PackageInput): Promise<void> {
    const dict = this.packageDict(this.storedDocument(record)) as unknown as PackageDict
    const { id, owner_org, visible, metadata_modified } = record.row
    await this.quality.recordWrite(trx, dict, { id, owner_org, visible, now: metadata_modified, compliance: complianceOf(input) }, batch)
  }

  /** The stored form of a record, as loadDocument reads it back. */
  storedDocument(record: PackageRecord): StoredDocument {
    return {
      id: record.row.id,
      name: record.row.name,
      owner_org: record.row.owner_org,
      private: record.row.private,
      state: record.row.state,
      revision: record.row.revision,
      document: record.document.document,
      themeIds: record.themeIds,
    }
  }

  /** Removes a dataset and everything of it for good (CKAN dataset_purge). */
  async purgePackage(id: string): Promise<void> {
    const keys = [id]
    await this.write(
      () => ({ kind: 'datasets', keys }),
      async (trx) => {
        const row = await trx.selectFrom('package').select('name').where('id', '=', id).executeTakeFirst()
        if (row) keys.push(row.name)
        await this.quality.recordVisibility(trx, id, 0, ckanNow())
        await trx.deleteFrom('package_uri').where('package_id', '=', id).execute()
        await deletePackage(trx, id)
      },
    )
  }

  /**
   * The Kommune a dataset is written into exists and is active, as the database says inside the write (the
   * reference data in memory may be a poll behind). On MySQL the row is share-locked, so a concurrent
   * organization_delete (which locks it for update) either sees this dataset or refuses it.
   */
  private async assertOrganizationActive(trx: Kysely<Database>, organizationId: string | null): Promise<void> {
    if (!organizationId) return
    const lock = this.store.dialect === 'mysql' ? sql` lock in share mode` : sql``
    const row = await sql<{ state: string }>`select state from organization where id = ${organizationId}${lock}`.execute(trx)
    if (row.rows[0]?.state !== 'active') throw validationError({ owner_org: ['Organization does not exist'] })
  }

  /**
   * CKAN organization_delete: only a Kommune without datasets (other than deleted ones) — private and draft
   * datasets count, they would be orphaned. Counted inside the write, with the Kommune's row locked.
   */
  async deleteOrganization(id: string): Promise<void> {
    await this.referenceWrite(async (trx) => {
      const lock = this.store.dialect === 'mysql' ? sql` for update` : sql``
      await sql`select id from organization where id = ${id}${lock}`.execute(trx)
      const row = await trx.selectFrom('package').select((eb) => eb.fn.countAll<number>().as('n')).where('owner_org', '=', id).where('state', '<>', 'deleted').executeTakeFirst()
      const count = Number(row?.n ?? 0)
      if (count > 0) throw validationError({ id: [`Organization still has ${count} datasets`] })
      await trx.updateTable('organization').set({ state: 'deleted' }).where('id', '=', id).execute()
    })
  }

  /** A dataset's stored document is bounded (DATASET_MAX_BYTES): every answer that carries it stays bounded too. */
  private assertRecordFits(record: PackageRecord): void {
    const bytes = Buffer.byteLength(record.document.document)
    const max = this.config.datasetMaxBytes
    if (bytes > max) {
      throw validationError({ __dataset: [`The dataset is ${bytes} bytes as stored; at most ${max} bytes are allowed (DATASET_MAX_BYTES)`] })
    }
  }

  /**
   * Ids and names are one namespace (package_show takes either): a new id or name must be neither an id nor
   * a name of another dataset, and a name may not have the form of an id unless it is the dataset's own.
   */
  private async assertIdentityFree(trx: Kysely<Database>, record: PackageRecord, isNew: boolean): Promise<void> {
    const { id, name } = record.row
    if (UUID_FORM.test(name) && name !== id) {
      throw validationError({ name: ['A name may not have the form of a dataset id (a UUID) other than its own'] })
    }
    const handles = [...new Set([id, name])]
    const others = await trx
      .selectFrom('package')
      .select(['id', 'name'])
      .where((eb) => eb.or([eb('id', 'in', handles), eb('name', 'in', handles)]))
      .$if(!isNew, (q) => q.where('id', '<>', id))
      .execute()
    if (others.some((o) => o.id === id || (o.name === id && id !== name))) throw validationError({ id: ['Dataset id already exists'] })
    if (others.length) throw validationError({ name: [NAME_TAKEN] })
  }

  /**
   * The explicit URIs of a dataset and its resources (the `uri` extra, a resource's `uri`): each must be
   * unique in the catalog (two datasets sharing an RDF subject would merge in every harvester) and must not
   * claim a URI of this catalog's own namespace other than the dataset's own. Returns the inserts that claim
   * them; a unique key on their hash keeps concurrent writers apart.
   */
  private async claimUris(trx: Kysely<Database>, record: PackageRecord) {
    const id = record.row.id
    const base = this.config.baseUrl
    const own = ownDatasetUri(id, base)
    const claims: Array<{ uri: string; field: string; resourceId: string | null; ownDefault: string }> = []
    const datasetUri = record.row.uri ?? record.extras.find((e) => e.key === 'uri')?.value
    if (datasetUri) claims.push({ uri: datasetUri, field: 'uri', resourceId: null, ownDefault: own })
    for (const resource of record.resources) {
      const uri = (JSON.parse(resource.extras) as { uri?: unknown }).uri
      if (typeof uri === 'string' && uri) claims.push({ uri, field: 'resources', resourceId: resource.id, ownDefault: `${own}/resource/${resource.id}` })
    }
    if (claims.length === 0) return []
    const errors: Record<string, string[]> = {}
    const fail = (field: string, message: string) => (errors[field] ??= []).includes(message) || errors[field]!.push(message)
    const seen = new Set<string>()
    for (const claim of claims) {
      // The export writes only absolute http(s) IRIs as subjects (else the dataset's own URI): store no other.
      if (!isHttpIri(claim.uri)) fail(claim.field, `The URI ${claim.uri.slice(0, 200)} is not an absolute http(s) IRI`)
      if (seen.has(uriIdentity(claim.uri))) fail(claim.field, `The URI ${claim.uri.slice(0, 200)} is given more than once in this dataset`)
      seen.add(uriIdentity(claim.uri))
      if (inNamespace(claim.uri, base) && claim.uri !== claim.ownDefault) fail(claim.field, `The URI ${claim.uri.slice(0, 200)} belongs to this catalog's own namespace`)
    }
    const hashes = claims.map((c) => uriHash(c.uri))
    const held = await trx.selectFrom('package_uri').select(['uri', 'package_id']).where('uri_hash', 'in', hashes).where('package_id', '<>', id).execute()
    for (const row of held) {
      const claim = claims.find((c) => uriIdentity(c.uri) === uriIdentity(row.uri))
      fail(claim?.field ?? 'uri', `The URI ${row.uri.slice(0, 200)} is already used by another dataset`)
    }
    if (Object.keys(errors).length) throw validationError(errors)
    return claims.map((c, i) => trx.insertInto('package_uri').values({ uri_hash: hashes[i]!, uri: c.uri, package_id: id, resource_id: c.resourceId }))
  }

  /** Which field a duplicate key of a dataset write belongs to (MySQL names only the key and the value). */
  private duplicateFieldOf(record: PackageRecord): DuplicateField {
    return (value, key) => {
      if (key.includes('uri') || (value && /^[0-9a-f]{64}$/.test(value))) return { field: 'uri', message: 'That URI is already used by another dataset or resource.' }
      if (value === record.row.name || key === 'name') return { field: 'name', message: NAME_TAKEN }
      if (value === record.row.id) return { field: 'id', message: 'Dataset id already exists' }
      if (value && record.resources.some((r) => r.id === value)) return { field: 'resources', message: 'A resource with that id already exists.' }
      return undefined
    }
  }

  private activityInsert(trx: Kysely<Database>, actor: Viewer, after: PackageRecord | { id: string; owner_org: string | null; timestamp: string; dict: Record<string, unknown> }, activityType: string, previous: Record<string, unknown> | null) {
    const written = 'row' in after ? { id: after.row.id, owner_org: after.row.owner_org, timestamp: after.row.metadata_modified, dict: JSON.parse(after.document.document) as Record<string, unknown> } : after
    return trx.insertInto('activity').values({
      id: randomUUID(),
      timestamp: written.timestamp,
      user_id: actor.userId,
      object_id: written.id,
      organization_id: written.owner_org,
      activity_type: activityType,
      data: JSON.stringify({ package: written.dict, diff: previous ? diffDicts(previous, written.dict) : [] }),
    })
  }

  /**
   * Activities, newest first: of one dataset, of one organization's datasets, or of all. Activities of datasets
   * the viewer may not read (private, deleted) are left out, as the datasets themselves are.
   */
  async activities(
    filter: { packageId?: string; organizationId?: string },
    viewer: Viewer,
    limit: number,
    offset: number,
  ): Promise<Array<Record<string, unknown>>> {
    let query = this.db
      .selectFrom('activity as a')
      .innerJoin('package as p', 'p.id', 'a.object_id')
      .select(['a.id', 'a.activity_type', 'a.data', 'a.object_id', 'a.timestamp', 'a.user_id'])
      .orderBy('a.timestamp', 'desc')
      .orderBy('a.id')
      .limit(limit)
      .offset(offset)
    if (filter.packageId) query = query.where('a.object_id', '=', filter.packageId)
    if (filter.organizationId) query = query.where('a.organization_id', '=', filter.organizationId)
    query = query.where(readableBy(viewer))
    const rows = await query.execute()
    return rows.map((row) => ({
      activity_type: row.activity_type,
      data: JSON.parse(row.data),
      id: row.id,
      object_id: row.object_id,
      timestamp: row.timestamp,
      user_id: row.user_id,
    }))
  }

  async createOrganization(fields: Partial<OrganizationTable> & { name: string }): Promise<string> {
    const id = fields.id && /^[0-9a-f-]{36}$/.test(fields.id) ? fields.id : randomUUID()
    await this.referenceWrite((trx) => trx
      .insertInto('organization')
      .values({
        id,
        name: fields.name,
        title: fields.title ?? fields.name,
        description: fields.description ?? '',
        image_url: fields.image_url ?? '',
        state: 'active',
        approval_status: 'approved',
        created: ckanNow(),
        homepage: fields.homepage ?? '',
        email: fields.email ?? '',
        regional_key: fields.regional_key ?? null,
        political_geocoding_uri: fields.political_geocoding_uri ?? null,
        political_geocoding_level_uri: fields.political_geocoding_level_uri ?? null,
        contributor_id: fields.contributor_id ?? null,
        extras: '{}',
      })
      .execute())
    return id
  }

  async updateOrganization(id: string, fields: Partial<OrganizationTable>): Promise<void> {
    const allowed: Array<keyof OrganizationTable> = ['name', 'title', 'description', 'image_url', 'state', 'homepage', 'email', 'regional_key', 'political_geocoding_uri', 'political_geocoding_level_uri', 'contributor_id']
    const changes = Object.fromEntries(allowed.filter((k) => fields[k] !== undefined).map((k) => [k, fields[k]]))
    await this.referenceWrite(async (trx) => {
      // Read inside the write (locked on MySQL): the version this write replaces, whatever the cache holds.
      const before = await trx
        .selectFrom('organization')
        .selectAll()
        .where('id', '=', id)
        .$if(this.store.dialect === 'mysql', (q) => q.forUpdate())
        .executeTakeFirst()
      await trx.updateTable('organization').set(changes).where('id', '=', id).execute()
      // Scores are stored (never made on a read): a change the Kommune's datasets score by (its e-mail, its
      // geocoding URI) queues them for the background rescorer, in this transaction so that it is never lost.
      // One marker for the Kommune, not its dataset ids (tens of thousands would make this edit one huge write).
      if (before && this.quality.organizationChangeScores(before, { ...before, ...changes })) {
        await qualityDb(trx).insertInto('org_rescore_pending').values({ owner_org: id }).execute()
      }
    })
  }

  /**
   * No rescoring follows a group write: the theme indicator reads a dataset's group names against the EU theme
   * vocabulary (quality/facts.ts), not the group's stored title, description or URI, and a name never changes here.
   */
  async saveTheme(id: string | undefined, fields: { name: string; title: string; description: string; uri: string }): Promise<string> {
    const themeId = id ?? randomUUID()
    await this.referenceWrite((trx) =>
      id
        ? trx.updateTable('theme').set({ title: fields.title, description: fields.description, uri: fields.uri }).where('id', '=', id).execute()
        : trx
            .insertInto('theme')
            .values({ id: themeId, name: fields.name, code: fields.name.toUpperCase(), uri: fields.uri, title: fields.title, title_en: fields.title, description: fields.description, image_url: '', state: 'active', created: ckanNow() })
            .execute(),
    )
    return themeId
  }

  /**
   * A write of organizations or groups: part of every package dict, so every process reloads them and drops
   * its cached documents (change kind 'reference'). A name taken by another is CKAN's 409 on `name`.
   */
  private async referenceWrite(body: (trx: Kysely<Database>) => Promise<unknown>): Promise<void> {
    await this.write(
      () => ({ kind: 'reference' }),
      async (trx) => {
        await body(trx)
      },
      () => ({ field: 'name', message: 'Group name already exists in database' }),
    )
  }

  listLicenses(): unknown[] {
    return this.reference.licenses.map((l) => ({
      domain_content: l.domain_content === 1,
      domain_data: l.domain_data === 1,
      domain_software: l.domain_software === 1,
      family: l.family,
      id: l.id,
      is_generic: l.is_generic === 1,
      is_okd_compliant: l.od_conformance === 'approved',
      is_osi_compliant: l.osd_conformance === 'approved',
      maintainer: l.maintainer,
      od_conformance: l.od_conformance,
      osd_conformance: l.osd_conformance,
      status: l.status,
      title: l.title,
      url: l.url,
    }))
  }
}

/**
 * The time a dataset write is stamped with: the process's clock, but never earlier than the newest stamp in
 * the catalog (plus one microsecond). So `metadata_modified` grows with every write whatever the writing
 * server's clock says (a server whose clock is behind would otherwise stamp its writes in the past, where
 * incremental harvests and conditional requests never look); one index lookup, inside the write.
 */
async function catalogNow(trx: Kysely<Database>): Promise<string> {
  const local = ckanNow()
  const row = await trx.selectFrom('package').select((eb) => eb.fn.max('metadata_modified').as('newest')).executeTakeFirst()
  const newest = row?.newest as string | null | undefined
  return newest && newest >= local ? fromMicros(toMicros(newest) + 1) : local
}

/**
 * A harvested dataset belongs to its source until it is detached (harvest_source_delete): editors get a 409
 * saying so, read inside the write's transaction (a harvest object that commits first is seen).
 */
async function harvestGuard(trx: Kysely<Database>, packageId: string): Promise<void> {
  const row = await sql<{ title: string; name: string }>`select s.title, s.name from harvest_object o join harvest_source s on s.id = o.source_id where o.package_id = ${packageId}`.execute(trx)
  const source = row.rows[0]
  if (source) {
    throw new CatalogError(
      'conflict',
      `This dataset is harvested from the source "${source.title}" (${source.name}) and is updated from there: change it at its source, or detach it from the source first (harvest_source_delete with clear=false)`,
    )
  }
}

function assertNoHarvestExtras(input: PackageInput): void {
  const claimed = (input.extras ?? []).filter((e) => HARVEST_EXTRAS.includes(e.key)).map((e) => e.key)
  if (claimed.length) throw validationError({ extras: [`The extras ${claimed.join(', ')} are written by the harvester only`] })
}

/** Which top-level fields changed, with their old and new values (the activity stream's diff). */
export function diffDicts(before: Record<string, unknown>, after: Record<string, unknown>): Array<{ field: string; old: unknown; new: unknown }> {
  const ignored = new Set(['metadata_modified'])
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((f) => !ignored.has(f)).sort()
  // Each write stamps the resources' metadata_modified: compare them without it.
  const comparable = (dict: Record<string, unknown>, field: string) =>
    JSON.stringify(field === 'resources' && Array.isArray(dict[field]) ? (dict[field] as Array<Record<string, unknown>>).map(({ metadata_modified: _m, ...r }) => r) : dict[field])
  return fields
    .filter((f) => comparable(before, f) !== comparable(after, f))
    .map((f) => ({ field: f, old: before[f] ?? null, new: after[f] ?? null }))
}
