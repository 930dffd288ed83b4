import { CompiledQuery, type Compilable, type Expression, type Kysely, type SqlBool, type Transaction } from 'kysely'
import { format as formatMysql } from 'mysql2'
import { isMysql } from '../db/dialect.js'
import { postings } from '../search/text.js'
import type { Database } from '../db/types.js'
import { tagId, type PackageRecord } from './package.js'

type Db = Kysely<Database> | Transaction<Database>

/** Rows per multi-row INSERT: well under SQLite's 32,766 bound parameters and MySQL's packet size. */
const CHUNK = 200

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Test seams inside a write (a failure injected here must leave no trace). */
export interface WriteHooks {
  afterResources?: () => void | Promise<void>
}

/**
 * Statements of one write, sent together. On MySQL they go as one multi-statement round trip (mysql2
 * escapes every value into the text, exactly as it does for a single statement: no user text is ever
 * concatenated); a dataset write is a dozen statements, and each round trip costs both processes a
 * system call or two. On SQLite, which runs in this process, they simply run one after the other.
 * A failing statement stops the rest and rejects; the caller's transaction then rolls back.
 */
export class StatementBatch {
  private queries: CompiledQuery[] = []
  private bytes = 0
  private readonly mysql: boolean

  constructor(private readonly db: Db) {
    this.mysql = isMysql(db)
  }

  add(query: Compilable): void {
    const compiled = query.compile()
    this.queries.push(compiled)
    this.bytes += compiled.sql.length + JSON.stringify(compiled.parameters).length
  }

  /** Whether the statements so far should be sent before more are added (MySQL's packet size). */
  get large(): boolean {
    return this.bytes > MAX_BATCH_BYTES
  }

  async flush(): Promise<void> {
    const queries = this.queries
    this.queries = []
    this.bytes = 0
    if (!this.mysql || queries.length === 1) {
      for (const query of queries) await this.db.executeQuery(query)
      return
    }
    if (queries.length === 0) return
    const text = queries.map((q) => formatMysql(q.sql, q.parameters as never, false, 'Z')).join(';\n')
    await this.db.executeQuery(CompiledQuery.raw(text))
  }
}

/** Well under MariaDB's default max_allowed_packet (16 MB). */
const MAX_BATCH_BYTES = 4 * 1024 * 1024

/**
 * Inserts new datasets with all their rows; the caller holds the transaction. Given a batch, the last
 * statements are left in it for the caller to add to and send.
 */
export async function insertPackageRecords(db: Db, records: PackageRecord[], hooks: WriteHooks = {}, callerBatch?: StatementBatch): Promise<void> {
  if (records.length === 0) return
  const batch = callerBatch ?? new StatementBatch(db)
  const tagNames = [...new Set(records.flatMap((r) => r.tagNames))]
  addTags(db, batch, tagNames)
  for (const part of chunks(records, 100)) {
    batch.add(db.insertInto('package').values(part.map((r) => r.row)))
    batch.add(db.insertInto('package_document').values(part.map((r) => r.document)))
    if (batch.large) await batch.flush()
  }
  await addChildren(db, batch, records, hooks)
  if (!callerBatch) await batch.flush()
}

/** Replaces a stored dataset by a new record of it: one row update plus its children rewritten (batch: as above). */
export async function replacePackageRecord(db: Db, record: PackageRecord, hooks: WriteHooks = {}, callerBatch?: StatementBatch): Promise<void> {
  const batch = callerBatch ?? new StatementBatch(db)
  const id = record.row.id
  addDeleteChildren(db, batch, [id])
  addTags(db, batch, record.tagNames)
  const { id: _id, ...changes } = record.row
  batch.add(db.updateTable('package').set(changes).where('id', '=', id))
  batch.add(db.updateTable('package_document').set({ theme_ids: record.document.theme_ids, document: record.document.document }).where('package_id', '=', id))
  await addChildren(db, batch, [record], hooks)
  if (!callerBatch) await batch.flush()
}

/** The tags by name, added unless they exist (tags are shared between datasets). */
function addTags(db: Db, batch: StatementBatch, names: string[]): void {
  for (const part of chunks(names)) batch.add(db.insertInto('tag').values(part.map((name) => ({ id: tagId(name), name }))).orIgnore())
}

function addDeleteChildren(db: Db, batch: StatementBatch, ids: string[]): void {
  for (const table of ['search_term', 'package_text', 'package_theme', 'package_tag', 'resource', 'package_extra'] as const) {
    batch.add(db.deleteFrom(table).where('package_id', 'in', ids))
  }
}

/** Deletes a dataset with all its rows (purge). */
export async function deletePackage(db: Db, id: string): Promise<void> {
  const batch = new StatementBatch(db)
  addDeleteChildren(db, batch, [id])
  batch.add(db.deleteFrom('activity').where('object_id', '=', id))
  batch.add(db.deleteFrom('package_document').where('package_id', '=', id))
  batch.add(db.deleteFrom('package').where('id', '=', id))
  await batch.flush()
}

async function addChildren(db: Db, batch: StatementBatch, records: PackageRecord[], hooks: WriteHooks): Promise<void> {
  const extras = records.flatMap((r) => r.extras.map((e) => ({ package_id: r.row.id, key: e.key, value: e.value })))
  for (const part of chunks(extras)) batch.add(db.insertInto('package_extra').values(part))
  const resources = records.flatMap((r) => r.resources)
  for (const part of chunks(resources, 100)) batch.add(db.insertInto('resource').values(part))
  if (hooks.afterResources) {
    // The seam's point is that the resources are really written when it fails.
    await batch.flush()
    await hooks.afterResources()
  }
  const tags = records.flatMap((r) => r.tagNames.map((name) => ({ package_id: r.row.id, tag_id: tagId(name) })))
  for (const part of chunks(tags)) batch.add(db.insertInto('package_tag').values(part))
  const themes = records.flatMap((r) => r.themeIds.map((theme_id) => ({ package_id: r.row.id, theme_id })))
  for (const part of chunks(themes)) batch.add(db.insertInto('package_theme').values(part))
  const texts = records.map((r) => ({ package_id: r.row.id, ...r.text }))
  for (const part of chunks(texts, 100)) batch.add(db.insertInto('package_text').values(part))
  const terms = records.flatMap((r) => postings(r.text).map((p) => ({ term: p.term, package_id: r.row.id, weight: p.weight })))
  for (const part of chunks(terms, 1000)) batch.add(db.insertInto('search_term').values(part))
  if (batch.large) await batch.flush()
}

export interface StoredDocument {
  id: string
  name: string
  owner_org: string | null
  private: number
  state: string
  revision: number
  document: string
  themeIds: string[]
}

const DOCUMENT_COLUMNS = ['p.id', 'p.name', 'p.owner_org', 'p.private', 'p.state', 'p.revision', 'd.document', 'd.theme_ids'] as const

function documents(db: Db) {
  return db.selectFrom('package as p').innerJoin('package_document as d', 'd.package_id', 'p.id').select(DOCUMENT_COLUMNS)
}

function toStored(row: { id: string; name: string; owner_org: string | null; private: number; state: string; revision: number; document: string; theme_ids: string }): StoredDocument {
  const { theme_ids, ...rest } = row
  return { ...rest, themeIds: JSON.parse(theme_ids) as string[] }
}

/** Loads rendered documents for the given ids: one query whatever their number. */
export async function loadDocuments(db: Db, ids: string[], visibility: Expression<SqlBool>): Promise<Map<string, StoredDocument>> {
  const result = new Map<string, StoredDocument>()
  if (ids.length === 0) return result
  const rows = await documents(db).where('p.id', 'in', ids).where(visibility).execute()
  for (const row of rows) result.set(row.id, toStored(row))
  return result
}

/** One dataset's document by id or by name, in one query. */
export async function loadDocument(db: Db, idOrName: string): Promise<StoredDocument | undefined> {
  const rows = await documents(db)
    .where((eb) => eb.or([eb('p.id', '=', idOrName), eb('p.name', '=', idOrName)]))
    .limit(2)
    .execute()
  // An id wins over a name that happens to equal another dataset's id.
  const row = rows.find((r) => r.id === idOrName) ?? rows[0]
  return row ? toStored(row) : undefined
}

export async function findResourcePackageId(db: Db, resourceId: string): Promise<string | undefined> {
  const row = await db.selectFrom('resource').select('package_id').where('id', '=', resourceId).where('state', '=', 'active').executeTakeFirst()
  return row?.package_id
}
