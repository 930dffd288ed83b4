/** Latency of the list actions a harvester or portal front page calls. */
import { assertClean, latencyRow, prng, runLoad, type Section } from '../lib.js'

const PAGE = 1000
const OFFSETS = 100

export const listsSection: Section = {
  name: 'lists',
  title: 'List actions',
  async run(ctx) {
    const load = { seconds: ctx.settings.seconds, connections: ctx.settings.connections, warmupSeconds: ctx.settings.warmupSeconds, url: ctx.app.url }

    const organizations = await runLoad({ ...load, paths: ['/api/3/action/organization_list?all_fields=true'] })
    assertClean('organization_list', organizations)

    // Pages anywhere in the catalog: random offsets K in 0 .. (public datasets - PAGE).
    const random = prng(ctx.settings.seed + 1)
    const maxOffset = Math.max(0, ctx.publicDatasets - PAGE)
    const paths = Array.from({ length: OFFSETS }, () => `/api/3/action/package_list?limit=${PAGE}&offset=${Math.floor(random() * (maxOffset + 1))}`)
    const probe = (await (await fetch(ctx.app.url + paths[0])).json()) as { success: boolean; result: unknown[] }
    if (!probe.success || !Array.isArray(probe.result)) throw new Error(`package_list answered ${JSON.stringify(probe).slice(0, 200)}`)
    const packages = await runLoad({ ...load, paths })
    assertClean('package_list', packages)

    return [
      latencyRow('organization_list?all_fields=true', organizations),
      latencyRow(`package_list?limit=${PAGE}&offset=K (${OFFSETS} random K)`, packages),
    ]
  },
}
