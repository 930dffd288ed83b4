import t from 'tap'
import type { ServerResponse } from 'node:http'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { Harvester } from '../../src/harvest/harvester.js'
import { harvestDb } from '../../src/harvest/tables.js'
import { addSource, harvestNow, localServer, testHarvestConfig } from './support.js'

/**
 * Hostile sources, each harvested at the same time as a healthy source, after a first good run of its own (so
 * that it has datasets that a bad run could wrongly withdraw): the hostile job fails with a clear error, the
 * healthy one finishes with all its datasets, and nothing is withdrawn anywhere.
 */
const DATASETS = 6

const dataset = (prefix: string, i: number) => ({
  id: `${prefix}-${String(i).padStart(3, '0')}`,
  name: `${prefix}-datensatz-${i}`,
  title: `${prefix} ${i}`,
  notes: 'Beschreibung',
  license_id: 'dl-by-de/2.0',
  resources: [{ url: `https://example.org/${prefix}/${i}.csv`, format: 'CSV' }],
})

function ckanAnswer(results: unknown[], count: number): string {
  return JSON.stringify({ success: true, result: { count, results } })
}

function ttlPage(prefix: string, next?: string): string {
  const lines = [
    '@prefix dcat: <http://www.w3.org/ns/dcat#> .',
    '@prefix dct: <http://purl.org/dc/terms/> .',
    '@prefix hydra: <http://www.w3.org/ns/hydra/core#> .',
  ]
  for (let i = 0; i < 3; i++) {
    lines.push(
      `<https://example.org/${prefix}/ds/${i}> a dcat:Dataset ; dct:title "${prefix} ${i}" ; dct:description "Beschreibung" ; dcat:distribution <https://example.org/${prefix}/dist/${i}> .`,
    )
    lines.push(
      `<https://example.org/${prefix}/dist/${i}> a dcat:Distribution ; dcat:accessURL <https://example.org/${prefix}/${i}.csv> .`,
    )
  }
  if (next) lines.push(`<${next.replace(/\?.*/, '')}> hydra:next "${next}" .`)
  return lines.join('\n')
}

type Behaviour =
  | 'good'
  | 'endless'
  | 'error500'
  | 'truncated'
  | 'huge'
  | 'invalid'
  | 'redirectLoop'
  | 'hydraCycle'
  | 'ignoresStart'
  | 'cutShort'
  | 'slow'

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  // Small limits so that the hostile cases end quickly: 1 MB per fetch, 2 s per request, 20 pages.
  const config = testHarvestConfig(backend.config, {
    maxBytes: 1024 * 1024,
    requestTimeoutMs: 2000,
    maxPages: 20,
    retries: 1,
  })
  const harvester = new Harvester(app.service, config)
  const db = harvestDb(backend.store.db)
  const behaviour = new Map<string, Behaviour>()
  const hanging = new Set<ServerResponse>()
  t.teardown(() => hanging.forEach((res) => res.destroy()))

  const { base } = await localServer(t, (req, res) => {
    const url = new URL(req.url!, 'http://x')
    const [, kind, name] = url.pathname.split('/') as [string, 'ckan' | 'dcat', string]
    const mode = behaviour.get(name) ?? 'good'
    const start = Number(url.searchParams.get('start') ?? 0)
    const rows = Number(url.searchParams.get('rows') ?? 2)
    const all = Array.from({ length: DATASETS }, (_, i) => dataset(name, i))
    const page = Number(url.searchParams.get('page') ?? 1)
    if (mode === 'redirectLoop') {
      res.writeHead(302, {
        location: `${url.pathname}?page=${page}&hop=${Number(url.searchParams.get('hop') ?? 0) + 1}`,
      })
      return res.end()
    }
    if (kind === 'ckan') {
      res.setHeader('content-type', 'application/json')
      if (mode === 'error500' && start > 0) {
        res.statusCode = 500
        return res.end('{"success": false}')
      }
      if (mode === 'endless')
        return res.end(
          ckanAnswer(
            [dataset(name, 1000 + start)].map((d) => ({
              ...d,
              id: `${name}-${String(start + 1000).padStart(9, '0')}`,
            })),
            1_000_000_000,
          ),
        )
      if (mode === 'ignoresStart') return res.end(ckanAnswer(all.slice(0, rows), all.length))
      // The list ends early (a source whose datasets vanish mid-crawl, a proxy cutting pages): the count stays.
      if (mode === 'cutShort' && start > 0) return res.end(ckanAnswer([], all.length))
      if (mode === 'truncated' && start > 0)
        return res.end(ckanAnswer(all.slice(start, start + rows), all.length).slice(0, 40))
      if (mode === 'huge' && start > 0) {
        // 200 MB promised, streamed until the harvester stops reading.
        res.setHeader('content-length', String(200 * 1024 * 1024))
        const chunk = Buffer.alloc(64 * 1024, 0x20)
        const pump = () => {
          while (res.write(chunk)) if (res.writableLength > 1 << 20) break
          if (!res.destroyed) res.once('drain', pump)
        }
        res.on('error', () => {})
        return pump()
      }
      if (mode === 'slow' && start > 0) {
        hanging.add(res)
        return
      }
      return res.end(ckanAnswer(all.slice(start, start + rows), all.length))
    }
    res.setHeader('content-type', 'text/turtle')
    if (mode === 'invalid' && page === 2)
      return res.end('<https://example.org/a> <https://example.org/b> "unterminated .')
    if (mode === 'hydraCycle')
      return res.end(ttlPage(`${name}-${page}`, `${base}/dcat/${name}?page=${page === 2 ? 1 : 2}`))
    if (mode === 'huge' && page === 2) {
      // No content-length: the limit must hold while reading.
      const chunk = Buffer.from(`# ${'x'.repeat(64 * 1024)}\n`)
      const pump = () => {
        while (res.write(chunk)) if (res.writableLength > 1 << 20) break
        if (!res.destroyed) res.once('drain', pump)
      }
      res.on('error', () => {})
      return pump()
    }
    if (mode === 'truncated' && page === 2) {
      res.setHeader('content-type', 'application/rdf+xml')
      return res.end(
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="https://example.org/x">',
      )
    }
    if (mode === 'endless') return res.end(ttlPage(`${name}-${page}`, `${base}/dcat/${name}?page=${page + 1}`))
    res.end(ttlPage(`${name}-${page}`, page < 2 ? `${base}/dcat/${name}?page=${page + 1}` : undefined))
  })

  const cases: Array<{ name: string; kind: 'ckan' | 'dcat'; mode: Behaviour; error: RegExp }> = [
    { name: 'ckan-endless', kind: 'ckan', mode: 'endless', error: /more than 20 pages/ },
    { name: 'ckan-500', kind: 'ckan', mode: 'error500', error: /HTTP 500/ },
    { name: 'ckan-truncated', kind: 'ckan', mode: 'truncated', error: /not JSON/ },
    { name: 'ckan-huge', kind: 'ckan', mode: 'huge', error: /more than the limit of 1048576/ },
    { name: 'ckan-ignores-start', kind: 'ckan', mode: 'ignoresStart', error: /ignores start/ },
    { name: 'ckan-cut-short', kind: 'ckan', mode: 'cutShort', error: /empty after 2 of \d+ datasets/ },
    { name: 'ckan-redirect-loop', kind: 'ckan', mode: 'redirectLoop', error: /redirects/ },
    { name: 'ckan-slow', kind: 'ckan', mode: 'slow', error: /within 2000 ms|timeout|did not arrive/ },
    { name: 'dcat-endless', kind: 'dcat', mode: 'endless', error: /more than 20 pages/ },
    { name: 'dcat-invalid', kind: 'dcat', mode: 'invalid', error: /invalid (Turtle|N-Triples)/ },
    { name: 'dcat-truncated', kind: 'dcat', mode: 'truncated', error: /ends before its root element is closed/ },
    { name: 'dcat-huge', kind: 'dcat', mode: 'huge', error: /exceeds the limit of 1048576 bytes/ },
    { name: 'dcat-hydra-cycle', kind: 'dcat', mode: 'hydraCycle', error: /paging cycle/ },
    { name: 'dcat-redirect-loop', kind: 'dcat', mode: 'redirectLoop', error: /redirects/ },
  ]

  const healthyCkan = await addSource(harvester, app, {
    name: 'gesund-ckan',
    type: 'ckan',
    url: `${base}/ckan/gesund-ckan`,
    owner_org: 'fulda',
    config: { rows: 2 },
  })
  await addSource(harvester, app, {
    name: 'gesund-dcat',
    type: 'dcat',
    url: `${base}/dcat/gesund-dcat`,
    owner_org: 'fulda',
  })
  t.equal((await harvestNow(harvester, 'gesund-ckan')).counts.added, DATASETS)
  t.equal((await harvestNow(harvester, 'gesund-dcat')).counts.added, 6)

  for (const c of cases) {
    await t.test(
      `${c.name}: fails its own job; the healthy source beside it completes; nothing is withdrawn`,
      async (t) => {
        const source = await addSource(harvester, app, {
          name: c.name,
          type: c.kind,
          url: `${base}/${c.kind}/${c.name}`,
          owner_org: 'kassel',
          config: c.kind === 'ckan' ? { rows: 2 } : {},
        })
        // A first good run, so that the source has datasets a bad run could wrongly withdraw.
        behaviour.set(c.name, 'good')
        const first = await harvestNow(harvester, c.name)
        t.equal(first.status, 'finished', first.error ?? '')
        const before = await db
          .selectFrom('package')
          .select(['id', 'state', 'metadata_modified'])
          .orderBy('id')
          .execute()
        behaviour.set(c.name, c.mode)
        const [hostile, healthy] = await Promise.all([
          harvestNow(harvester, c.name, { full: true, confirmWithdrawals: true }),
          harvestNow(harvester, healthyCkan.id, { full: true }),
        ])
        t.equal(hostile.status, 'failed')
        t.match(hostile.error, c.error, `a clear error: ${hostile.error ?? ''}`)
        t.equal(hostile.counts.withdrawn, 0)
        t.equal(healthy.status, 'finished', healthy.error ?? '')
        t.match(healthy.counts, { unchanged: DATASETS, withdrawn: 0, failed: 0 })
        const after = await db
          .selectFrom('package')
          .select(['id', 'state', 'metadata_modified'])
          .orderBy('id')
          .execute()
        // An endless source may have added datasets before it failed; none that existed is deleted or changed.
        const kept = new Map(after.map((p) => [p.id, p]))
        t.same(
          before.filter((p) => JSON.stringify(kept.get(p.id)) !== JSON.stringify(p)),
          [],
          'no dataset deleted or changed anywhere',
        )
        const errors = await db
          .selectFrom('harvest_log')
          .select('job_id')
          .where('level', '=', 'error')
          .where('job_id', '=', healthy.job.id)
          .execute()
        t.same(errors, [], "the healthy job's report holds no error of the other")
        const job = await harvester.jobs.job(hostile.job.id)
        t.equal(job?.active_source, null, 'the failed job frees its source')
        t.equal((await harvester.jobs.createJob(source.id)).status, 'new', 'a new job can be queued')
        await harvester.jobs.abort((await harvester.jobs.listJobs(source.id, 1))[0].id)
      },
    )
  }

  await t.test('the per-job time limit and an abort while running end the job, withdrawing nothing', async (t) => {
    const source = await addSource(harvester, app, {
      name: 'langsam',
      type: 'ckan',
      url: `${base}/ckan/langsam`,
      owner_org: 'kassel',
      config: { rows: 2 },
    })
    behaviour.set('langsam', 'good')
    t.equal((await harvestNow(harvester, 'langsam')).status, 'finished')
    behaviour.set('langsam', 'slow')
    const limited = new Harvester(app.service, {
      ...config,
      harvest: { ...config.harvest, jobTimeoutMs: 300, requestTimeoutMs: 60_000 },
    })
    const timedOut = await harvestNow(limited, 'langsam', { full: true, confirmWithdrawals: true })
    t.equal(timedOut.status, 'failed')
    t.match(timedOut.error, /ran longer than 300 ms/)
    t.equal(timedOut.counts.withdrawn, 0)
    const patient = new Harvester(app.service, {
      ...config,
      harvest: { ...config.harvest, requestTimeoutMs: 60_000, leaseMs: 600 },
    })
    const job = await patient.jobs.createJob(source.id, { full: true, confirmWithdrawals: true })
    const running = patient.claimAndRun(job.id)
    // Abort once the job is running (its first page is read, the second never comes).
    const deadline = Date.now() + 30_000
    while ((await patient.jobs.job(job.id))?.status !== 'running' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    await patient.jobs.abort(job.id)
    const result = await running
    t.equal(result?.status, 'aborted')
    t.equal(result?.counts.withdrawn, 0)
    const kept = await db.selectFrom('harvest_object').select('withdrawn').where('source_id', '=', source.id).execute()
    t.ok(kept.length === DATASETS && kept.every((o) => o.withdrawn === 0), 'every dataset of the source kept')
  })
})
