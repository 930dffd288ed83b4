/**
 * `godonu harvest add|list|run|status|abort`: harvest sources and jobs from the command line. `run` runs a job
 * in the foreground (a progress bar on a terminal, plain lines otherwise), prints a one-line summary of the
 * counts last and exits 0 only when the job finished.
 */
import { parseArgs } from 'node:util'
import type { AppConfig } from '../config.js'
import { openStore } from '../db/connect.js'
import { migrateToLatest } from '../db/migrate.js'
import { CatalogService } from '../catalog/service.js'
import { vocabularies } from '../catalog/vocabularies.js'
import { DatasetValidation } from '../validation/dataset-validation.js'
import { datasetRules } from '../catalog/dataset-rules.js'
import { CatalogError } from '../errors.js'
import { Harvester, type Progress } from '../harvest/harvester.js'
import type { HarvestJobTable, JobCounts } from '../harvest/tables.js'

export const HARVEST_USAGE = `usage:
  godonu harvest add NAME --org ORG --type ckan|dcat --url URL [--interval HOURS] [--title TITLE]
                     [--organizations A,B] [--format ttl|rdf|jsonld|nt]
  godonu harvest list
  godonu harvest run NAME [--full] [--confirm-withdrawals] [--no-validate]
  godonu harvest status [NAME]
  godonu harvest abort NAME`

export class UsageError extends Error {}

type Write = (line: string) => void

export function summaryLine(status: string, counts: JobCounts, seconds?: number): string {
  const c = counts
  return `${status}: added ${c.added}, updated ${c.updated}, unchanged ${c.unchanged}, withdrawn ${c.withdrawn}, skipped ${c.skipped}, failed ${c.failed} (${c.pages} pages${seconds === undefined ? '' : `, ${seconds.toFixed(1)} s`})`
}

function jobLine(job: HarvestJobTable): string {
  const counts = JSON.parse(job.counts) as JobCounts
  return `  ${job.created.slice(0, 19)}  ${job.status.padEnd(18)} ${summaryLine(job.full_run ? 'full' : 'incremental', counts)}${job.error ? `\n      ${job.error.slice(0, 300)}` : ''}`
}

/** Runs one harvest subcommand; returns the exit code. */
export async function harvestCommand(
  args: string[],
  config: AppConfig,
  out: Write,
  err: Write,
  tty: boolean,
): Promise<number> {
  const [verb, ...rest] = args
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      org: { type: 'string' },
      type: { type: 'string' },
      url: { type: 'string' },
      interval: { type: 'string' },
      title: { type: 'string' },
      organizations: { type: 'string' },
      format: { type: 'string' },
      full: { type: 'boolean', default: false },
      'confirm-withdrawals': { type: 'boolean', default: false },
      'no-validate': { type: 'boolean', default: false },
    },
  })
  const name = positionals[0]
  const store = await openStore(config.database)
  try {
    await migrateToLatest(store.db)
    const service = new CatalogService(store, vocabularies(), config)
    await service.init()
    const validation = new DatasetValidation(service, config)
    const harvester = new Harvester(
      service,
      config,
      values['no-validate'] ? {} : { datasetRules: datasetRules(validation) },
    )
    const jobs = harvester.jobs
    const source = async () => {
      if (!name) throw new UsageError(`harvest ${verb} needs the NAME of a source`)
      const row = await jobs.source(name)
      if (!row) throw new UsageError(`no harvest source "${name}" (see: godonu harvest list)`)
      return row
    }
    switch (verb) {
      case 'add': {
        if (!name || !values.org || !values.type || !values.url)
          throw new UsageError('harvest add needs NAME, --org, --type and --url')
        const org = service.reference.organization(values.org)
        if (!org) throw new UsageError(`unknown organization "${values.org}" (see organization_list)`)
        const interval = values.interval === undefined ? undefined : Number(values.interval)
        if (interval !== undefined && !Number.isInteger(interval))
          throw new UsageError('--interval must be a whole number of hours')
        const row = await jobs.createSource({
          name,
          title: values.title,
          type: values.type as 'ckan' | 'dcat',
          url: values.url,
          owner_org: org.id,
          interval_hours: interval,
          config: {
            ...(values.organizations
              ? {
                  organizations: values.organizations
                    .split(',')
                    .map((o) => o.trim())
                    .filter(Boolean),
                }
              : {}),
            ...(values.format ? { format: values.format } : {}),
          },
        })
        out(
          `added harvest source ${row.name} (${row.id}): ${row.type} ${row.url} for ${org.name}, every ${row.interval_hours} h`,
        )
        return 0
      }
      case 'list': {
        const sources = await jobs.listSources()
        if (sources.length === 0) out('no harvest sources')
        for (const s of sources) {
          const org = service.reference.organizations.get(s.owner_org)
          const [last] = await jobs.listJobs(s.id, 1)
          out(
            `${s.name}\t${s.type}\t${org?.name ?? s.owner_org}\tevery ${s.interval_hours} h\t${s.url}\t${last ? `${last.status} ${last.created.slice(0, 19)}` : 'never run'}`,
          )
        }
        return 0
      }
      case 'status': {
        const sources = name ? [await source()] : await jobs.listSources()
        for (const s of sources) {
          out(`${s.name} (${s.type}, ${s.url})`)
          const recent = await jobs.listJobs(s.id, 5)
          if (recent.length === 0) out('  never run')
          for (const job of recent) out(jobLine(job))
        }
        return 0
      }
      case 'abort': {
        const s = await source()
        const current = (await jobs.listJobs(s.id, 5)).find((j) => j.status === 'new' || j.status === 'running')
        if (!current) {
          out(`${s.name} has no waiting or running job`)
          return 1
        }
        const job = await jobs.abort(current.id)
        out(
          job.status === 'aborted'
            ? `aborted job ${job.id}`
            : `job ${job.id} is asked to stop (it is running elsewhere)`,
        )
        return 0
      }
      case 'run': {
        const s = await source()
        const job = await jobs.createJob(s.id, { full: values.full, confirmWithdrawals: values['confirm-withdrawals'] })
        const started = performance.now()
        out(`harvesting ${s.name} (${s.type} ${s.url}), job ${job.id}${values.full ? ', complete run' : ''}`)
        const progress = tty ? barProgress(err) : lineProgress(out)
        const onInterrupt = () => harvester.abortAll('interrupted (SIGINT/SIGTERM)')
        process.once('SIGINT', onInterrupt)
        process.once('SIGTERM', onInterrupt)
        let result
        try {
          result = await harvester.claimAndRun(job.id, progress)
        } finally {
          process.removeListener('SIGINT', onInterrupt)
          process.removeListener('SIGTERM', onInterrupt)
          if (tty) err('\n')
        }
        if (!result) {
          out(`job ${job.id} was claimed by another process`)
          return 1
        }
        if (result.error) out(`${result.status}: ${result.error}`)
        out(summaryLine(result.status, result.counts, (performance.now() - started) / 1000))
        return result.status === 'finished' ? 0 : 1
      }
      default:
        throw new UsageError(`unknown harvest command "${verb ?? ''}"`)
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`godonu: ${e.message}\n${HARVEST_USAGE}\n`)
      return 2
    }
    if (e instanceof CatalogError) {
      err(`godonu: ${e.message}${Object.keys(e.fields).length ? ` ${JSON.stringify(e.fields)}` : ''}\n`)
      return 1
    }
    throw e
  } finally {
    await store.close()
  }
}

/** A progress bar on stderr of a terminal: pages and datasets so far, redrawn in place. */
function barProgress(write: Write): (p: Progress) => void {
  const spin = ['|', '/', '-', '\\']
  let frame = 0
  return (p) => {
    const c = p.counts
    const width = 20
    const filled = frame % (width + 1)
    const bar = `${'='.repeat(filled)}>${' '.repeat(width - filled)}`
    frame++
    write(
      `\r${spin[frame % 4]} [${bar}] pages ${p.pages}  datasets ${p.datasets}  +${c.added} ~${c.updated} =${c.unchanged} !${c.skipped + c.failed}\x1b[K`,
    )
  }
}

/** Plain lines (not a terminal): one per page. */
function lineProgress(out: Write): (p: Progress) => void {
  return (p) =>
    out(
      `page ${p.pages}: ${p.datasets} datasets (added ${p.counts.added}, updated ${p.counts.updated}, unchanged ${p.counts.unchanged}, skipped ${p.counts.skipped}, failed ${p.counts.failed})`,
    )
}
