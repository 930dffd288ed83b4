import type { Kysely } from 'kysely'
import type { Database, LicenseTable, OrganizationTable, ThemeTable } from '../db/types.js'
import { ckanNow } from './time.js'
import { appendChange } from './change-feed.js'
import { packageGroup, packageOrganization } from './dictize.js'
import type { Vocabularies } from './vocabularies.js'

/**
 * Writes the reference data of catalog/ into the store. Kommunen are added when missing (their later edits
 * through the API are kept); themes and licences are vocabulary and follow the files.
 */
export async function syncReferenceData(db: Kysely<Database>, vocab: Vocabularies): Promise<void> {
  const now = ckanNow()
  await db.transaction().execute(async (trx) => {
    const existingOrgs = new Set((await trx.selectFrom('organization').select('id').execute()).map((r) => r.id))
    const newOrgs: OrganizationTable[] = vocab.kommunen
      .filter((k) => !existingOrgs.has(k.id))
      .map((k) => ({
        id: k.id,
        name: k.name,
        title: k.title,
        description: k.description,
        image_url: k.image_url,
        state: 'active',
        approval_status: 'approved',
        created: now,
        homepage: k.homepage,
        email: k.email,
        regional_key: k.regional_key,
        political_geocoding_uri: k.political_geocoding_uri,
        political_geocoding_level_uri: k.political_geocoding_level_uri,
        contributor_id: k.contributor_id,
        extras: '{}',
      }))
    if (newOrgs.length) await trx.insertInto('organization').values(newOrgs).execute()

    const existingThemes = new Set((await trx.selectFrom('theme').select('id').execute()).map((r) => r.id))
    for (const t of vocab.themes.all) {
      const values: Omit<ThemeTable, 'created' | 'state' | 'image_url'> = {
        id: t.id,
        name: t.name,
        code: t.code,
        uri: t.uri,
        title: t.title_de,
        title_en: t.title_en,
        description: t.description_de,
      }
      if (existingThemes.has(t.id)) await trx.updateTable('theme').set(values).where('id', '=', t.id).execute()
      else await trx.insertInto('theme').values({ ...values, image_url: '', state: 'active', created: now }).execute()
    }

    const existingLicenses = new Set((await trx.selectFrom('license').select('id').execute()).map((r) => r.id))
    for (const l of vocab.licenses.all) {
      const values: LicenseTable = {
        id: l.id,
        title: l.title,
        url: l.url,
        status: l.status,
        od_conformance: l.od_conformance,
        osd_conformance: l.osd_conformance,
        family: l.family,
        maintainer: l.maintainer,
        is_open: l.is_open ? 1 : 0,
        domain_content: l.domain_content ? 1 : 0,
        domain_data: l.domain_data ? 1 : 0,
        domain_software: l.domain_software ? 1 : 0,
        is_generic: l.is_generic ? 1 : 0,
      }
      if (existingLicenses.has(l.id)) await trx.updateTable('license').set(values).where('id', '=', l.id).execute()
      else await trx.insertInto('license').values(values).execute()
    }
    // Servers already running (another server being started beside them) reload what this may have changed.
    await appendChange(trx, { kind: 'reference' }).execute()
  })
}

/** Organizations, themes and licences are few and read on every request: kept in memory, reloaded on change. */
export class ReferenceCache {
  organizations = new Map<string, OrganizationTable>()
  organizationsByName = new Map<string, OrganizationTable>()
  themes = new Map<string, ThemeTable>()
  themesByName = new Map<string, ThemeTable>()
  licenses: LicenseTable[] = []
  /** The organization and group parts of package dicts, serialized once per reload. */
  organizationJson = new Map<string, string>()
  groupJson = new Map<string, string>()

  constructor(private readonly db: Kysely<Database>) {}

  /** Reloads started so far, and the number of the one whose rows are held (see reload). */
  private reloadsStarted = 0
  private reloadHeld = 0

  /**
   * Reads the reference rows anew. Reloads may overlap (a local write's and the change feed's): one started
   * later reads rows at least as new, so rows are kept only when no later-started reload has kept its own
   * already; an earlier one finishing last would otherwise put back rows from before a commit.
   */
  async reload(): Promise<void> {
    const number = ++this.reloadsStarted
    const [orgs, themes, licenses] = await Promise.all([
      this.db.selectFrom('organization').selectAll().execute(),
      this.db.selectFrom('theme').selectAll().execute(),
      this.db.selectFrom('license').selectAll().execute(),
    ])
    if (number < this.reloadHeld) return
    this.reloadHeld = number
    this.organizations = new Map(orgs.map((o) => [o.id, o]))
    this.organizationsByName = new Map(orgs.map((o) => [o.name, o]))
    this.themes = new Map(themes.map((t) => [t.id, t]))
    this.themesByName = new Map(themes.map((t) => [t.name, t]))
    this.licenses = licenses
    this.organizationJson = new Map(orgs.map((o) => [o.id, JSON.stringify(packageOrganization(o))]))
    this.groupJson = new Map(themes.map((t) => [t.id, JSON.stringify(packageGroup(t))]))
  }

  organization(idOrName: string): OrganizationTable | undefined {
    return this.organizations.get(idOrName) ?? this.organizationsByName.get(idOrName)
  }

  theme(idOrName: string): ThemeTable | undefined {
    return this.themes.get(idOrName) ?? this.themesByName.get(idOrName) ?? this.themesByName.get(idOrName.toLowerCase())
  }
}
