import type { Kysely } from 'kysely'
import { sql } from 'kysely'
import { createTable, isMysql, longTextType } from '../src/db/dialect.js'

/**
 * The full-text document of each dataset (title, tags, body; folded: lower case, ä->ae, ß->ss), in a
 * plain table written by the same transaction as the dataset. MySQL indexes it with InnoDB FULLTEXT;
 * SQLite mirrors it into an FTS5 external-content table through triggers.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const mysql = isMysql(db)
  const table = createTable(db, 'package_text')
    .addColumn('text_id', 'integer', (c) => c.primaryKey().autoIncrement().notNull())
    .addColumn('package_id', 'varchar(36)', (c) => c.notNull().unique().references('package.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('body', longTextType(db), (c) => c.notNull())
  await table.execute()

  if (mysql) {
    await sql`ALTER TABLE package_text ADD FULLTEXT INDEX package_text_title (title)`.execute(db)
    await sql`ALTER TABLE package_text ADD FULLTEXT INDEX package_text_tags (tags)`.execute(db)
    await sql`ALTER TABLE package_text ADD FULLTEXT INDEX package_text_all (title, tags, body)`.execute(db)
    return
  }
  await sql`CREATE VIRTUAL TABLE package_fts USING fts5(title, tags, body, content='package_text', content_rowid='text_id', tokenize='unicode61 remove_diacritics 0')`.execute(db)
  await sql`CREATE TRIGGER package_text_ai AFTER INSERT ON package_text BEGIN
    INSERT INTO package_fts(rowid, title, tags, body) VALUES (new.text_id, new.title, new.tags, new.body); END`.execute(db)
  await sql`CREATE TRIGGER package_text_ad AFTER DELETE ON package_text BEGIN
    INSERT INTO package_fts(package_fts, rowid, title, tags, body) VALUES ('delete', old.text_id, old.title, old.tags, old.body); END`.execute(db)
  await sql`CREATE TRIGGER package_text_au AFTER UPDATE ON package_text BEGIN
    INSERT INTO package_fts(package_fts, rowid, title, tags, body) VALUES ('delete', old.text_id, old.title, old.tags, old.body);
    INSERT INTO package_fts(rowid, title, tags, body) VALUES (new.text_id, new.title, new.tags, new.body); END`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isMysql(db)) {
    for (const trigger of ['package_text_ai', 'package_text_ad', 'package_text_au']) await sql`DROP TRIGGER IF EXISTS ${sql.raw(trigger)}`.execute(db)
    await sql`DROP TABLE IF EXISTS package_fts`.execute(db)
  }
  await db.schema.dropTable('package_text').ifExists().execute()
}
