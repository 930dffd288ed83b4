import type { Kysely, Transaction } from 'kysely'
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

/** Inserts new datasets with all their rows; the caller holds the transaction. */
export async function insertPackageRecords(db: Db, records: PackageRecord[], hooks: WriteHooks = {}): Promise<void> {
  if (records.length === 0) return
  const tagNames = [...new Set(records.flatMap((r) => r.tagNames))]
  for (const part of chunks(tagNames)) {
    await db.insertInto('tag').values(part.map((name) => ({ id: tagId(name), name }))).orIgnore().execute()
  }
  for (const part of chunks(records, 100)) {
    await db.insertInto('package').values(part.map((r) => r.row)).execute()
    await db.insertInto('package_document').values(part.map((r) => r.document)).execute()
  }
  await insertChildren(db, records, hooks)
}

/** Replaces a stored dataset by a new record of it: one row update plus its children rewritten. */
export async function replacePackageRecord(db: Db, record: PackageRecord, hooks: WriteHooks = {}): Promise<void> {
  const id = record.row.id
  await deleteChildren(db, [id])
  const tagNames = record.tagNames
  if (tagNames.length) await db.insertInto('tag').values(tagNames.map((name) => ({ id: tagId(name), name }))).orIgnore().execute()
  const { id: _id, ...changes } = record.row
  await db.updateTable('package').set(changes).where('id', '=', id).execute()
  await db.updateTable('package_document').set({ theme_ids: record.document.theme_ids, document: record.document.document }).where('package_id', '=', id).execute()
  await insertChildren(db, [record], hooks)
}

async function deleteChildren(db: Db, ids: string[]): Promise<void> {
  for (const table of ['package_text', 'package_theme', 'package_tag', 'resource', 'package_extra'] as const) {
    await db.deleteFrom(table).where('package_id', 'in', ids).execute()
  }
}

/** Deletes a dataset with all its rows (purge). */
export async function deletePackage(db: Db, id: string): Promise<void> {
  await deleteChildren(db, [id])
  await db.deleteFrom('activity').where('object_id', '=', id).execute()
  await db.deleteFrom('package_document').where('package_id', '=', id).execute()
  await db.deleteFrom('package').where('id', '=', id).execute()
}

async function insertChildren(db: Db, records: PackageRecord[], hooks: WriteHooks = {}): Promise<void> {
  const extras = records.flatMap((r) => r.extras.map((e) => ({ package_id: r.row.id, key: e.key, value: e.value })))
  for (const part of chunks(extras)) await db.insertInto('package_extra').values(part).execute()
  const resources = records.flatMap((r) => r.resources)
  for (const part of chunks(resources, 100)) await db.insertInto('resource').values(part).execute()
  await hooks.afterResources?.()
  const tags = records.flatMap((r) => r.tagNames.map((name) => ({ package_id: r.row.id, tag_id: tagId(name) })))
  for (const part of chunks(tags)) await db.insertInto('package_tag').values(part).execute()
  const themes = records.flatMap((r) => r.themeIds.map((theme_id) => ({ package_id: r.row.id, theme_id })))
  for (const part of chunks(themes)) await db.insertInto('package_theme').values(part).execute()
  const texts = records.map((r) => ({ package_id: r.row.id, ...r.text }))
  for (const part of chunks(texts, 100)) await db.insertInto('package_text').values(part).execute()
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
export async function loadDocuments(db: Db, ids: string[]): Promise<Map<string, StoredDocument>> {
  const result = new Map<string, StoredDocument>()
  if (ids.length === 0) return result
  const rows = await documents(db).where('p.id', 'in', ids).execute()
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
