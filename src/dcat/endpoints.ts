import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import type { Quad } from '@rdfjs/types'
import type { CatalogService } from '../catalog/service.js'
import type { AppConfig } from '../config.js'
import type { SearchService } from '../search/search.js'
import type { UserService } from '../auth/users.js'
import { tokenFromHeaders } from '../auth/tokens.js'
import { CatalogError } from '../errors.js'
import { errorBody } from '../ckan/envelope.js'
import { checkedDatasetQuads, takenIris } from './context.js'
import { revisionTag } from '../catalog/revision-tag.js'
import { PUBLIC_DATASETS, type Viewer } from '../auth/viewer.js'
import { usageOf } from '../usage/counter.js'
import { parseSolrDate } from '../search/datemath.js'
import { qualityQuads, storedQuality } from './quality.js'
import { catalogQuads, datasetToQuads, datasetUri, hydraQuads, catalogUri, type DcatProfile, type PackageDict } from './mapping.js'
import { DatasetTextEncoder, RdfStreamClosedError, contentType, createRdfStream, serialize, textFragment, textHeader } from './serialize.js'
import { FragmentStore, isStoredRepresentation } from './fragment-store.js'
import type { RdfFormat } from './parse.js'
import { EXTENSIONS, negotiateFormat, wantsCompat } from './negotiation.js'
import { DataFactory } from 'n3'

export interface DcatDeps {
  service: CatalogService
  search: SearchService
  users: UserService
  config: AppConfig
  /** Datasets per catalog page (ckanext.dcat.datasets_per_page). */
  pageSize?: number
}

/** A problem with the request: ckanext-dcat answers these with 409 and a plain message. */
export class DcatRequestError extends Error {
  constructor(
    message: string,
    readonly status = 409,
  ) {
    super(message)
  }
}

/** Dataset ids per keyset page of a streamed whole-catalog dump (each page query has a cost of its own). */
const STREAM_IDS = 500
/**
 * Documents read at a time in a streamed dump. Few: their JSON dies young (JSON that lives through several
 * young-generation collections is promoted, and the heap grows).
 */
const STREAM_DOCS = 50
/** Datasets per Turtle / N-Triples fragment (the unit of work shared with the worker thread, and of one package_uri lookup). */
const STREAM_FRAGMENT = 50
/** Fragments serialized ahead of the response. */
const STREAM_AHEAD = 3
/** Datasets per read of stored fragments (fragment-store.ts): one query, one package_uri lookup. */
const STORED_BATCH = 100
/** Writes of fragments rendered for want of a stored one (see FragmentStore.texts) the dump runs ahead of. */
const BACKFILL_AHEAD = 4
/** Datasets per write of RDF/XML (one scriber call) and JSON-LD (one compaction). */
const STREAM_BATCH = 50
const STREAM_BATCH_JSONLD = 50

const PROFILES: Record<string, DcatProfile | null> = {
  euro_dcat_ap: null,
  euro_dcat_ap_2: null,
  dcatap_de: null,
  dcat_ap_de: null,
  dcat_ap_de_2: 'dcat_ap_de_2',
  euro_dcat_ap_3: 'dcat_ap_de_3',
  dcat_ap_de_3: 'dcat_ap_de_3',
  // not a DCAT version: adds the deprecated properties for older harvesters (wantsCompat)
  compat: null,
}

export function parseProfiles(raw: string | undefined): DcatProfile {
  if (!raw) return 'dcat_ap_de_2'
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean)
  const unknown = names.filter((n) => !(n in PROFILES))
  if (unknown.length) throw new DcatRequestError(`Unknown RDF profiles: ${unknown.join(', ')}`)
  return names.some((n) => PROFILES[n] === 'dcat_ap_de_3') ? 'dcat_ap_de_3' : 'dcat_ap_de_2'
}

interface CatalogQuery {
  page?: string
  modified_since?: string
  q?: string
  fq?: string
  profiles?: string
  cursor?: string
  all?: string
  quality?: string
}

/** `?quality=1`: the MQA measurements as DQV with each dataset (dcat/quality.ts). */
const withQuality = (query: CatalogQuery) => query.quality === '1' || query.quality === 'true'
const QualityParam = Type.Optional(Type.String({ description: '1: add the stored MQA results as W3C DQV (dqv:hasQualityMeasurement), also with page=all' }))

const CatalogQuerySchema = Type.Object({
  page: Type.Optional(Type.String({ description: '1-based page number, or "all" for the whole catalog in one streamed document' })),
  modified_since: Type.Optional(Type.String({ description: 'ISO 8601: only datasets modified since then' })),
  q: Type.Optional(Type.String({ maxLength: 10000, description: 'package_search query' })),
  fq: Type.Optional(Type.String({ maxLength: 10000, description: 'package_search filter' })),
  profiles: Type.Optional(Type.String({ description: 'e.g. euro_dcat_ap_2,dcatap_de (DCAT-AP.de 2, default) or dcat_ap_de_3' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'Keyset position, as the hydra:next links carry it' })),
  all: Type.Optional(Type.String({ description: '1: the whole catalog, streamed' })),
  quality: QualityParam,
})

function encodeCursor(created: string, id: string): string {
  return Buffer.from(`${created}|${id}`).toString('base64url')
}

function decodeCursor(cursor: string): { created: string; id: string } {
  const [created, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|')
  if (!created || !id || !/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(created)) throw new DcatRequestError('Invalid cursor')
  return { created, id }
}

function httpDate(ckanTimestamp: string | null | undefined): string | undefined {
  if (!ckanTimestamp) return undefined
  const date = new Date(`${ckanTimestamp.slice(0, 23)}Z`)
  return Number.isNaN(date.getTime()) ? undefined : date.toUTCString()
}

/**
 * 304 when the client's copy is current, by ETag alone. The ETags name the position of the change feed (see
 * feedTag): any committed write anywhere changes them. If-Modified-Since is not honoured: a date cannot tell
 * (a purge makes the newest change older, writes within one second look alike), and a wrong 304 would hide a
 * change from a harvester.
 */
function notModified(request: FastifyRequest, etag: string): boolean {
  const ifNoneMatch = request.headers['if-none-match']
  return Boolean(ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*'))
}

/**
 * A weak ETag of a DCAT answer: the change feed's position (every write, of datasets, Kommunen or groups, on
 * any server, moves it; no clock is read) and what selects the representation.
 */
async function feedTag(service: CatalogService, ...parts: Array<string | number | null | undefined>): Promise<string> {
  const position = await service.changePosition()
  return `W/"${createHash('sha1').update([position, ...parts].join('|')).digest('base64url')}"`
}

export function registerDcatRoutes(app: FastifyInstance, deps: DcatDeps): void {
  const { service, search, config } = deps
  const pageSize = deps.pageSize ?? 100
  const base = config.baseUrl

  /** Every export maps with the catalog-wide check of the auxiliary IRIs of the datasets it holds (context.ts checkedDatasetQuads). */
  const checkedQuads = (profile: DcatProfile, dicts: readonly PackageDict[], compat: boolean) => checkedDatasetQuads(service, config, profile, dicts, compat)

  /**
   * The default export's Turtle of each public dataset, stored when it is written (fragment-store.ts has the
   * coherence rule): this process's own dataset writes render and store it before they answer; writes of other
   * processes (commands, another server) leave it to the next export, which renders what is missing or stale.
   */
  const fragments = new FragmentStore(service, config)
  service.onChange(async (change, origin) => {
    if (origin !== 'local' || change.kind !== 'datasets') return
    // The write is committed: a failure here leaves the fragment to be rendered at the next export.
    await fragments.refresh(change.keys).catch((err: unknown) => app.log.warn({ err }, 'storing DCAT fragments failed'))
  })

  const viewerOf = (request: FastifyRequest): Promise<Viewer> => deps.users.viewerForToken(tokenFromHeaders(request.headers))

  function filtersOf(query: CatalogQuery, orgId?: string): string[] {
    const fq: string[] = []
    if (query.fq) fq.push(query.fq)
    if (query.modified_since) {
      let iso: string
      try {
        iso = parseSolrDate(query.modified_since, new Date()).iso
      } catch {
        throw new DcatRequestError('Wrong modified date format. Use ISO-8601 format')
      }
      fq.push(`metadata_modified:[${iso}Z TO *]`)
    }
    if (orgId) fq.push(`owner_org:"${orgId}"`)
    return fq
  }

  /** The page URL with the kept parameters (modified_since, profiles, q, fq), as ckanext-dcat builds it. */
  function pageUrl(path: string, query: CatalogQuery, page: number, cursor?: string): string {
    const params = new URLSearchParams()
    for (const key of ['modified_since', 'profiles', 'q', 'fq', 'quality'] as const) if (query[key]) params.set(key, query[key]!)
    params.set('page', String(page))
    if (cursor) params.set('cursor', cursor)
    return `${base}${path}?${params.toString()}`
  }

  /** The hydra:PartialCollectionView of a catalog page (none for an empty result). */
  function hydraPageQuads(path: string, query: CatalogQuery, page: number, after: unknown, result: { count: number; ids: Array<{ id: string; created: string }> }): Quad[] {
    if (result.count === 0) return []
    const lastPage = Math.max(1, Math.ceil(result.count / pageSize))
    const lastRow = result.ids.at(-1)
    const hasNext = result.ids.length === pageSize && (after ? true : page * pageSize < result.count)
    return hydraQuads(pageUrl(path, query, page, query.cursor), {
      totalItems: result.count,
      itemsPerPage: pageSize,
      first: pageUrl(path, query, 1),
      last: pageUrl(path, query, lastPage),
      next: hasNext && lastRow ? pageUrl(path, query, page + 1, encodeCursor(lastRow.created, lastRow.id)) : undefined,
      previous: page > 1 ? pageUrl(path, query, page - 1) : undefined,
    })
  }

  async function sendCatalog(request: FastifyRequest, reply: FastifyReply, format: RdfFormat, path: string, orgId?: string) {
    usageOf(request)?.catalogVisit(request, orgId)
    const query = request.query as CatalogQuery
    const profile = parseProfiles(query.profiles)
    const viewer = await viewerOf(request)
    const fq = filtersOf(query, orgId)
    if (query.page === 'all' || query.all === '1' || query.all === 'true') return streamWholeCatalog(request, reply, format, profile, fq, query.q, viewer)
    let page = 1
    if (query.page !== undefined) {
      page = Number(query.page)
      if (!/^\d+$/.test(query.page) || !Number.isInteger(page) || page < 1) throw new DcatRequestError('Page param must be a positive integer starting in 1')
    }
    const after = query.cursor ? decodeCursor(query.cursor) : undefined
    const result = await search.catalogPage({ q: query.q, fq_list: fq, after, offset: (page - 1) * pageSize, limit: pageSize }, viewer)
    const etag = await feedTag(service, request.url, profile, format, viewer.userId)
    const lastModified = httpDate(result.lastModified)
    reply.header('ETag', etag).header('Vary', 'Accept, Authorization')
    if (lastModified) reply.header('Last-Modified', lastModified)
    if (notModified(request, etag)) return reply.code(304).send()
    if (isStoredRepresentation(format, profile, wantsCompat(query.profiles)) && !withQuality(query) && fragments.enabled) {
      const encoder = fragments.encoder()
      let texts: string[]
      try {
        texts = await fragments.texts(result.ids.map((r) => r.id), encoder, fragments.keys(encoder))
      } finally {
        encoder.close()
      }
      // The dcat:dataset links are in the fragments.
      const catalog = catalogQuads(
        { baseUrl: base, vocab: service.vocab },
        { title: config.siteTitle, description: config.siteDescription, homepage: base, language: config.localeDefault, modified: result.lastModified ?? undefined, datasetUris: [] },
      )
      const body = textHeader('ttl') + textFragment(catalog, 'ttl') + texts.join('') + textFragment(hydraPageQuads(path, query, page, after, result), 'ttl')
      return reply.type(`${contentType(format)}; charset=utf-8`).send(body)
    }
    const dicts = (await service.packageDicts(result.ids.map((r) => r.id), PUBLIC_DATASETS)) as PackageDict[]
    const quads: Quad[] = []
    quads.push(
      ...catalogQuads(
        { baseUrl: base, vocab: service.vocab },
        {
          title: config.siteTitle,
          description: config.siteDescription,
          homepage: base,
          language: config.localeDefault,
          modified: result.lastModified ?? undefined,
          datasetUris: dicts.map((d) => datasetUri(d, base)),
        },
      ),
    )
    for (const datasetQuads of await checkedQuads(profile, dicts, wantsCompat(query.profiles))) quads.push(...datasetQuads)
    if (withQuality(query)) {
      const scores = await storedQuality(service.db, dicts.map((d) => d.id))
      for (const dict of dicts) {
        const stored = scores.get(dict.id)
        if (stored) quads.push(...qualityQuads(datasetUri(dict, base), stored))
      }
    }
    quads.push(...hydraPageQuads(path, query, page, after, result))
    const body = await serialize(quads, format)
    return reply.type(`${contentType(format)}; charset=utf-8`).send(body)
  }

  /**
   * The whole catalog as one document, streamed: the datasets are read STREAM_DOCS at a time (the next ones while
   * the current ones are serialized) and written a batch at a time; memory stays flat whatever the catalog's
   * size. Turtle and N-Triples batches are serialized by a DatasetTextEncoder (partly in a worker thread, at most
   * STREAM_AHEAD batches ahead of the response); RDF/XML and JSON-LD here.
   */
  async function streamWholeCatalog(request: FastifyRequest, reply: FastifyReply, format: RdfFormat, profile: DcatProfile, fq: string[], q: string | undefined, viewer: Viewer) {
    const first = await search.catalogPage({ q, fq_list: fq, limit: 1 }, viewer)
    const lastModified = httpDate(first.lastModified)
    const etag = await feedTag(service, 'all', request.url, profile, format, viewer.userId)
    reply.header('ETag', etag).header('Vary', 'Accept, Authorization')
    if (lastModified) reply.header('Last-Modified', lastModified)
    if (notModified(request, etag)) return reply.code(304).send()
    reply.type(`${contentType(format)}; charset=utf-8`)
    if (request.method === 'HEAD') return reply.send()
    const stream = createRdfStream(format)
    const catalogIri = catalogUri(base)
    const quality = withQuality(request.query as CatalogQuery)

    /** The ids of the next keyset page (STREAM_IDS of them), and the position after it (none after the last). */
    type IdPage = { ids: string[]; after?: { created: string; id: string } }
    const idPage = async (after: { created: string; id: string } | undefined): Promise<IdPage> => {
      const page = await search.catalogPage({ q, fq_list: fq, after, limit: STREAM_IDS, withStats: false }, viewer)
      const last = page.ids.at(-1)
      return { ids: page.ids.map((r) => r.id), after: last && page.ids.length === STREAM_IDS ? { created: last.created, id: last.id } : undefined }
    }
    /** Some datasets' package_show JSON. */
    type Documents = { jsons: string[] }
    const documents = async (ids: string[]): Promise<Documents> => ({ jsons: (await service.packageJsons(ids, PUBLIC_DATASETS)).map((raw) => raw.json) })
    /**
     * The package_show JSON of every dataset, STREAM_DOCS at a time (parsed only when written, never held parsed:
     * parsed dicts, or JSON held longer, would outlive young-generation collections and grow the heap); the next
     * documents are read while the current ones are serialized.
     */
    async function* pages(): AsyncGenerator<Documents> {
      let page: IdPage | undefined = await idPage(undefined)
      let next: Promise<IdPage> | undefined
      let docs: Promise<Documents> | undefined
      let at = 0
      const take = (): Promise<Documents> | undefined => {
        if (!page) return undefined
        if (at >= page.ids.length) return undefined
        const chunk = documents(page.ids.slice(at, (at += STREAM_DOCS)))
        chunk.catch(() => undefined)
        return chunk
      }
      docs = take()
      while (page) {
        if (!next && page.after) {
          next = idPage(page.after)
          next.catch(() => undefined)
        }
        if (!docs) {
          page = next ? await next : undefined
          next = undefined
          at = 0
          docs = take()
          continue
        }
        const current: Documents = await docs
        docs = take()
        if (current.jsons.length) yield current
      }
    }
    const catalogNode = DataFactory.namedNode(catalogIri)
    const hasDataset = DataFactory.namedNode('http://www.w3.org/ns/dcat#dataset')
    /** The quads of some datasets (checked), each followed by its `<catalog> dcat:dataset <dataset>` link. */
    async function batchQuads(jsons: string[]): Promise<Quad[]> {
      const dicts = jsons.map((json) => JSON.parse(json) as PackageDict)
      const checked = await checkedQuads(profile, dicts, wantsCompat((request.query as CatalogQuery).profiles))
      // ?quality=1: each dataset's stored MQA results (DQV) follow its own quads; one query per batch.
      const scores = quality ? await storedQuality(service.db, dicts.map((d) => d.id)) : undefined
      const quads: Quad[] = []
      dicts.forEach((dict, i) => {
        const uri = datasetUri(dict, base)
        quads.push(...checked[i]!, DataFactory.quad(catalogNode, hasDataset, DataFactory.namedNode(uri)))
        const stored = scores?.get(dict.id)
        if (stored) quads.push(...qualityQuads(uri, stored))
      })
      return quads
    }

    const pump = (async () => {
      await stream.write(
        catalogQuads(
          { baseUrl: base, vocab: service.vocab },
          { title: config.siteTitle, description: config.siteDescription, homepage: base, language: config.localeDefault, modified: first.lastModified ?? undefined, datasetUris: [] },
        ),
      )
      const compat = wantsCompat((request.query as CatalogQuery).profiles)
      // With the quality measurements the datasets go through the quads path below (no stored or encoded text).
      if (!quality && isStoredRepresentation(format, profile, compat) && fragments.enabled && stream.writeFragment) {
        const encoder = fragments.encoder()
        const keys = fragments.keys(encoder)
        // Fragments stored as they are rendered for want of a usable one: a few such writes run ahead of the dump.
        const backlog: Array<Promise<void>> = []
        const ahead: Array<Promise<string[]>> = []
        try {
          let page: IdPage | undefined = await idPage(undefined)
          while (page) {
            let next: Promise<IdPage> | undefined
            if (page.after) {
              next = idPage(page.after)
              next.catch(() => undefined)
            }
            for (let i = 0; i < page.ids.length; i += STORED_BATCH) {
              const texts = fragments.texts(page.ids.slice(i, i + STORED_BATCH), encoder, keys, (write) => backlog.push(write))
              texts.catch(() => undefined)
              ahead.push(texts)
              while (ahead.length > STREAM_AHEAD) await stream.writeFragment(await ahead.shift()!)
              while (backlog.length > BACKFILL_AHEAD) await backlog.shift()
            }
            page = next ? await next : undefined
          }
          while (ahead.length) await stream.writeFragment(await ahead.shift()!)
          await Promise.all(backlog)
        } finally {
          encoder.close()
        }
      } else if (!quality && (format === 'ttl' || format === 'nt') && stream.writeFragment) {
        const encoder = new DatasetTextEncoder(
          { format, profile, compat, baseUrl: base, contributorId: config.contributorId, catalogUri: catalogIri },
          service.vocab,
          service.reference.organizations,
        )
        /**
         * The text of some datasets, with the catalog-wide check of their auxiliary IRIs (as checkedDatasetQuads
         * makes it): made optimistically, then the IRIs it describes looked up; made again without the taken ones
         * when there are any.
         */
        const checkedFragment = async (jsons: string[]): Promise<string[]> => {
          const optimistic = await encoder.encode(jsons, null)
          const taken = await takenIris(service, optimistic.asked)
          if (taken.size === 0) return optimistic.chunks
          return (await encoder.encode(jsons, optimistic.asked.filter((iri) => !taken.has(iri)))).chunks
        }
        const ahead: Array<Promise<string[]>> = []
        try {
          for await (const { jsons } of pages()) {
            for (let i = 0; i < jsons.length; i += STREAM_FRAGMENT) {
              const fragment = checkedFragment(jsons.slice(i, i + STREAM_FRAGMENT))
              fragment.catch(() => undefined)
              ahead.push(fragment)
              while (ahead.length > STREAM_AHEAD) await stream.writeFragment(await ahead.shift()!)
            }
          }
          while (ahead.length) await stream.writeFragment(await ahead.shift()!)
        } finally {
          encoder.close()
        }
      } else {
        const batchSize = format === 'jsonld' ? STREAM_BATCH_JSONLD : STREAM_BATCH
        for await (const { jsons } of pages()) {
          for (let i = 0; i < jsons.length; i += batchSize) await stream.write(await batchQuads(jsons.slice(i, i + batchSize)))
        }
      }
      await stream.end()
    })()
    pump.catch((err: Error) => {
      // A client that hangs up mid-dump is no server error.
      if (!(err instanceof RdfStreamClosedError)) request.log.error({ err }, 'catalog stream failed')
      stream.readable.destroy(err)
    })
    return reply.send(stream.readable)
  }

  async function sendDataset(request: FastifyRequest, reply: FastifyReply, idOrName: string, format: RdfFormat) {
    const query = request.query as CatalogQuery
    const profile = parseProfiles(query.profiles)
    const viewer = await viewerOf(request)
    const { dict, revision } = await service.showPackage(idOrName, viewer)
    usageOf(request)?.datasetView(request, String(dict.id), 'rdf')
    // Not the revision alone: the dataset's RDF also shows its Kommune and groups, and which other IRIs it may
    // describe depends on the URIs other datasets hold (describableIris); the feed's position covers all.
    const etag = await feedTag(service, revisionTag(String(dict.id), revision), format, profile, wantsCompat(query.profiles) ? 'compat' : '', viewer.userId, withQuality(query) ? 'quality' : '')
    const lastModified = httpDate(dict.metadata_modified as string)
    reply.header('ETag', etag).header('Vary', 'Accept, Authorization')
    if (lastModified) reply.header('Last-Modified', lastModified)
    if (notModified(request, etag)) return reply.code(304).send()
    const pkg = dict as PackageDict
    const quads = (await checkedQuads(profile, [pkg], wantsCompat(query.profiles)))[0]!
    if (withQuality(query)) {
      const stored = (await storedQuality(service.db, [pkg.id])).get(pkg.id)
      if (stored) quads.push(...qualityQuads(datasetUri(pkg, base), stored))
    }
    const body = await serialize(quads, format)
    return reply.type(`${contentType(format)}; charset=utf-8`).send(body)
  }

  const wrap = (handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      return await handler(request, reply)
    } catch (err) {
      if (err instanceof DcatRequestError) return reply.code(err.status).type('text/plain; charset=utf-8').send(err.message)
      if (err instanceof CatalogError) {
        return reply.code(errorBody(err).status).type('text/plain; charset=utf-8').send(err.message)
      }
      throw err
    }
  }

  const negotiated = (request: FastifyRequest): RdfFormat => {
    const format = negotiateFormat(request.headers.accept)
    if (!format) throw new DcatRequestError('Not Acceptable: use text/turtle, application/rdf+xml, application/ld+json or application/n-triples', 406)
    return format
  }

  const tags = ['DCAT-AP.de']
  const produces = ['text/turtle', 'application/rdf+xml', 'application/ld+json', 'application/n-triples']
  for (const [extension, format] of Object.entries(EXTENSIONS)) {
    app.get(`/catalog.${extension}`, { schema: { tags, summary: `The catalog as ${format} (Hydra-paged; page=all streams it whole)`, querystring: CatalogQuerySchema, produces } }, wrap((req, reply) => sendCatalog(req, reply, format, `/catalog.${extension}`)))
    app.get(`/organization/:name/catalog.${extension}`, { schema: { tags, summary: `One Kommune's catalog as ${format}`, querystring: CatalogQuerySchema, params: Type.Object({ name: Type.String() }), produces } }, wrap(async (req, reply) => {
      const org = service.reference.organization((req.params as { name: string }).name)
      if (!org) throw new CatalogError('not_found', 'Organization not found')
      return sendCatalog(req, reply, format, `/organization/${org.name}/catalog.${extension}`, org.id)
    }))
  }
  app.get('/catalog', { schema: { tags, summary: 'The catalog, format by Accept header', querystring: CatalogQuerySchema, produces } }, wrap((req, reply) => sendCatalog(req, reply, negotiated(req), '/catalog')))
  app.get('/dataset/:id', { schema: { tags, summary: 'One dataset: /dataset/{id}.ttl|.rdf|.xml|.jsonld|.nt, or by Accept header', params: Type.Object({ id: Type.String() }), querystring: Type.Object({ profiles: Type.Optional(Type.String()), quality: QualityParam }), produces } }, wrap((req, reply) => {
    const raw = (req.params as { id: string }).id
    const match = /^(.+)\.(ttl|rdf|xml|jsonld|nt)$/.exec(raw)
    return match ? sendDataset(req, reply, match[1]!, EXTENSIONS[match[2]!]!) : sendDataset(req, reply, raw, negotiated(req))
  }))
}
