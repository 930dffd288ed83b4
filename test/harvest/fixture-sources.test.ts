import t from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { DataFactory, Writer } from 'n3'
import jsonld from 'jsonld'
import type * as RDF from '@rdfjs/types'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call } from '../helpers/users.js'
import { FIXTURES, HAVE_FIXTURES, NO_FIXTURES_REASON } from '../dcat/support.js'
import { parseRdf } from '../../src/dcat/parse.js'
import { quadsToDatasets } from '../../src/dcat/mapping.js'
import { vocabularies } from '../../src/catalog/vocabularies.js'
import { Harvester } from '../../src/harvest/harvester.js'
import { harvestDb } from '../../src/harvest/tables.js'
import { addSource, harvestNow, localServer, testHarvestConfig } from './support.js'

/**
 * Real documents over loopback: the CKAN package dicts of ckanext-dcat served as CKAN 2.10 pages
 * package_search, and the real catalogs (Rostock, Bremen, Brandenburg, Destatis) plus the ckanext-dcatde
 * catalog page as one Hydra-paged DCAT source, each page in another format (Turtle, RDF/XML, N-Triples,
 * JSON-LD). Every dataset of each arrives with its distributions, licences and Kommune.
 */
if (!HAVE_FIXTURES) {
  t.comment(NO_FIXTURES_REASON)
  t.test('harvesting the shared fixtures', { skip: NO_FIXTURES_REASON }, () => {})
} else {
  const CKAN_FILES = [
    'ckan_dataset.json',
    'full_ckan_dataset_legacy.json',
    'ckan_full_dataset_dcat_ap.json',
    'ckan_full_dataset_dcat_ap_legacy.json',
    'ckan_full_dataset_dcat_ap_vocabularies.json',
    'ckan_dataset_multilingual.json',
  ]
  const uuidOf = (text: string) => {
    const h = createHash('sha1').update(text).digest('hex')
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
  }
  /** The dicts as CKAN 2.10 stores and shows them: an id and a name each, active, public, stamped. */
  const ckanDicts = CKAN_FILES.map((file, i): Record<string, unknown> & { id: string } => {
    const dict = JSON.parse(readFileSync(`${FIXTURES}/ckanext-dcat/${file}`, 'utf8')) as Record<string, unknown>
    return {
      ...dict,
      id: (dict.id as string | undefined) ?? uuidOf(file),
      name: dict.name ?? `fixture-${i}`,
      state: 'active',
      private: false,
      metadata_modified: '2024-01-02T03:04:05.000000',
    }
  }).sort((a, b) => (a.id < b.id ? -1 : 1))

  const RDF_PAGES = (
    [
      { file: 'ckanext-dcatde/catalog-endpoint.rdf', as: 'ttl' },
      { file: 'real-catalogs/rostock-catalog-original-input.rdf', as: 'rdf' },
      { file: 'real-catalogs/bremen-catalog-original-input.rdf', as: 'nt' },
      { file: 'real-catalogs/brandenburg-catalog-original-input.rdf', as: 'jsonld' },
      { file: 'real-catalogs/destatis-catalog-original-input.rdf', as: 'rdf' },
    ] as Array<{ file: string; as: 'ttl' | 'rdf' | 'nt' | 'jsonld' }>
  ).filter((p) => existsSync(`${FIXTURES}/${p.file}`))
  if (RDF_PAGES.length < 5)
    t.comment('some real catalogs are absent from ../shared/fixtures/real-catalogs: harvesting the others')

  const HYDRA = 'http://www.w3.org/ns/hydra/core#'
  const vocab = vocabularies()
  const expected = new Map<string, { datasets: number; resources: number; licensed: number; unknownLicences: number }>()
  const pages: Array<{ body: string; type: string }> = []

  t.before(async () => {
    for (const [i, page] of RDF_PAGES.entries()) {
      const text = readFileSync(`${FIXTURES}/${page.file}`, 'utf8')
      const quads = (await parseRdf(text, 'rdf', { baseIri: `http://fixture.example/${page.file}` })).filter(
        (q) => !q.predicate.value.startsWith(HYDRA),
      )
      const parsed = quadsToDatasets(quads, { vocab })
      expected.set(page.file, {
        datasets: parsed.length,
        // A distribution without any URL is left out (and noted in the report).
        resources: parsed.reduce((n, d) => n + d.resources.filter((r) => r.url).length, 0),
        // Licences outside the dcat-ap.de list are refused by the write API's rules: left out and reported.
        licensed: parsed.reduce(
          (n, d) => n + d.resources.filter((r) => r.url && r.license && vocab.licenses.find(r.license)).length,
          0,
        ),
        unknownLicences: parsed.reduce(
          (n, d) => n + d.resources.filter((r) => r.url && r.license && !vocab.licenses.find(r.license)).length,
          0,
        ),
      })
      const next = i + 1 < RDF_PAGES.length ? `/katalog?page=${i + 2}` : undefined
      if (page.as === 'rdf') {
        // The original text, with a Hydra description of this page added before the end.
        const hydra = next
          ? `<hydra:PagedCollection xmlns:hydra="${HYDRA}" rdf:about="/katalog?page=${i + 1}"><hydra:next>${next}</hydra:next></hydra:PagedCollection>`
          : ''
        pages.push({
          body: text.replace(/<\/rdf:RDF>\s*$/, `${hydra}</rdf:RDF>\n`),
          type: 'application/rdf+xml; charset=utf-8',
        })
        continue
      }
      const all: RDF.Quad[] = [...quads]
      if (next)
        all.push(
          DataFactory.quad(
            DataFactory.namedNode(`http://fixture.example/katalog?page=${i + 1}`),
            DataFactory.namedNode(`${HYDRA}nextPage`),
            DataFactory.literal(next),
          ),
        )
      if (page.as === 'jsonld') {
        const nquads = new Writer({ format: 'N-Quads' }).quadsToString(all)
        const doc = await jsonld.fromRDF(nquads, { format: 'application/n-quads' })
        pages.push({ body: JSON.stringify(doc), type: 'application/ld+json' })
      } else {
        pages.push({
          body: new Writer({ format: page.as === 'ttl' ? 'Turtle' : 'N-Triples' }).quadsToString(all),
          type: page.as === 'ttl' ? 'text/turtle' : 'application/n-triples',
        })
      }
    }
  })

  await forEachBackend(t, async (t, backend) => {
    const app = await startApp(t, backend)
    const harvester = new Harvester(app.service, testHarvestConfig(backend.config))
    const db = harvestDb(backend.store.db)
    const { base } = await localServer(t, (req, res) => {
      const url = new URL(req.url!, 'http://x')
      if (url.pathname === '/api/3/action/package_search') {
        // CKAN 2.10: rows capped, start honoured, sorted as asked (id asc), the count of all.
        const start = Number(url.searchParams.get('start') ?? 0)
        const rows = Math.min(2, Number(url.searchParams.get('rows') ?? 10))
        res.setHeader('content-type', 'application/json;charset=utf-8')
        return res.end(
          JSON.stringify({
            help: `${base}/api/3/action/help_show?name=package_search`,
            success: true,
            result: {
              count: ckanDicts.length,
              facets: {},
              results: ckanDicts.slice(start, start + rows),
              sort: 'id asc',
              search_facets: {},
            },
          }),
        )
      }
      if (url.pathname === '/katalog') {
        const page = pages[Number(url.searchParams.get('page') ?? 1) - 1]
        if (!page) {
          res.statusCode = 404
          return res.end()
        }
        res.setHeader('content-type', page.type)
        return res.end(page.body)
      }
      res.statusCode = 404
      res.end()
    })

    await t.test('a CKAN 2.10 serving the ckanext-dcat package dicts', async (t) => {
      await addSource(harvester, app, { name: 'ckan-fixtures', type: 'ckan', url: base, owner_org: 'fulda' })
      const result = await harvestNow(harvester, 'ckan-fixtures')
      t.equal(result.status, 'finished', result.error ?? '')
      t.equal(result.counts.pages, Math.ceil(ckanDicts.length / 2))
      t.equal(result.counts.added, ckanDicts.length, `every dict arrives (${JSON.stringify(result.counts)})`)
      const job = await db
        .selectFrom('harvest_log')
        .select(['level', 'guid', 'message'])
        .where('job_id', '=', result.job.id)
        .where('level', '=', 'error')
        .execute()
      t.same(job, [], 'no errors')
      const search = await call(app, null, 'package_search', { q: '*:*', rows: 100 })
      for (const dict of ckanDicts) {
        const shown = (
          search.body.result.results as Array<{ title: string; organization: { name: string }; resources: unknown[] }>
        ).find((p) => p.title === dict.title)
        t.ok(shown, `${dict.name as string} arrived`)
        t.equal(shown?.organization.name, 'fulda')
        t.equal(shown?.resources.length, (dict.resources as unknown[] | undefined)?.length ?? 0, 'its resources')
      }
      const again = await harvestNow(harvester, 'ckan-fixtures', { full: true })
      t.match(
        again.counts,
        { added: 0, updated: 0, unchanged: ckanDicts.length, withdrawn: 0 },
        'nothing rewritten when nothing changed',
      )
    })

    await t.test('a Hydra-paged DCAT source over the real catalogs, in four formats', async (t) => {
      await addSource(harvester, app, {
        name: 'dcat-fixtures',
        type: 'dcat',
        url: `${base}/katalog`,
        owner_org: 'kassel',
      })
      const result = await harvestNow(harvester, 'dcat-fixtures')
      t.equal(result.status, 'finished', result.error ?? '')
      t.equal(result.counts.pages, RDF_PAGES.length, 'every page, following hydra:next and hydra:nextPage')
      const total = [...expected.values()].reduce((n, e) => n + e.datasets, 0)
      t.equal(result.counts.added + result.counts.skipped, total, 'every dataset is added or reported')
      const errors = await db
        .selectFrom('harvest_log')
        .select(['guid', 'message'])
        .where('job_id', '=', result.job.id)
        .where('level', '=', 'error')
        .execute()
      t.same(errors, [], 'no dataset skipped')
      const kassel = app.service.reference.organization('kassel')!.id
      const stored = await db
        .selectFrom('harvest_object as o')
        .innerJoin('package as p', 'p.id', 'o.package_id')
        .select(['p.owner_org', 'p.license_id', 'p.num_resources'])
        .where('o.source_id', '=', result.job.source_id)
        .execute()
      t.equal(stored.length, total)
      t.ok(
        stored.every((s) => s.owner_org === kassel),
        "all in the source's Kommune",
      )
      const resources = [...expected.values()].reduce((n, e) => n + e.resources, 0)
      t.equal(
        stored.reduce((n, s) => n + s.num_resources, 0),
        resources,
        'every distribution',
      )
      const licensed = [...expected.values()].reduce((n, e) => n + e.licensed, 0)
      const withLicence = await db
        .selectFrom('resource as r')
        .innerJoin('harvest_object as o', 'o.package_id', 'r.package_id')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('o.source_id', '=', result.job.source_id)
        .where('r.extras', 'like', '%"license":"%')
        .executeTakeFirstOrThrow()
      t.equal(
        Number(withLicence.n),
        licensed,
        `every distribution's known licence (${licensed} expected, ${Number(withLicence.n)} stored)`,
      )
      const unknown = [...expected.values()].reduce((n, e) => n + e.unknownLicences, 0)
      const reported = await db
        .selectFrom('harvest_log')
        .select('message')
        .where('job_id', '=', result.job.id)
        .where('level', '=', 'warning')
        .where('message', 'like', '%license: License not found%')
        .execute()
      const mentions = reported.reduce(
        (n, r) => n + (r.message.match(/resource \d+ license: License not found/g) ?? []).length,
        0,
      )
      t.equal(mentions, unknown, `each unknown licence (${unknown}) is reported in the job's log`)
      const again = await harvestNow(harvester, 'dcat-fixtures')
      t.match(
        again.counts,
        { added: 0, updated: 0, unchanged: total, withdrawn: 0 },
        'unchanged datasets are not rewritten',
      )
    })
  })
}
