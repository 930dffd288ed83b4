import { packageFromDict } from '../catalog/package-input.js'
import { HARVEST_EXTRAS, type CatalogService } from '../catalog/service.js'
import type { Viewer } from '../auth/viewer.js'
import { harvestDb } from './tables.js'

const HARVESTER: Viewer = { userId: null, userName: 'harvester', sysadmin: true, orgRoles: new Map() }

/**
 * The datasets of a deleted source: detached (the harvest extras removed and the harvest object dropped in one
 * transaction per dataset, after which editors may edit it), or with `clear` deleted. One dataset at a time, so
 * a large source does not hold a long transaction.
 */
export async function detachSource(
  service: CatalogService,
  sourceId: string,
  clear: boolean,
): Promise<{ detached: number; deleted: number }> {
  const db = harvestDb(service.db)
  const objects = await db
    .selectFrom('harvest_object')
    .select(['id', 'package_id', 'withdrawn'])
    .where('source_id', '=', sourceId)
    .execute()
  let detached = 0
  let deleted = 0
  for (const object of objects) {
    const drop = async (
      trx: Parameters<NonNullable<Parameters<CatalogService['modifyPackage']>[3]>['within'] & object>[0],
    ) => {
      await harvestDb(trx).deleteFrom('harvest_object').where('id', '=', object.id).execute()
    }
    if (clear || object.withdrawn) {
      await service.modifyPackage(
        object.package_id,
        HARVESTER,
        () => Promise.resolve({ state: 'deleted' as const, activity: 'deleted package' }),
        { harvest: true, within: drop },
      )
      deleted++
      continue
    }
    await service.modifyPackage(
      object.package_id,
      HARVESTER,
      (current) => {
        const dict = current.dict
        const extras = ((dict.extras as Array<{ key: string; value: string }> | undefined) ?? []).filter(
          (e) => !HARVEST_EXTRAS.includes(e.key),
        )
        const { input } = packageFromDict(
          { ...dict, owner_org: current.owner_org, extras },
          {
            reference: service.reference,
            vocab: service.vocab,
            baseUrl: service.config.baseUrl,
            existingResourceIds: new Set(
              ((dict.resources as Array<{ id: string }> | undefined) ?? []).map((r) => r.id),
            ),
          },
        )
        return Promise.resolve({ input: { ...input, id: current.id }, activity: 'changed package' })
      },
      { harvest: true, within: drop },
    )
    detached++
  }
  return { detached, deleted }
}
