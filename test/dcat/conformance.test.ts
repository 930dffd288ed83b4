import t from 'tap'
import { Parser, Store as N3Store, DataFactory } from 'n3'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { seedDatasets } from '../../src/catalog/seed.js'
import { parseRdf } from '../../src/dcat/parse.js'
import { createValidator, officialShapesMissingReason, type Finding } from '../../src/validation/index.js'

/**
 * Every page of the catalog export of the seeded demo data has zero violations: against the official
 * DCAT-AP.de shapes in ../shared (the profile GovData validates with: 2.0 spec + Konventionen; and 3.0
 * with profiles=dcat_ap_de_3) when present, and always against our own shapes in catalog/shapes/.
 */
const HYDRA_NEXT = 'http://www.w3.org/ns/hydra/core#next'

function summary(findings: Finding[]): string[] {
  return [...new Set(findings.filter((f) => f.severity === 'violation').map((f) => `${f.path} ${f.message.en}`))].slice(0, 10)
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  await seedDatasets(backend.store, app.service.vocab, { count: 250, seed: 7 })
  const profiles = [
    { param: '', own: 'dcat_ap_de_2' as const, official: 'official-de-2' as const },
    { param: 'dcat_ap_de_3', own: 'dcat_ap_de_3' as const, official: 'official-de-3' as const },
  ]
  for (const profile of profiles) {
    await t.test(`every catalog page conforms (${profile.own})`, async (t) => {
      const own = await createValidator({ profile: profile.own })
      const missing = officialShapesMissingReason(profile.official)
      if (missing) t.comment(`official shapes skipped: ${missing}`)
      const official = missing ? null : await createValidator({ profile: profile.own, shapes: profile.official })
      let url: string | undefined = `/catalog.ttl${profile.param ? `?profiles=${profile.param}` : ''}`
      let pages = 0
      let datasets = 0
      while (url) {
        const response: { statusCode: number; body: string } = await app.fastify.inject({ url })
        t.equal(response.statusCode, 200)
        const quads = await parseRdf(response.body, 'text/turtle')
        const ownReport = await own.validate(quads)
        t.same(summary(ownReport.findings), [], `page ${pages + 1}: no violation of our shapes`)
        if (official) {
          const report = await official.validate(quads)
          t.same(summary(report.findings), [], `page ${pages + 1}: no violation of the official ${profile.official} shapes`)
          t.equal(report.counts.violation, 0)
        }
        const store: N3Store = new N3Store(new Parser().parse(response.body))
        datasets += store.getSubjects(null, DataFactory.namedNode('http://www.w3.org/ns/dcat#Dataset'), null).length
        const next: string | undefined = store.getObjects(null, DataFactory.namedNode(HYDRA_NEXT), null)[0]?.value
        url = next ? next.slice(backend.config.baseUrl.length) : undefined
        pages++
      }
      const count = (await app.fastify.inject({ url: '/api/3/action/package_search?rows=0' })).json().result.count
      t.equal(datasets, count, `${pages} pages with all ${count} public datasets`)
    })
  }
})
