/**
 * A full harvest as ckanext-harvest's CKAN harvester does it: one client paging through
 * package_search?rows=1000&start=N&sort=id asc until it has every public dataset, one page after
 * the other. Reports the total time, datasets/s, and how much slower the last page is than the
 * first (offset paging: the database skips N rows for page N/1000).
 *
 * Bounded: a harvest still running after HARVEST_MAX_SECONDS stops; the total is then extrapolated
 * from the pages fetched and labelled as such. The first/last page latencies are measured again
 * after the harvest (median of REPEATS requests each, alternating), so that one slow request or
 * the cold start of the first page does not decide the ratio; the latencies seen during the
 * harvest are shown too.
 */
import { formatMs, formatNumber, judged, median, type Section } from '../lib.js'

const PAGE = 1000
const TOTAL_TARGET_S = 60
const RATIO_TARGET = 3
const HARVEST_MAX_SECONDS = 3 * TOTAL_TARGET_S
const REPEATS = 5

interface Page {
  count: number
  ids: string[]
  bytes: number
  ms: number
}

async function fetchPage(url: string, start: number): Promise<Page> {
  const path = `/api/3/action/package_search?rows=${PAGE}&start=${start}&sort=${encodeURIComponent('id asc')}`
  const t0 = performance.now()
  const response = await fetch(url + path)
  const text = await response.text()
  const ms = performance.now() - t0
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${text.slice(0, 300)}`)
  const body = JSON.parse(text) as { success: boolean; result?: { count: number; results: Array<{ id: string }> } }
  if (!body.success || !body.result) throw new Error(`GET ${path}: ${text.slice(0, 300)}`)
  return { count: body.result.count, ids: body.result.results.map((r) => r.id), bytes: Buffer.byteLength(text), ms }
}

export const harvestSection: Section = {
  name: 'harvest',
  title: 'Full harvest (package_search paging, rows=1000, sort=id asc)',
  async run(ctx) {
    const url = ctx.app.url
    const pages: Page[] = []
    let harvested = 0
    let bytes = 0
    let lastId = ''
    let stopped = false
    const started = performance.now()
    for (let start = 0; ; start += PAGE) {
      const page = await fetchPage(url, start)
      pages.push(page)
      for (const id of page.ids) {
        if (id <= lastId) throw new Error(`harvest: page start=${start} is not in ascending id order (${id} after ${lastId})`)
        lastId = id
      }
      harvested += page.ids.length
      bytes += page.bytes
      if (page.ids.length < PAGE || start + PAGE >= page.count) break
      if ((performance.now() - started) / 1000 > HARVEST_MAX_SECONDS) {
        stopped = true
        break
      }
    }
    const seconds = (performance.now() - started) / 1000
    const count = pages[0]!.count
    if (!stopped && harvested !== count) throw new Error(`harvest: got ${harvested} datasets, package_search counts ${count}`)
    if (count !== ctx.publicDatasets) throw new Error(`harvest: package_search counts ${count} datasets, the seeded catalog has ${ctx.publicDatasets} public ones`)

    // First and last page again, alternating, warm.
    const lastStart = Math.floor((count - 1) / PAGE) * PAGE
    const first: number[] = []
    const last: number[] = []
    for (let i = 0; i < REPEATS; i++) {
      first.push((await fetchPage(url, 0)).ms)
      last.push((await fetchPage(url, lastStart)).ms)
    }
    const firstMs = median(first)
    const lastMs = median(last)
    const ratio = lastMs / firstMs

    const rate = harvested / seconds
    const total = stopped ? count / rate : seconds
    const totalText = stopped
      ? `≈ ${total.toFixed(0)} s extrapolated (stopped after ${seconds.toFixed(0)} s at ${formatNumber(harvested)} of ${formatNumber(count)})`
      : `${seconds.toFixed(1)} s`
    const harvestFirst = pages[0]!.ms
    const harvestLast = pages[pages.length - 1]!.ms
    return [
      {
        metric: `full harvest: ${formatNumber(count)} public datasets in ${formatNumber(Math.ceil(count / PAGE))} pages of ${PAGE}, 1 client, sequential`,
        value: judged(totalText, total < TOTAL_TARGET_S),
        target: `< ${TOTAL_TARGET_S} s`,
      },
      {
        metric: 'full harvest throughput',
        value: `${formatNumber(rate)} datasets/s (${(bytes / 1e6 / seconds).toFixed(1)} MB/s of JSON, ${(bytes / 1e6).toFixed(0)} MB in all)`,
        target: '—',
      },
      {
        metric: `harvest page latency, first (start=0) / last (start=${formatNumber(lastStart)}): median of ${REPEATS} after the harvest; ratio last/first`,
        value: judged(
          `${formatMs(firstMs)} / ${formatMs(lastMs)} ms, ratio ${ratio.toFixed(2)} (during the harvest: ${formatMs(harvestFirst)} / ${formatMs(harvestLast)} ms${stopped ? ', last page fetched before the stop' : ''})`,
          ratio <= RATIO_TARGET,
        ),
        target: `ratio ≤ ${RATIO_TARGET}`,
      },
    ]
  },
}
