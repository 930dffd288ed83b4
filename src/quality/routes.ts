import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { CatalogService } from '../catalog/service.js'
import type { UserService } from '../auth/users.js'
import type { AppConfig } from '../config.js'
import { tokenFromHeaders } from '../auth/tokens.js'
import { CatalogError } from '../errors.js'
import { errorBody, helpUrl } from '../ckan/envelope.js'
import { QualityExplanation, QualityLang, QualityMode } from '../ckan/actions/quality.js'
import { showQuality } from './show.js'

/** GET /dataset/{id}/quality: package_quality_show's answer as plain JSON. */
export function registerQualityRoutes(
  app: FastifyInstance,
  deps: { service: CatalogService; users: UserService; config: AppConfig },
): void {
  app.get(
    '/dataset/:id/quality',
    {
      schema: {
        tags: ['datasets'],
        summary: 'The MQA quality score of a dataset, explained (as package_quality_show)',
        params: Type.Object({ id: Type.String({ maxLength: 200 }) }),
        querystring: Type.Object({ mode: Type.Optional(QualityMode), lang: Type.Optional(QualityLang) }),
        response: { 200: QualityExplanation },
      },
    },
    async (request, reply) => {
      const { mode, lang } = request.query as { mode?: 'portal' | 'proportional'; lang?: 'de' | 'en' }
      try {
        const viewer = await deps.users.viewerForToken(tokenFromHeaders(request.headers))
        return await showQuality(
          deps.service,
          (request.params as { id: string }).id,
          viewer,
          mode ?? 'portal',
          lang ?? 'de',
        )
      } catch (err) {
        if (err instanceof CatalogError) {
          const { status, error } = errorBody(err)
          return reply
            .code(status as 200)
            .send({ help: helpUrl(deps.config.baseUrl, 'package_quality_show'), success: false, error })
        }
        throw err
      }
    },
  )
}
