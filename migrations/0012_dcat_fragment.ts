import type { Kysely } from 'kysely'
import { createTable, longTextType } from '../src/db/dialect.js'

/**
 * Each public dataset's DCAT-AP.de Turtle, rendered when it is written and stored, for the streamed dump and the
 * Hydra pages (src/dcat/fragment-store.ts holds the rules):
 *  - `revision`: the package revision the text was rendered from (stored only when the document was, at that
 *    moment, still exactly the one rendered); a fragment whose revision is not the package's is not used;
 *  - `context_key`: what else the text depends on (the rendering code, the vocabularies, BASE_URL, the
 *    contributor ID, the Kommune and group records as they were spliced in); one not matching the current
 *    key is not used;
 *  - `owner_org`, `theme_ids`: the Kommune and groups the text was rendered with (to compute that key);
 *  - `turtle`: the text (no prefix lines; written under DEFAULT_PREFIXES), its blank nodes labelled per dataset;
 *  - `asked`: the auxiliary IRIs it describes (JSON array), checked against package_uri whenever it is used.
 * Deleted with the dataset (purge).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await createTable(db, 'dcat_fragment')
    .addColumn('package_id', 'varchar(36)', (c) =>
      c.primaryKey().notNull().references('package.id').onDelete('cascade'),
    )
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('context_key', 'varchar(64)', (c) => c.notNull())
    .addColumn('owner_org', 'varchar(36)')
    .addColumn('theme_ids', 'text', (c) => c.notNull())
    .addColumn('turtle', longTextType(db), (c) => c.notNull())
    .addColumn('asked', longTextType(db), (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('dcat_fragment').execute()
}
