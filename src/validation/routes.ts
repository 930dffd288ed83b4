import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CatalogService } from '../catalog/service.js'
import { packageFromDict } from '../catalog/package-input.js'
import { tokenFromHeaders } from '../auth/tokens.js'
import type { UserService } from '../auth/users.js'
import { CatalogError } from '../errors.js'
import { errorBody } from '../ckan/envelope.js'
import { parseRdf, RdfParseError, rdfFormat } from '../dcat/parse.js'
import { DcatRequestError, parseProfiles } from '../dcat/endpoints.js'
import type { DatasetValidation } from './dataset-validation.js'

const Finding = Type.Object({
  focusNode: Type.String(),
  path: Type.Union([Type.String(), Type.Null()]),
  severity: Type.String({ enum: ['violation', 'warning', 'info'] }),
  message: Type.Object({ de: Type.String(), en: Type.String() }),
  value: Type.Optional(Type.String()),
  sourceShape: Type.Optional(Type.String()),
  constraint: Type.Optional(Type.String()),
})
const Report = Type.Object({
  conforms: Type.Boolean(),
  profile: Type.String(),
  counts: Type.Object({ violation: Type.Integer(), warning: Type.Integer(), info: Type.Integer() }),
  findings: Type.Array(Finding),
})

/** POST /api/validate and GET /dataset/{id}/validation: the dcat-ap-validator for editors and tools. */
export function registerValidationRoutes(app: FastifyInstance, deps: { service: CatalogService; users: UserService; validation: DatasetValidation }): void {
  const fail = (reply: FastifyReply, status: number, type: string, message: string) =>
    reply.code(status).send({ success: false, error: { __type: type, message } })

  // RDF documents arrive as text; CKAN package dicts as JSON (the default parser).
  for (const type of ['text/turtle', 'application/rdf+xml', 'application/ld+json', 'application/n-triples', 'text/plain', 'application/xml']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_request, body, done) => done(null, body))
  }

  app.post(
    '/api/validate',
    {
      schema: {
        tags: ['validation'],
        summary: 'Validate a DCAT RDF document or a CKAN package dict against DCAT-AP.de',
        description:
          'Send Turtle, RDF/XML, JSON-LD or N-Triples with its Content-Type, or a CKAN package dict as application/json. ' +
          '`profiles=dcat_ap_de_3` checks DCAT-AP.de 3.0 (default 2.0). Every finding has a focus node, a path, a severity and a German and English message.',
        querystring: Type.Object({ profiles: Type.Optional(Type.String()) }),
        response: { 200: Report },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      let profile
      try {
        profile = parseProfiles((request.query as { profiles?: string }).profiles)
      } catch (err) {
        return fail(reply, 409, 'Validation Error', (err as Error).message)
      }
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
      try {
        if (type === 'application/json') {
          const { input, errors } = packageFromDict(request.body as Record<string, unknown>, { reference: deps.service.reference, vocab: deps.service.vocab })
          if (Object.keys(errors).length) return reply.code(409).send({ success: false, error: { ...errors, __type: 'Validation Error' } })
          const report = await deps.validation.validateDict(deps.validation.dictFor(input), profile)
          return { ...report, profile }
        }
        const format = rdfFormat(type)
        if (!format) return fail(reply, 415, 'Unsupported Media Type', `Send text/turtle, application/rdf+xml, application/ld+json, application/n-triples or application/json, not "${type}"`)
        const quads = await parseRdf(String(request.body ?? ''), format)
        const report = await (await deps.validation.validator(profile)).validate(quads)
        return { ...report, profile }
      } catch (err) {
        if (err instanceof RdfParseError) return fail(reply, 400, 'RDF Parse Error', err.message)
        throw err
      }
    },
  )

  app.get(
    '/dataset/:id/validation',
    {
      schema: {
        tags: ['validation'],
        summary: 'The DCAT-AP.de validation report of one stored dataset',
        params: Type.Object({ id: Type.String() }),
        querystring: Type.Object({ profiles: Type.Optional(Type.String()) }),
        response: { 200: Report },
      },
    },
    async (request, reply) => {
      try {
        const profile = parseProfiles((request.query as { profiles?: string }).profiles)
        const viewer = await deps.users.viewerForToken(tokenFromHeaders(request.headers))
        const { dict } = await deps.service.showPackage((request.params as { id: string }).id, viewer)
        const report = await deps.validation.validateDict(dict as never, profile)
        return { ...report, profile }
      } catch (err) {
        if (err instanceof CatalogError) {
          const { status, error } = errorBody(err)
          return fail(reply, status, String(error.__type), err.message)
        }
        if (err instanceof DcatRequestError) return fail(reply, 409, 'Validation Error', err.message)
        throw err
      }
    },
  )
}
