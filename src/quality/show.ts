import type { CatalogService } from '../catalog/service.js'
import type { Viewer } from '../auth/viewer.js'
import { notFound } from '../errors.js'
import { explain, type Explanation } from './explain.js'
import type { Lang } from './indicators.js'
import type { Mode } from './score.js'

/**
 * A dataset's stored score, explained, for a viewer: the dataset is read as package_show reads it (the same
 * visibility rule of auth/viewer.ts; a private dataset's score is no more visible than the dataset). Never
 * scores: a dataset written before scores existed has none until its next write (404).
 */
export async function showQuality(
  service: CatalogService,
  idOrName: string,
  viewer: Viewer,
  mode: Mode,
  lang: Lang,
): Promise<Explanation> {
  const { id } = await service.showPackageJson(idOrName, viewer)
  const stored = await service.quality.stored(service.db, id)
  if (!stored) throw notFound('This dataset has no quality score yet (it is scored at its next write)')
  return explain(id, stored.explanation, stored.computed_at, mode, lang)
}
