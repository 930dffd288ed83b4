/**
 * The facts scoring reads from a package dict (quality/facts.ts) are exactly those of the RDF the DCAT export
 * writes of it (datasetToQuads): on the seeded corpus, the hand-made sample and hostile values.
 */
import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { SAMPLE_DATASETS } from '../helpers/datasets.js'
import { seedDatasets } from '../../src/catalog/seed.js'
import { sql } from 'kysely'
import type { PackageDict } from '../../src/dcat/mapping.js'
import type { DatasetFacts } from '../../src/quality/score.js'

/** Blank node labels differ between two runs of the mapping: `_:<anything>` compares as `_:`. */
function normal(f: DatasetFacts): unknown {
  return { ...f, accessRights: f.accessRights.map((a) => (a.startsWith('_:') ? '_:' : a)) }
}

const HOSTILE = [
  '<script>',
  '"\'&',
  '\u0000x',
  '\ud800',
  ' ',
  'www.example.org/a b',
  'javascript:alert(1)',
  'http://[::1',
  'CSV',
  'text/csv',
  'dl-by-de/2.0',
  'http://example.org/ok',
  '12',
  '-1',
  '',
]

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  await insertDatasets(app, SAMPLE_DATASETS)
  await seedDatasets(backend.store, app.service.vocab, { count: 300, seed: 5 })
  const ids = (await backend.store.db.selectFrom('package').select('id').execute()).map((r) => r.id)
  const dicts = (await app.service.packageDicts(ids, sql`1 = 1`)) as PackageDict[]
  const recorder = app.service.quality

  await t.test('the stored corpus', async (t) => {
    let differing = 0
    for (const dict of dicts) {
      const a = normal(recorder.facts(dict))
      const b = normal(recorder.factsViaRdf(dict))
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        differing++
        if (differing <= 3) t.same(a, b, dict.name ?? dict.id)
      }
    }
    t.equal(differing, 0, `${dicts.length} datasets alike`)
  })

  await t.test('hostile values in every field scoring reads', async (t) => {
    const base = dicts[0]
    let n = 0
    for (const v of HOSTILE) {
      const variants: PackageDict[] = [
        { ...base, tags: [{ name: v }], groups: [{ name: v }], license_id: v, metadata_created: v },
        {
          ...base,
          extras: [
            'spatial_uri',
            'temporal_start',
            'access_rights',
            'theme',
            'politicalGeocodingURI',
            'issued',
            'modified',
            'contact_email',
            'publisher_name',
          ].map((key) => ({ key, value: v })),
        },
        { ...base, maintainer_email: v, author_email: v, organization: null },
        {
          ...base,
          resources: [
            {
              id: 'r1',
              url: v,
              access_url: v,
              download_url: v,
              format: v,
              mimetype: v,
              license: v,
              rights: v,
              size: v,
              issued: v,
              created: v,
              modified: v,
              state: 'active',
            },
          ],
        },
        {
          ...base,
          resources: [
            { id: 'r2', url: 'https://example.org/x', state: v },
            { id: 'r3', url: v, size: Number(v) },
          ],
        },
      ]
      for (const dict of variants) {
        t.same(normal(recorder.facts(dict)), normal(recorder.factsViaRdf(dict)), `${JSON.stringify(v)} #${n++ % 5}`)
      }
    }
  })
})
