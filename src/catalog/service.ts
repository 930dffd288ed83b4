import type { Kysely } from 'kysely'
import { sql } from 'kysely'
import type { AppConfig } from '../config.js'
import type { Store } from '../db/connect.js'
import type { Database, OrganizationTable } from '../db/types.js'
import { canReadPackage, type Viewer } from '../auth/viewer.js'
import { notAuthorized, notFound } from '../errors.js'
import { groupDict, organizationDict, type GroupDictOptions } from './dictize.js'
import { ReferenceCache, syncReferenceData } from './reference.js'
import { StatementBatch, findResourcePackageId, insertPackageRecords, loadDocument, loadDocuments, replacePackageRecord, type StoredDocument } from './repository.js'
import { RawJson } from '../json.js'
import { escapeLike } from '../db/dialect.js'
import { buildPackageRecord, type PackageInput, type PackageRecord } from './package.js'
import { ckanNow } from './time.js'
import { DocumentCache } from './document-cache.js'
import { randomUUID } from 'node:crypto'
import type { Transaction } from 'kysely'
import { ANONYMOUS } from '../auth/viewer.js'
import { validationError } from '../errors.js'
import { deletePackage, type WriteHooks } from './repository.js'
import type { Vocabularies } from './vocabularies.js'

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

/** What a write changed, for caches: some datasets (by id and name), the organizations and groups, or anything. */
export type CatalogChange = { kind: 'datasets'; keys: string[] } | { kind: 'reference' } | { kind: 'all' }

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
  }

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

  /** Package dicts (as raw JSON) for ids in the given order (ids not found are left out). */
  async packageJsons(ids: string[], db: Kysely<Database> = this.db): Promise<RawJson[]> {
    const docs = await loadDocuments(db, ids)
    return ids.flatMap((id) => {
      const doc = docs.get(id)
      return doc ? [new RawJson(this.packageJson(doc))] : []
    })
  }

  async packageDicts(ids: string[], db: Kysely<Database> = this.db): Promise<Array<Record<string, unknown>>> {
    return (await this.packageJsons(ids, db)).map((raw) => JSON.parse(raw.json) as Record<string, unknown>)
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
      .selectFrom('package')
      .select('name')
      .where('state', '=', 'active')
      .where('private', '=', 0)
      .where('type', '=', 'dataset')
      .orderBy('name')
    if (limit !== undefined) query = query.limit(limit)
    if (offset) query = query.offset(offset).$if(limit === undefined, (q) => q.limit(Number.MAX_SAFE_INTEGER))
    return (await query.execute()).map((r) => r.name)
  }

  /** Active public dataset counts per organization id. */
  async organizationPackageCounts(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('package')
      .select(['owner_org', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', '=', 'active')
      .where('private', '=', 0)
      .groupBy('owner_org')
      .execute()
    return new Map(rows.filter((r) => r.owner_org).map((r) => [r.owner_org as string, Number(r.n)]))
  }

  async themePackageCounts(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('package_theme as pt')
      .innerJoin('package as p', 'p.id', 'pt.package_id')
      .select(['pt.theme_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('p.state', '=', 'active')
      .where('p.private', '=', 0)
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
      .selectFrom('package')
      .select('id')
      .where('state', '=', 'active')
      .where('private', '=', 0)
      .where(condition as never)
      .orderBy('metadata_modified', 'desc')
      .limit(1000)
      .execute()
    return this.packageDicts(rows.map((r) => r.id))
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
          .where('p.state', '=', 'active')
          .where('p.private', '=', 0),
      ))
      .orderBy('t.name')
    if (query) q = q.where(sql<boolean>`t.name like ${`%${escapeLike(query)}%`} escape '!'`)
    const rows = await q.execute()
    if (!allFields) return rows.map((r) => r.name)
    return rows.map((r) => ({ display_name: r.name, id: r.id, name: r.name, vocabulary_id: null }))
  }

  /** Builds the stored record of a dataset, with the organization and theme titles its text index needs. */
  recordFor(input: PackageInput, previous?: { revision: number; metadata_created: string }): PackageRecord {
    const org = input.owner_org ? this.reference.organizations.get(input.owner_org) : undefined
    return buildPackageRecord(input, {
      vocab: this.vocab,
      now: ckanNow(),
      previousRevision: previous?.revision ?? 0,
      metadataCreated: previous?.metadata_created,
      organizationTitle: org?.title,
      themeTitles: (input.themeIds ?? []).map((id) => this.reference.themes.get(id)?.title ?? ''),
    })
  }

  /**
   * Told after every dataset or reference write (caches derived from the catalog listen). A write of this
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
   * A write of another server process on the same database (relayed by the cluster primary): drop
   * what this process cached of it, as a local write would.
   */
  async applyRemoteChange(change: CatalogChange): Promise<void> {
    if (change.kind === 'datasets') this.documents.invalidate(...change.keys)
    else if (change.kind === 'reference') {
      await this.reference.reload()
      this.documents.clear()
    } else this.documents.clear()
    await Promise.all(this.changeListeners.map((listener) => listener(change, 'remote')))
  }

  /** Test seam: lets a test fail a write midway to prove the transaction leaves nothing behind. */
  writeHooks: WriteHooks = {}

  /** Stores a new dataset with its activity in one transaction; returns its id. */
  async createPackage(input: PackageInput, actor: Viewer = ANONYMOUS): Promise<string> {
    const record = this.recordFor(input)
    await this.db.transaction().execute(async (trx) => {
      // One statement for both clashes: the id taken, or the name.
      const clashes = await trx.selectFrom('package').select(['id', 'name']).where((eb) => eb.or([eb('id', '=', record.row.id), eb('name', '=', record.row.name)])).execute()
      if (clashes.some((c) => c.id === record.row.id)) throw validationError({ id: ['Dataset id already exists'] })
      if (clashes.length) throw validationError({ name: [NAME_TAKEN] })
      const batch = new StatementBatch(trx)
      await insertPackageRecords(trx, [record], this.writeHooks, batch)
      batch.add(this.activityInsert(trx, actor, record, 'new package', null))
      await batch.flush()
    })
    this.documents.invalidate(record.row.id, record.row.name)
    // What was just written is what the caller shows next (package_create answers with the dataset).
    this.documents.set(this.storedDocument(record))
    await this.changed({ kind: 'datasets', keys: [record.row.id, record.row.name] })
    return record.row.id
  }

  /**
   * Replaces a dataset with its activity in one transaction. With `expectedRevision`, the write only happens
   * when the stored revision still is that one (optimistic locking); returns false when it was not.
   */
  async updatePackage(id: string, input: PackageInput, expectedRevision?: number, actor: Viewer = ANONYMOUS, activityType = 'changed package'): Promise<boolean> {
    // Invalidate before and after: a reader between the two sees either the old or the new document.
    const names: string[] = [input.name]
    this.documents.invalidate(id, input.name)
    let written: PackageRecord | false = false
    try {
      written = await this.writePackageUpdate(id, input, expectedRevision, actor, activityType, names)
      return written !== false
    } finally {
      this.documents.invalidate(id, ...names)
      if (written) this.documents.set(this.storedDocument(written))
      await this.changed({ kind: 'datasets', keys: [id, ...names] })
    }
  }

  private async writePackageUpdate(id: string, input: PackageInput, expectedRevision: number | undefined, actor: Viewer, activityType: string, names: string[]): Promise<PackageRecord | false> {
    return this.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('package as p')
        .innerJoin('package_document as d', 'd.package_id', 'p.id')
        .select(['p.revision', 'p.metadata_created', 'd.document', 'p.owner_org', 'p.name', 'p.creator_user_id'])
        .where('p.id', '=', id)
        .$if(this.store.dialect === 'mysql', (q) => q.forUpdate())
        .executeTakeFirst()
      if (!current) throw notFound()
      names.push(current.name)
      if (expectedRevision !== undefined && current.revision !== expectedRevision) return false
      const record = this.recordFor({ ...input, id, creator_user_id: current.creator_user_id }, current)
      if (record.row.name !== current.name) await this.assertNameFree(trx, record.row.name, id)
      const previous = JSON.parse(current.document) as Record<string, unknown>
      const batch = new StatementBatch(trx)
      await replacePackageRecord(trx, record, this.writeHooks, batch)
      batch.add(this.activityInsert(trx, actor, record, activityType, previous))
      await batch.flush()
      return record
    })
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
    await this.db.transaction().execute(async (trx) => {
      await deletePackage(trx, id)
    })
    this.documents.clear()
    await this.changed({ kind: 'all' })
  }

  private async assertNameFree(trx: Transaction<Database>, name: string, id: string): Promise<void> {
    const clash = await trx.selectFrom('package').select('id').where('name', '=', name).executeTakeFirst()
    if (clash && clash.id !== id) throw validationError({ name: [NAME_TAKEN] })
  }

  private activityInsert(trx: Transaction<Database>, actor: Viewer, record: PackageRecord, activityType: string, previous: Record<string, unknown> | null) {
    const dict = JSON.parse(record.document.document) as Record<string, unknown>
    return trx.insertInto('activity').values({
      id: randomUUID(),
      timestamp: record.row.metadata_modified,
      user_id: actor.userId,
      object_id: record.row.id,
      organization_id: record.row.owner_org,
      activity_type: activityType,
      data: JSON.stringify({ package: dict, diff: previous ? diffDicts(previous, dict) : [] }),
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
    if (!viewer.sysadmin) {
      const readable = [...viewer.orgRoles.entries()].filter(([, role]) => role === 'admin' || role === 'editor').map(([org]) => org)
      const members = [...viewer.orgRoles.keys()]
      query = query.where((eb) =>
        eb.or([
          eb.and([eb('p.private', '=', 0), eb('p.state', '=', 'active')]),
          ...(members.length ? [eb.and([eb('p.state', '=', 'active'), eb('p.owner_org', 'in', members)])] : []),
          ...(readable.length ? [eb('p.owner_org', 'in', readable)] : []),
        ]),
      )
    }
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
    await this.db
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
      .execute()
    await this.reloadReference()
    return id
  }

  async updateOrganization(id: string, fields: Partial<OrganizationTable>): Promise<void> {
    const allowed: Array<keyof OrganizationTable> = ['name', 'title', 'description', 'image_url', 'state', 'homepage', 'email', 'regional_key', 'political_geocoding_uri', 'political_geocoding_level_uri', 'contributor_id']
    const changes = Object.fromEntries(allowed.filter((k) => fields[k] !== undefined).map((k) => [k, fields[k]]))
    await this.db.updateTable('organization').set(changes).where('id', '=', id).execute()
    await this.reloadReference()
  }

  async saveTheme(id: string | undefined, fields: { name: string; title: string; description: string; uri: string }): Promise<string> {
    if (id) {
      await this.db.updateTable('theme').set({ title: fields.title, description: fields.description, uri: fields.uri }).where('id', '=', id).execute()
    } else {
      id = randomUUID()
      await this.db
        .insertInto('theme')
        .values({ id, name: fields.name, code: fields.name.toUpperCase(), uri: fields.uri, title: fields.title, title_en: fields.title, description: fields.description, image_url: '', state: 'active', created: ckanNow() })
        .execute()
    }
    await this.reloadReference()
    return id
  }

  /** Organizations and groups are part of every cached package dict. */
  private async reloadReference(): Promise<void> {
    await this.reference.reload()
    this.documents.clear()
    await this.changed({ kind: 'reference' })
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
