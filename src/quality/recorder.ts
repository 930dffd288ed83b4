import { sql, type Kysely } from 'kysely'
import type { AppConfig } from '../config.js'
import type { Vocabularies } from '../catalog/vocabularies.js'
import type { Database } from '../db/types.js'
import type { DialectName } from '../db/connect.js'
import { datasetToQuads, type OrganizationLike, type PackageDict } from '../dcat/mapping.js'
import { BANDS, type Band } from './indicators.js'
import type { Compliance } from './compliance.js'
import { factsFromDict, organizationScoreKey } from './facts.js'
import { unknownLinkHealth, type LinkHealth, type LinkHealthSource } from './link-health.js'
import type { StatementBatch } from '../catalog/repository.js'
import {
  factsFromQuads,
  linkUrls,
  scoreFacts,
  type DatasetFacts,
  type ModeResult,
  type QualityResult,
} from './score.js'

/** Table types of migrations/0010_quality.ts (added to the catalog's with Kysely's withTables). */
export interface PackageQualityTable {
  package_id: string
  owner_org: string | null
  visible: number
  score_portal: number
  band_portal: string
  score_proportional: number
  band_proportional: string
  /** JSON text: StoredExplanation. */
  explanation: string
  computed_at: string
}

export interface QualityHistoryTable {
  day: string
  package_id: string
  owner_org: string | null
  visible: number
  score_portal: number
  band_portal: string
  score_proportional: number
  band_proportional: string
}

export interface QualityHistoryOrgTable {
  day: string
  owner_org: string
  dataset_count: number
  score_portal_sum: number
  score_proportional_sum_centi: number
  mean_portal: number
  mean_proportional: number
  portal_excellent: number
  portal_good: number
  portal_sufficient: number
  portal_bad: number
  proportional_excellent: number
  proportional_good: number
  proportional_sufficient: number
  proportional_bad: number
}

/** migrations/0017: Kommunen whose change alters their datasets' scores, the datasets not rescored yet. */
export interface OrgRescorePendingTable {
  id: number | undefined
  owner_org: string
}

export interface QualityTables {
  package_quality: PackageQualityTable
  quality_history: QualityHistoryTable
  quality_history_org: QualityHistoryOrgTable
  org_rescore_pending: OrgRescorePendingTable
}

export type QualityDatabase = Database & QualityTables

export function qualityDb(db: Kysely<any>): Kysely<QualityDatabase> {
  return db as Kysely<QualityDatabase>
}

/** What is stored of a score: the results of both modes (texts are rendered from indicators.ts when read). */
export interface StoredExplanation {
  version: 1
  compliance: Compliance
  portal: ModeResult
  proportional: ModeResult
}

/** What a dataset write tells the recorder. */
export interface QualityWrite {
  id: string
  owner_org: string | null
  /** package.visible after the write (1: anonymous callers see it). */
  visible: number
  /** The write's catalog time (CKAN form); its first ten characters are the history day. */
  now: string
  compliance: Compliance
  /**
   * The Kommunen as this write's transaction read them (organizationsWithin), when the caller read them for many
   * datasets at once; otherwise recordWrite reads the dataset's.
   */
  organizations?: ReadonlyMap<string, OrganizationLike>
}

/** What package_create/package_update answers carry. */
export interface QualitySummary {
  score: number
  band: Band
  mode: 'portal'
}

interface Contribution {
  org: string | null
  visible: number
  portal: number
  portalBand: string
  proportional: number
  proportionalBand: string
}

type OrgCounter = Exclude<keyof QualityHistoryOrgTable, 'day' | 'owner_org' | 'mean_portal' | 'mean_proportional'>
const ORG_COUNTERS: readonly OrgCounter[] = [
  'dataset_count',
  'score_portal_sum',
  'score_proportional_sum_centi',
  ...(['portal', 'proportional'] as const).flatMap((m) => BANDS.map((b) => `${m}_${b}` as const)),
]

/**
 * Scores datasets and stores the scores, inside the dataset's own write transaction: the current score
 * (package_quality), the dataset's row of the day (quality_history) and its Kommune's row of the day
 * (quality_history_org), the latter changed by the difference the write makes (never by a scan of the Kommune).
 * Reads never score: they read what the last write stored.
 */
export class QualityRecorder {
  /** Link health (the link checker replaces the default, which knows no URL). */
  links: LinkHealthSource = unknownLinkHealth

  constructor(
    private readonly deps: {
      vocab: Vocabularies
      config: Pick<AppConfig, 'baseUrl' | 'contributorId'>
      dialect: DialectName
      organization: (id: string) => OrganizationLike | null | undefined
    },
  ) {}

  private organizationOf(dict: PackageDict): OrganizationLike | null {
    // As the export (DatasetExport): the Kommune from the reference data, else the organization embedded in the dict.
    const known = dict.organization?.id ? this.deps.organization(dict.organization.id) : undefined
    return known ?? dict.organization ?? null
  }

  /**
   * What datasets' scores take of their Kommunen (facts.ts organizationScoreKey: e-mail, title, homepage,
   * geocoding), as the database holds them inside a write's transaction, by id. The reference copy in memory may be
   * a change-feed poll behind an organization write another process committed, whose queued rescore
   * (org_rescore_pending) may have run before this write commits: a score made from the old copy would then stay
   * for good. Share-locked on MySQL: read as committed whatever the transaction's snapshot, and an organization
   * write in flight commits first (then its rescore comes after this write) or waits for this one.
   */
  async organizationsWithin(trx: Kysely<any>, ids: readonly string[]): Promise<Map<string, OrganizationLike>> {
    if (ids.length === 0) return new Map()
    const rows = await qualityDb(trx)
      .selectFrom('organization')
      .select([
        'id',
        'name',
        'title',
        'homepage',
        'email',
        'political_geocoding_uri',
        'political_geocoding_level_uri',
        'contributor_id',
        'extras',
      ])
      .where('id', 'in', [...new Set(ids)])
      .$if(this.deps.dialect === 'mysql', (q) => q.modifyEnd(sql` lock in share mode`))
      .execute()
    return new Map(rows.map((r) => [r.id, r]))
  }

  /** The facts of a package dict, as the DCAT export would write them (facts.ts), with the reference Kommune. */
  facts(dict: PackageDict): DatasetFacts {
    return factsFromDict(dict, this.organizationOf(dict), this.deps.vocab, this.deps.config.baseUrl)
  }

  /**
   * Whether a Kommune's datasets may score differently after a change of the Kommune (facts.ts
   * organizationScoreKey): then its datasets must be rescored.
   */
  organizationChangeScores(before: OrganizationLike | null, after: OrganizationLike | null): boolean {
    const key = (org: OrganizationLike | null) => organizationScoreKey(org, this.deps.vocab, this.deps.config.baseUrl)
    return key(before) !== key(after)
  }

  /** The same facts read from the RDF the export makes (the reference facts.ts is tested against). */
  factsViaRdf(dict: PackageDict): DatasetFacts {
    const quads = datasetToQuads(dict, {
      baseUrl: this.deps.config.baseUrl,
      contributorId: this.deps.config.contributorId,
      vocab: this.deps.vocab,
      profile: 'dcat_ap_de_2',
      organization: this.organizationOf(dict),
    })
    return factsFromQuads(quads)
  }

  /** Scores a package dict with the given link health (no database: the bench and tests). */
  score(dict: PackageDict, compliance: Compliance, health: ReadonlyMap<string, LinkHealth> = new Map()): QualityResult {
    return scoreFacts(this.facts(dict), this.deps.vocab, compliance, health)
  }

  private async health(trx: Kysely<any>, facts: DatasetFacts): Promise<Map<string, LinkHealth>> {
    const urls = linkUrls(facts)
    if (urls.length === 0) return new Map()
    return this.links.lookupWithin ? this.links.lookupWithin(trx, urls) : this.links.lookup(urls)
  }

  /**
   * Scores the dataset a write stores and records the score; returns the portal summary. The Kommune is the one the
   * write's transaction reads (organizationsWithin), not this process's reference copy.
   */
  async recordWrite(
    trx: Kysely<any>,
    dict: PackageDict,
    write: QualityWrite,
    batch?: StatementBatch,
  ): Promise<QualitySummary> {
    const within = write.owner_org
      ? (write.organizations ?? (await this.organizationsWithin(trx, [write.owner_org]))).get(write.owner_org)
      : undefined
    const org = within ?? this.organizationOf(dict)
    const facts = factsFromDict(dict, org, this.deps.vocab, this.deps.config.baseUrl)
    const result = scoreFacts(facts, this.deps.vocab, write.compliance, await this.health(trx, facts))
    await this.store(trx, write, result, batch)
    return { score: result.portal.score, band: result.portal.band, mode: 'portal' }
  }

  /**
   * A change of state alone (package_delete): the content and so the score stay, only whether the dataset counts
   * for its Kommune changes. Nothing happens for a dataset never scored.
   */
  async recordVisibility(
    trx: Kysely<any>,
    id: string,
    visible: number,
    now: string,
    batch?: StatementBatch,
  ): Promise<void> {
    const row = await qualityDb(trx)
      .selectFrom('package_quality')
      .select(['owner_org', 'explanation'])
      .where('package_id', '=', id)
      .executeTakeFirst()
    if (!row) return
    const stored = JSON.parse(row.explanation) as StoredExplanation
    await this.store(trx, { id, owner_org: row.owner_org, visible, now, compliance: stored.compliance }, stored, batch)
  }

  /**
   * Stores a result. Reads happen at once; the writes go into the write's statement batch when one is given (sent
   * after the dataset's own rows, which they reference), else at once.
   */
  private async store(
    trx: Kysely<any>,
    write: QualityWrite,
    result: QualityResult,
    batch?: StatementBatch,
  ): Promise<void> {
    const db = qualityDb(trx)
    const run = async (q: { execute(): Promise<unknown>; compile(): unknown }) => {
      if (batch) batch.add(q as never)
      else await q.execute()
    }
    const mysql = this.deps.dialect === 'mysql'
    const previous = await db
      .selectFrom('package_quality')
      .select(['owner_org', 'visible', 'score_portal', 'band_portal', 'score_proportional', 'band_proportional'])
      .where('package_id', '=', write.id)
      .$if(mysql, (q) => q.forUpdate())
      .executeTakeFirst()
    const explanation: StoredExplanation = {
      version: 1,
      compliance: result.compliance,
      portal: result.portal,
      proportional: result.proportional,
    }
    const scores = {
      owner_org: write.owner_org,
      visible: write.visible,
      score_portal: Math.round(result.portal.score),
      band_portal: result.portal.band,
      score_proportional: result.proportional.score,
      band_proportional: result.proportional.band,
    }
    const row = { package_id: write.id, ...scores, explanation: JSON.stringify(explanation), computed_at: write.now }
    const { package_id: _id, ...updates } = row
    const upsertQuality = db.insertInto('package_quality').values(row)
    await run(
      mysql
        ? upsertQuality.onDuplicateKeyUpdate(updates)
        : upsertQuality.onConflict((oc) => oc.column('package_id').doUpdateSet(updates)),
    )

    const day = write.now.slice(0, 10)
    const history = db.insertInto('quality_history').values({ day, package_id: write.id, ...scores })
    await run(
      mysql
        ? history.onDuplicateKeyUpdate(scores)
        : history.onConflict((oc) => oc.columns(['day', 'package_id']).doUpdateSet(scores)),
    )

    const before: Contribution | undefined = previous
      ? {
          org: previous.owner_org,
          visible: previous.visible,
          portal: previous.score_portal,
          portalBand: previous.band_portal,
          proportional: previous.score_proportional,
          proportionalBand: previous.band_proportional,
        }
      : undefined
    const after: Contribution = {
      org: write.owner_org,
      visible: write.visible,
      portal: scores.score_portal,
      portalBand: scores.band_portal,
      proportional: scores.score_proportional,
      proportionalBand: scores.band_proportional,
    }
    const orgs = new Set([before?.org, after.org].filter((o): o is string => !!o))
    for (const org of orgs) {
      const delta = new Map<OrgCounter, number>(ORG_COUNTERS.map((c) => [c, 0]))
      const apply = (c: Contribution | undefined, sign: 1 | -1) => {
        if (!c || c.org !== org || c.visible !== 1) return
        delta.set('dataset_count', delta.get('dataset_count')! + sign)
        delta.set('score_portal_sum', delta.get('score_portal_sum')! + sign * c.portal)
        delta.set(
          'score_proportional_sum_centi',
          delta.get('score_proportional_sum_centi')! + sign * Math.round(c.proportional * 100),
        )
        const pb = `portal_${c.portalBand}` as OrgCounter
        const qb = `proportional_${c.proportionalBand}` as OrgCounter
        if (delta.has(pb)) delta.set(pb, delta.get(pb)! + sign)
        if (delta.has(qb)) delta.set(qb, delta.get(qb)! + sign)
      }
      apply(before, -1)
      apply(after, 1)
      if ([...delta.values()].every((v) => v === 0)) continue
      await this.applyOrgDelta(db, org, day, delta, run)
    }
  }

  /**
   * Adds a write's difference to the Kommune's row of the day. The first write of a day starts the row from the
   * Kommune's newest earlier row; a concurrent first write that inserted it meanwhile turns the insert into an
   * addition (upsert), so both differences count.
   */
  private async applyOrgDelta(
    db: Kysely<QualityDatabase>,
    org: string,
    day: string,
    delta: Map<OrgCounter, number>,
    run: (q: { execute(): Promise<unknown>; compile(): unknown }) => Promise<void>,
  ): Promise<void> {
    const mysql = this.deps.dialect === 'mysql'
    // A locking read on MySQL: a concurrent write of an earlier day that has changed that day's row but not yet
    // committed would otherwise be missing from the base a write of a later day starts its row from (a plain
    // read sees the last committed version). SQLite has one writer at a time.
    const base = await db
      .selectFrom('quality_history_org')
      .selectAll()
      .where('owner_org', '=', org)
      .where('day', '<=', day)
      .orderBy('day', 'desc')
      .limit(1)
      .$if(mysql, (q) => q.forUpdate())
      .executeTakeFirst()
    if (base?.day === day) {
      await run(
        db
          .updateTable('quality_history_org')
          .set(Object.fromEntries(ORG_COUNTERS.map((c) => [c, sql`${sql.ref(c)} + ${delta.get(c)!}`])) as never)
          .where('owner_org', '=', org)
          .where('day', '=', day),
      )
    } else {
      const values = Object.fromEntries(ORG_COUNTERS.map((c) => [c, Number(base?.[c] ?? 0) + delta.get(c)!])) as Record<
        OrgCounter,
        number
      >
      const additions = Object.fromEntries(
        ORG_COUNTERS.map((c) => [c, sql`${sql.ref(`quality_history_org.${c}`)} + ${delta.get(c)!}`]),
      ) as never
      const insert = db
        .insertInto('quality_history_org')
        .values({ day, owner_org: org, ...values, mean_portal: 0, mean_proportional: 0 })
      await run(
        mysql
          ? insert.onDuplicateKeyUpdate(additions)
          : insert.onConflict((oc) => oc.columns(['day', 'owner_org']).doUpdateSet(additions)),
      )
    }
    await run(
      db
        .updateTable('quality_history_org')
        .set({
          mean_portal: sql`case when dataset_count > 0 then round(score_portal_sum * 1.0 / dataset_count, 2) else 0 end`,
          mean_proportional: sql`case when dataset_count > 0 then round(score_proportional_sum_centi / 100.0 / dataset_count, 2) else 0 end`,
        } as never)
        .where('owner_org', '=', org)
        .where('day', '=', day),
    )
  }

  /** The portal summary of a dataset's stored score (package_create/package_update answers). */
  async summary(db: Kysely<any>, id: string): Promise<QualitySummary | undefined> {
    const row = await qualityDb(db)
      .selectFrom('package_quality')
      .select(['score_portal', 'band_portal'])
      .where('package_id', '=', id)
      .executeTakeFirst()
    return row ? { score: Number(row.score_portal), band: row.band_portal as Band, mode: 'portal' } : undefined
  }

  /** The stored score of a dataset (no visibility check: callers check the dataset first). */
  async stored(
    db: Kysely<any>,
    id: string,
  ): Promise<{ explanation: StoredExplanation; computed_at: string } | undefined> {
    const row = await qualityDb(db)
      .selectFrom('package_quality')
      .select(['explanation', 'computed_at'])
      .where('package_id', '=', id)
      .executeTakeFirst()
    return row
      ? { explanation: JSON.parse(row.explanation) as StoredExplanation, computed_at: row.computed_at }
      : undefined
  }
}
