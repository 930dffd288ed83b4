/**
 * Stored DCAT-AP.de Turtle of each public dataset (table dcat_fragment, migrations/0012_dcat_fragment.ts), for the
 * streamed dump and the Hydra pages: rendered when a dataset is written (a local change listener of the catalog
 * service) or, for a dataset without a usable one, when it is first exported (then stored for the next time).
 *
 * Coherence rule (by content, never by clocks): a stored fragment is used only when
 *  - its `revision` is the package's current revision (every write of a dataset moves it; a purge deletes the
 *    fragment with the dataset), and it was stored only if the document was, inside the storing transaction,
 *    exactly the text it was rendered from (storeFragments: so a rendering of an older document, or of a purged
 *    and re-created dataset of the same id and revision, is never stored as current);
 *  - its `context_key` is contextKey() now: a digest of the rendering code (the dcat module's own source files),
 *    the vocabularies, BASE_URL, the contributor ID, the catalog IRI, and the Kommune and group records spliced
 *    into the dataset (their full rows), so an edited Kommune, a new BASE_URL or a new release renders anew;
 *  - every auxiliary IRI it describes (`asked`) is still held by no dataset or distribution (package_uri): looked
 *    up for every use, one query per batch (context.ts takenIris), so a fragment stored when an IRI was free is
 *    never served once another dataset holds it; the dataset is then rendered anew with that IRI as a blank
 *    node (as checkedDatasetQuads does), and that rendering is not stored (it depends on other datasets).
 * Anything else is rendered anew from the stored document, exactly as without the store.
 *
 * Stored fragments are of the default export only (Turtle, DCAT-AP.de 2, no compat); other formats and profiles
 * are rendered per request.
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql, type Kysely } from 'kysely'
import type { CatalogService } from '../catalog/service.js'
import type { AppConfig } from '../config.js'
import { loadDocuments, type StoredDocument } from '../catalog/repository.js'
import { CATALOG_DIR, vocabularies } from '../catalog/vocabularies.js'
import { PUBLIC_DATASETS } from '../auth/viewer.js'
import { PACKAGE_ROOT } from '../paths.js'
import { writeTransaction } from '../db/write.js'
import { isMysql } from '../db/dialect.js'
import type { Database } from '../db/types.js'
import { takenIris } from './context.js'
import { catalogUri, type DcatProfile } from './mapping.js'
import { DatasetTextEncoder, type DatasetFragment, type DatasetTextSettings } from './serialize.js'

export interface FragmentTable {
  package_id: string
  revision: number
  context_key: string
  owner_org: string | null
  theme_ids: string
  turtle: string
  asked: string
}

type FragmentDb = Kysely<Database & { dcat_fragment: FragmentTable }>

/** The export the stored fragments are of. */
export const STORED_FORMAT = 'ttl'
export const STORED_PROFILE: DcatProfile = 'dcat_ap_de_2'

/** Whether a request's representation is the stored one. */
export function isStoredRepresentation(format: string, profile: DcatProfile, compat: boolean): boolean {
  return format === STORED_FORMAT && profile === STORED_PROFILE && !compat
}

/**
 * A digest of what renders a fragment and is not in the database: this module's folder (the mapping, the term
 * encoding, the writer; .ts when run from the sources, .js when built), the own-namespace rule, the lockfile
 * and the vocabularies in catalog/. Read once.
 */
let codeDigest: string | undefined
function renderingDigest(): string {
  if (codeDigest !== undefined) return codeDigest
  const hash = createHash('sha1')
  const dir = fileURLToPath(new URL('.', import.meta.url))
  for (const name of readdirSync(dir)
    .filter((n) => /\.(ts|js)$/.test(n))
    .sort())
    hash
      .update(name)
      .update('\0')
      .update(readFileSync(join(dir, name)))
      .update('\0')
  // Outside this folder, rendering also depends on the own-namespace rule (catalog/uris: which IRIs a dataset
  // may describe) and on the libraries that write the text (the lockfile names their versions).
  const uris = fileURLToPath(new URL(`../catalog/uris${extname(fileURLToPath(import.meta.url))}`, import.meta.url))
  for (const file of [uris, join(PACKAGE_ROOT, 'package-lock.json')])
    if (existsSync(file))
      hash.update(file.slice(PACKAGE_ROOT.length)).update('\0').update(readFileSync(file)).update('\0')
  const vocabularyDir = join(CATALOG_DIR, 'vocabularies')
  for (const name of ['kommunen.json', ...readdirSync(vocabularyDir).map((n) => `vocabularies/${n}`)].sort())
    hash
      .update(name)
      .update('\0')
      .update(readFileSync(join(CATALOG_DIR, name)))
      .update('\0')
  return (codeDigest = hash.digest('hex'))
}

/** One dataset's fragment for an export, in order; the asked IRIs are still to be checked. */
interface Candidate {
  id: string
  text: string | undefined
  asked: string[]
  doc?: StoredDocument
}

/** Fragments joined into chunks of about this many characters (one socket write each). */
const CHUNK_CHARS = 1 << 16

export class FragmentStore {
  private readonly settings: DatasetTextSettings

  constructor(
    private readonly service: CatalogService,
    private readonly config: AppConfig,
  ) {
    this.settings = {
      format: STORED_FORMAT,
      profile: STORED_PROFILE,
      compat: false,
      baseUrl: config.baseUrl,
      contributorId: config.contributorId,
      catalogUri: catalogUri(config.baseUrl),
    }
  }

  /** Only with the process-wide vocabularies (the ones renderingDigest covers). */
  get enabled(): boolean {
    return this.service.vocab === vocabularies()
  }

  private get db(): FragmentDb {
    return this.service.db.withTables<{ dcat_fragment: FragmentTable }>()
  }

  /** An encoder for the stored representation (its worker thread and a snapshot of the Kommunen); close() it. */
  encoder(): DatasetTextEncoder {
    return new DatasetTextEncoder(this.settings, this.service.vocab, this.service.reference.organizations)
  }

  /** Memoized context keys for one encoder (one export, or one write). */
  keys(encoder: DatasetTextEncoder): ContextKeys {
    return new ContextKeys(this.service, this.config, this.settings.catalogUri, encoder)
  }

  /**
   * The stored representation of these public datasets (ids in order; ones not public now are left out), joined
   * into text chunks: stored fragments where usable, the rest rendered anew (and stored for next time, `backfill`
   * collects those writes for the caller to wait on or not), the auxiliary IRIs of all checked in one lookup.
   */
  async texts(
    ids: readonly string[],
    encoder: DatasetTextEncoder,
    keys: ContextKeys,
    backfill?: (write: Promise<void>) => void,
  ): Promise<string[]> {
    if (ids.length === 0) return []
    const rows = await this.db
      .selectFrom('package as p')
      .leftJoin('dcat_fragment as f', 'f.package_id', 'p.id')
      .select([
        'p.id',
        'p.revision',
        'f.revision as f_revision',
        'f.context_key',
        'f.owner_org',
        'f.theme_ids',
        'f.turtle',
        'f.asked',
      ])
      .where('p.id', 'in', ids)
      .where(PUBLIC_DATASETS)
      .execute()
    const byId = new Map(rows.map((r) => [r.id, r]))
    const candidates: Candidate[] = []
    const stale: Candidate[] = []
    for (const id of ids) {
      const row = byId.get(id)
      if (!row) continue
      const usable =
        row.turtle !== null &&
        row.f_revision === row.revision &&
        row.theme_ids !== null &&
        row.context_key === keys.of(row.owner_org, row.theme_ids)
      const candidate: Candidate = usable
        ? { id, text: row.turtle!, asked: JSON.parse(row.asked!) as string[] }
        : { id, text: undefined, asked: [] }
      candidates.push(candidate)
      if (!usable) stale.push(candidate)
    }
    byId.clear()
    if (stale.length) {
      const docs = await loadDocuments(
        this.service.db,
        stale.map((c) => c.id),
        PUBLIC_DATASETS,
      )
      const rendered = stale.filter((c) => docs.has(c.id))
      for (const c of rendered) c.doc = docs.get(c.id)!
      // The documents as JSON and their context keys in one go (one state of the reference data for both).
      const jsons = rendered.map((c) => this.service.packageJson(c.doc!))
      const contextKeys = rendered.map((c) => keys.of(c.doc!.owner_org, JSON.stringify(c.doc!.themeIds)))
      const fragments = await encoder.encodeEach(jsons)
      rendered.forEach((c, i) => Object.assign(c, fragments[i]!))
      const write = this.store(
        rendered.map((c, i) => ({ doc: c.doc!, fragment: fragments[i]!, contextKey: contextKeys[i]! })),
      ).catch(() => undefined)
      if (backfill) backfill(write)
    }
    const present = candidates.filter((c) => c.text !== undefined)
    await this.recheck(present, encoder)
    return joinChunks(present.map((c) => c.text!))
  }

  /** The catalog-wide check of the asked IRIs: a dataset describing a taken one is rendered anew without it. */
  private async recheck(candidates: Candidate[], encoder: DatasetTextEncoder): Promise<void> {
    const asked = new Set<string>()
    for (const c of candidates) for (const iri of c.asked) asked.add(iri)
    if (asked.size === 0) return
    const taken = await takenIris(this.service, asked)
    if (taken.size === 0) return
    const affected = candidates.filter((c) => c.asked.some((iri) => taken.has(iri)))
    const missing = affected.filter((c) => !c.doc)
    if (missing.length) {
      const docs = await loadDocuments(
        this.service.db,
        missing.map((c) => c.id),
        PUBLIC_DATASETS,
      )
      for (const c of missing) c.doc = docs.get(c.id)
    }
    for (const c of affected) {
      if (!c.doc) {
        // No longer public: left out, as a rendering now would leave it out.
        c.text = undefined
        continue
      }
      const free = c.asked.filter((iri) => !taken.has(iri))
      c.text = (await encoder.encode([this.service.packageJson(c.doc)], free)).chunks.join('')
    }
    for (let i = candidates.length - 1; i >= 0; i--) if (candidates[i]!.text === undefined) candidates.splice(i, 1)
  }

  /**
   * Stores fragments rendered from these documents, each only if its document is still exactly the stored one
   * (same revision and text), read inside the writing transaction (locked on MySQL; SQLite writes one at a time).
   */
  async store(
    entries: ReadonlyArray<{ doc: StoredDocument; fragment: DatasetFragment; contextKey: string }>,
  ): Promise<void> {
    if (entries.length === 0) return
    const store = this.service.store
    await writeTransaction(store, async (trx) => {
      const db: FragmentDb = trx.withTables<{ dcat_fragment: FragmentTable }>()
      const current = await trx
        .selectFrom('package as p')
        .innerJoin('package_document as d', 'd.package_id', 'p.id')
        .select(['p.id', 'p.revision', 'd.document', 'd.theme_ids', 'p.owner_org'])
        .where(
          'p.id',
          'in',
          entries.map((e) => e.doc.id),
        )
        .$if(isMysql(trx), (q) => q.forUpdate())
        .execute()
      const byId = new Map(current.map((r) => [r.id, r]))
      const rows: FragmentTable[] = []
      for (const { doc, fragment, contextKey } of entries) {
        const now = byId.get(doc.id)
        if (
          !now ||
          now.revision !== doc.revision ||
          now.document !== doc.document ||
          now.owner_org !== doc.owner_org ||
          now.theme_ids !== JSON.stringify(doc.themeIds)
        )
          continue
        rows.push({
          package_id: doc.id,
          revision: doc.revision,
          context_key: contextKey,
          owner_org: doc.owner_org,
          theme_ids: now.theme_ids,
          turtle: fragment.text,
          asked: JSON.stringify(fragment.asked),
        })
      }
      if (rows.length === 0) return
      const insert = db.insertInto('dcat_fragment').values(rows)
      const set = {
        revision: sql<number>`excluded.revision`,
        context_key: sql<string>`excluded.context_key`,
        owner_org: sql<string | null>`excluded.owner_org`,
        theme_ids: sql<string>`excluded.theme_ids`,
        turtle: sql<string>`excluded.turtle`,
        asked: sql<string>`excluded.asked`,
      }
      if (isMysql(trx)) {
        await insert
          .onDuplicateKeyUpdate({
            revision: sql<number>`values(revision)`,
            context_key: sql<string>`values(context_key)`,
            owner_org: sql<string | null>`values(owner_org)`,
            theme_ids: sql<string>`values(theme_ids)`,
            turtle: sql<string>`values(turtle)`,
            asked: sql<string>`values(asked)`,
          })
          .execute()
      } else {
        await insert.onConflict((oc) => oc.column('package_id').doUpdateSet(set)).execute()
      }
    })
  }

  /** Renders and stores the fragments of these datasets (ids or names) as they are now, if public. */
  async refresh(keys: readonly string[]): Promise<void> {
    if (!this.enabled || keys.length === 0) return
    const rows = await this.service.db
      .selectFrom('package as p')
      .select('p.id')
      .where((eb) => eb.or([eb('p.id', 'in', keys), eb('p.name', 'in', keys)]))
      .where(PUBLIC_DATASETS)
      .execute()
    if (rows.length === 0) return
    const docs = await loadDocuments(
      this.service.db,
      rows.map((r) => r.id),
      PUBLIC_DATASETS,
    )
    const list = [...docs.values()]
    if (list.length === 0) return
    const encoder = this.encoder()
    try {
      const keys = this.keys(encoder)
      const jsons = list.map((doc) => this.service.packageJson(doc))
      const contextKeys = list.map((doc) => keys.of(doc.owner_org, JSON.stringify(doc.themeIds)))
      const fragments = await encoder.encodeEach(jsons)
      await this.store(list.map((doc, i) => ({ doc, fragment: fragments[i]!, contextKey: contextKeys[i]! })))
    } finally {
      encoder.close()
    }
  }
}

/**
 * The context keys (see the coherence rule above) of datasets mapped by one encoder: the Kommune's row as the
 * encoder holds it, the organization and group parts spliced into the package dict as the reference data holds them
 * now. Memoized per Kommune and groups while the reference data is the same (a reload replaces its maps).
 */
export class ContextKeys {
  private readonly memo = new Map<string, string>()
  private seen: readonly unknown[] = []

  constructor(
    private readonly service: CatalogService,
    private readonly config: AppConfig,
    private readonly catalogIri: string,
    private readonly encoder: DatasetTextEncoder,
  ) {}

  /** The key of a dataset of this Kommune and these groups (theme_ids as stored: a JSON array). */
  of(ownerOrg: string | null, themeIds: string): string {
    const reference = this.service.reference
    const state = [reference.organizationJson, reference.groupJson, reference.themes]
    if (state.some((map, i) => map !== this.seen[i])) {
      this.memo.clear()
      this.seen = state
    }
    const memoKey = `${ownerOrg ?? ''}\u0001${themeIds}`
    const known = this.memo.get(memoKey)
    if (known !== undefined) return known
    const themes = JSON.parse(themeIds) as string[]
    const splice = this.service.packageJson({
      id: '',
      name: '',
      owner_org: ownerOrg,
      private: 0,
      state: 'active',
      revision: 0,
      document: '{}',
      themeIds: themes,
    })
    const key = createHash('sha1')
      .update(
        JSON.stringify([
          renderingDigest(),
          this.config.baseUrl,
          this.config.contributorId,
          this.catalogIri,
          STORED_FORMAT,
          STORED_PROFILE,
          splice,
          ownerOrg ? (this.encoder.organization(ownerOrg) ?? null) : null,
          themes.map((id) => reference.themes.get(id) ?? null),
        ]),
      )
      .digest('hex')
    this.memo.set(memoKey, key)
    return key
  }
}

function joinChunks(texts: readonly string[]): string[] {
  const chunks: string[] = []
  let chunk = ''
  for (const text of texts) {
    chunk += text
    if (chunk.length >= CHUNK_CHARS) {
      chunks.push(chunk)
      chunk = ''
    }
  }
  if (chunk) chunks.push(chunk)
  return chunks
}
