import { parseArgs } from 'node:util'
import type { AppConfig } from '../config.js'
import { openStore } from '../db/connect.js'
import { migrateToLatest } from '../db/migrate.js'
import { CatalogService } from '../catalog/service.js'
import { vocabularies } from '../catalog/vocabularies.js'
import { LinkChecker, type CheckedLink } from '../links/checker.js'
import { makeDue, syncJobs } from '../links/jobs.js'
import { rescorePending } from '../quality/backfill.js'

export const LINKS_USAGE = 'usage: godonu links check [--org NAME]'

/** What the command writes: lines to stdout, and whether that is a terminal (then a progress bar). */
export interface LinksOutput {
  write: (text: string) => void
  isTTY: boolean
  columns?: number
}

/**
 * `godonu links check [--org NAME]`: checks now every link of the datasets (or of one Kommune's), whatever
 * their schedule, through the same leased jobs as the background checker (a running scheduler and this
 * command share the work). On a terminal a progress bar; otherwise one line per link:
 * `reachable 200 URL` or `unreachable timeout URL`. Returns the exit code: 0, or 2 when links are unreachable.
 */
export async function linksCommand(config: AppConfig, args: string[], output: LinksOutput): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { org: { type: 'string' } } })
  if (positionals[0] !== 'check' || positionals.length > 1) throw new LinksUsageError(LINKS_USAGE)
  const store = await openStore(config.database)
  try {
    await migrateToLatest(store.db)
    const service = new CatalogService(store, vocabularies(), config)
    await service.init()
    let orgId: string | undefined
    if (values.org !== undefined) {
      const org = service.reference.organization(values.org)
      if (!org) throw new LinksUsageError(`unknown organization "${values.org}" (see organization_list)`)
      orgId = org.id
    }
    const hashes = await syncJobs(store, { ...(orgId ? { orgId } : { prune: true }) })
    await makeDue(store, hashes)
    const total = hashes.length
    const progress = output.isTTY ? progressBar(output, total) : undefined
    const onChecked = (link: CheckedLink) => {
      if (progress) progress.tick(link)
      else {
        const r = link.result
        output.write(
          `${r.status} ${r.errorCode ?? r.httpStatus ?? ''}${r.mediaTypeMismatch ? ' media-type-mismatch' : ''} ${printable(link.url)}\n`,
        )
      }
    }
    const summary = await new LinkChecker(store, config.linkCheck).runDue({ among: hashes, onChecked })
    progress?.done()
    // The datasets whose links changed health get their accessibility indicators rescored now.
    const rescored = await rescorePending(service)
    output.write(
      `checked ${summary.checked} of ${total} links: ${summary.reachable} reachable, ${summary.unreachable} unreachable; datasets rescored: ${rescored}\n`,
    )
    return summary.unreachable > 0 ? 2 : 0
  } finally {
    await store.close()
  }
}

export class LinksUsageError extends Error {}

/** A URL as one line of plain text (control characters shown escaped, length bounded). */
function printable(url: string): string {
  const line = url.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  )
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}

function progressBar(output: LinksOutput, total: number) {
  let done = 0
  let unreachable = 0
  const width = Math.max(10, Math.min(40, (output.columns ?? 80) - 40))
  const draw = () => {
    const filled = total === 0 ? width : Math.round((done / total) * width)
    output.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} checked, ${unreachable} unreachable`,
    )
  }
  draw()
  return {
    tick(link: CheckedLink) {
      done++
      if (link.result.status === 'unreachable') unreachable++
      draw()
    },
    done() {
      output.write('\n')
    },
  }
}
