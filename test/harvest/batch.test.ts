import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { BATCH_SIZE, Harvester } from '../../src/harvest/harvester.js'
import { harvestDb } from '../../src/harvest/tables.js'
import { addSource, harvestNow, localServer, testHarvestConfig } from './support.js'

/**
 * The harvester writes a page's datasets several to a transaction. A dataset that fails within its batch (its
 * distribution's URI is one another dataset of the same batch has just claimed) is reported and skipped, and the
 * others of that batch are kept; a name clash inside one batch gives the second dataset a name of its own.
 */
const dataset = (i: number, extra: Record<string, unknown> = {}) => ({
  id: `batch-${String(i).padStart(3, '0')}`,
  name: `batch-datensatz-${i}`,
  title: `Datensatz ${i} <b>"x"</b>`,
  notes: 'Beschreibung',
  license_id: 'dl-by-de/2.0',
  resources: [{ url: `https://example.org/batch/${i}.csv`, format: 'CSV' }],
  ...extra,
})

const SHARED_URI = 'https://example.org/batch/gleiche-verteilung'
const DATASETS = [
  dataset(0, { name: 'gleicher-name' }),
  dataset(1, { name: 'gleicher-name' }),
  dataset(2, { resources: [{ url: 'https://example.org/batch/2.csv', uri: SHARED_URI }] }),
  dataset(3, { resources: [{ url: 'https://example.org/batch/3.csv', uri: SHARED_URI }] }),
  dataset(4),
  ...Array.from({ length: 20 }, (_, i) => dataset(5 + i)),
]

await forEachBackend(t, async (t, backend) => {
  t.ok(BATCH_SIZE > DATASETS.length / 2, 'the page fits in one or two batches')
  const app = await startApp(t, backend)
  const harvester = new Harvester(app.service, testHarvestConfig(backend.config))
  const { base } = await localServer(t, (req, res) => {
    const url = new URL(req.url!, 'http://x')
    const start = Number(url.searchParams.get('start') ?? 0)
    const rows = Number(url.searchParams.get('rows') ?? 100)
    res.setHeader('content-type', 'application/json')
    res.end(
      JSON.stringify({
        success: true,
        result: { count: DATASETS.length, results: DATASETS.slice(start, start + rows) },
      }),
    )
  })
  const source = await addSource(harvester, app, {
    name: 'batch-quelle',
    type: 'ckan',
    url: base,
    owner_org: 'frankfurt',
    config: { rows: 100 },
  })
  const result = await harvestNow(harvester, source.id)
  t.equal(result.status, 'finished', String(result.error))
  t.equal(result.counts.added, DATASETS.length - 1, 'every dataset but the one whose write fails')
  t.equal(result.counts.skipped, 1)
  t.equal(result.counts.failed, 0)

  const db = harvestDb(backend.store.db)
  const objects = await db
    .selectFrom('harvest_object')
    .select(['package_id'])
    .where('source_id', '=', source.id)
    .execute()
  t.equal(objects.length, DATASETS.length - 1, 'a harvest object for each dataset written')
  const names = (
    await backend.store.db
      .selectFrom('package')
      .select('name')
      .where(
        'id',
        'in',
        objects.map((o) => o.package_id),
      )
      .execute()
  ).map((r) => r.name)
  t.ok(names.includes('gleicher-name'), 'the first of two datasets with one name keeps it')
  t.ok(
    names.some((n) => n.startsWith('gleicher-name-')),
    'the second gets a name of its own',
  )
  t.ok(names.includes('batch-datensatz-2') !== names.includes('batch-datensatz-3'), 'one of the two holders of the URI')
  t.ok(names.includes('batch-datensatz-24'), 'the batch after the failing dataset is kept')
  const logs = await harvester.jobs.logs(result.job.id, 100, 0, 'error')
  t.equal(logs.length, 1, 'the failing dataset is reported')
  t.match(String(logs[0]?.message), /skipped/)
  t.match(String(logs[0]?.guid ?? ''), /batch-00[23]/)
})
