/**
 * Harvest sources as pages of items: a CKAN Action API (package_search paged by `start`, `sort=id asc`, as
 * ckanext-harvest pages) and a DCAT-AP document (following hydra:next / hydra:nextPage). Each page is fetched
 * with the bounds of fetch.ts and parsed as it streams in; a source that misbehaves (a page that never ends,
 * a repeated page, a cycle, more pages than HARVEST_MAX_PAGES) throws, which fails its own job only.
 */
import { StreamParser } from 'n3'
import { RdfXmlParser } from 'rdfxml-streaming-parser'
import { DataFactory } from 'n3'
import type * as RDF from '@rdfjs/types'
import { parseRdf, rdfFormat, RdfParseError, type RdfFormat } from '../dcat/parse.js'
import { parsedToPackageDict, quadsToDatasets, type ParsedDataset } from '../dcat/mapping.js'
import type { Vocabularies } from '../catalog/vocabularies.js'
import { bodyText, harvestFetch, type FetchedBody, type FetchLimits } from './fetch.js'
import type { SourceConfig } from './tables.js'

/** One dataset of a source: its identity there and its CKAN dict (for packageFromDict). */
export interface HarvestItem {
  /** The source's identity of the dataset: its URI, else dct:identifier (DCAT), else the CKAN id. */
  guid: string
  sourceUri?: string
  identifier?: string
  modified?: string
  /** A CKAN package dict (owner_org and ids are set by the writer). */
  dict: Record<string, unknown>
  /** Set when the dataset cannot be taken (it is reported and skipped, never withdrawn for it). */
  error?: string
}

export interface HarvestPage {
  url: string
  items: HarvestItem[]
}

export class HarvestSourceError extends Error {
  override name = 'HarvestSourceError'
}

export interface SourceContext {
  limits: FetchLimits
  maxPages: number
  vocab: Vocabularies
}

// ---------------------------------------------------------------------------------------------------
// CKAN

/** The Action API base of a CKAN URL: `https://host[/path]` -> `https://host[/path]/api/3/action`. */
export function ckanActionBase(url: string): string {
  const trimmed = url.replace(/\/+$/, '')
  if (/\/api\/3\/action$/.test(trimmed)) return trimmed
  if (/\/api\/action$/.test(trimmed)) return trimmed
  return `${trimmed}/api/3/action`
}

/** Solr's date form of a CKAN timestamp, as ckanext-harvest writes it into fq. */
function solrDate(ckanTimestamp: string): string {
  return `${ckanTimestamp}Z`
}

/** A Solr phrase for an organization name (quotes and backslashes escaped). */
function solrPhrase(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

function extraValue(dict: Record<string, unknown>, key: string): string | undefined {
  const extras = Array.isArray(dict.extras) ? (dict.extras as Array<{ key?: unknown; value?: unknown }>) : []
  const value = extras.find((e) => e && e.key === key)?.value
  return typeof value === 'string' && value ? value : undefined
}

export interface CkanRunOptions {
  /** Incremental: only datasets modified since (a CKAN timestamp); undefined for a complete run. */
  modifiedSince?: string
}

export async function* ckanPages(
  url: string,
  config: SourceConfig,
  ctx: SourceContext,
  opts: CkanRunOptions,
): AsyncGenerator<HarvestPage> {
  const base = ckanActionBase(url)
  const site = base.replace(/\/api(\/3)?\/action$/, '')
  const rows = Math.min(Math.max(config.rows ?? 100, 1), 1000)
  const fq: string[] = []
  if (opts.modifiedSince) fq.push(`metadata_modified:[${solrDate(opts.modifiedSince)} TO *]`)
  if (config.organizations?.length) fq.push(`organization:(${config.organizations.map(solrPhrase).join(' OR ')})`)
  let start = 0
  let lastId: string | undefined
  let total: number | undefined
  for (let page = 0; ; page++) {
    if (page >= ctx.maxPages)
      throw new HarvestSourceError(`more than ${ctx.maxPages} pages (HARVEST_MAX_PAGES): the source does not end`)
    const query = new URLSearchParams({ q: '*:*', sort: 'id asc', start: String(start), rows: String(rows) })
    if (fq.length) query.set('fq', fq.join(' AND '))
    const pageUrl = `${base}/package_search?${query}`
    const fetched = await harvestFetch(pageUrl, 'application/json', ctx.limits)
    const text = await bodyText(fetched)
    let envelope: { success?: unknown; result?: { count?: unknown; results?: unknown } }
    try {
      envelope = JSON.parse(text) as typeof envelope
    } catch {
      throw new HarvestSourceError(`page ${page + 1} (${pageUrl}) is not JSON (truncated or not a CKAN API?)`)
    }
    const results = envelope?.result?.results
    if (envelope?.success !== true || !Array.isArray(results) || typeof envelope.result?.count !== 'number') {
      throw new HarvestSourceError(`page ${page + 1} (${pageUrl}) is not a CKAN package_search answer`)
    }
    total ??= envelope.result.count
    const items: HarvestItem[] = []
    for (const raw of results as unknown[]) {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw))
        throw new HarvestSourceError(`page ${page + 1} holds a result that is not a dict`)
      const dict = raw as Record<string, unknown>
      const id = typeof dict.id === 'string' ? dict.id : undefined
      if (!id) throw new HarvestSourceError(`page ${page + 1} holds a dataset without an id`)
      // sort=id asc: every id must follow the one before; a repeat means the source ignores `start`.
      if (lastId !== undefined && id <= lastId)
        throw new HarvestSourceError(
          `page ${page + 1} repeats or reorders datasets (id ${id.slice(0, 100)} after ${lastId.slice(0, 100)}): the source ignores start or sort`,
        )
      lastId = id
      // package_search without include_private shows only public datasets; a source that sends others anyway is not believed.
      if (dict.private === true || dict.private === 'true') continue
      if (dict.state !== undefined && dict.state !== 'active') continue
      const sourceUri = (typeof dict.uri === 'string' && dict.uri) || extraValue(dict, 'uri') || `${site}/dataset/${id}`
      items.push({
        guid: sourceUri,
        sourceUri,
        identifier:
          extraValue(dict, 'identifier') ?? (typeof dict.identifier === 'string' ? dict.identifier : undefined) ?? id,
        modified: typeof dict.metadata_modified === 'string' ? dict.metadata_modified : undefined,
        dict,
      })
    }
    if (results.length === 0) {
      // An empty page before the count is reached: the list changed under the crawl (offset paging then skips
      // datasets) or was cut short. Not a complete run, so nothing may be withdrawn.
      if (start < total)
        throw new HarvestSourceError(
          `page ${page + 1} is empty after ${start} of ${total} datasets: the source's list changed or was cut short`,
        )
      return
    }
    start += results.length
    if (start > total) throw new HarvestSourceError(`the source sent ${start} datasets but said it has ${total}`)
    yield { url: pageUrl, items }
    if (start >= total) return
  }
}

// ---------------------------------------------------------------------------------------------------
// DCAT

const HYDRA = 'http://www.w3.org/ns/hydra/core#'
const HYDRA_NEXT = new Set([`${HYDRA}next`, `${HYDRA}nextPage`])

/** Parses a fetched body into quads as it streams in (Turtle, N-Triples, RDF/XML); JSON-LD is read whole (bounded). */
async function parseBody(fetched: FetchedBody, format: RdfFormat): Promise<RDF.Quad[]> {
  if (format === 'jsonld') return parseRdf(await bodyText(fetched), format, { baseIri: fetched.url })
  const quads: RDF.Quad[] = []
  const parser =
    format === 'rdf'
      ? new RdfXmlParser({
          dataFactory: DataFactory as unknown as RDF.DataFactory,
          baseIRI: fetched.url,
          validateUri: false,
        })
      : new StreamParser({ format: format === 'ttl' ? 'text/turtle' : 'N-Triples', baseIRI: fetched.url })
  let failure: Error | undefined
  parser.on('data', (q: RDF.Quad) => quads.push(q))
  parser.on('error', (err: Error) => (failure ??= err))
  const ended = new Promise<void>((resolve) => parser.on('end', () => resolve()))
  const decoder = new TextDecoder('utf-8')
  const label = format === 'rdf' ? 'RDF/XML' : format === 'ttl' ? 'Turtle' : 'N-Triples'
  try {
    for await (const chunk of fetched.body) {
      parser.write(decoder.decode(chunk, { stream: true }))
      if (failure) break
    }
    if (!failure) {
      parser.write(decoder.decode())
      parser.end()
      await Promise.race([ended, new Promise((resolve) => parser.on('error', resolve))])
    }
  } catch (err) {
    if (err instanceof Error && err.name !== 'HarvestFetchError' && !failure) failure = err
    else throw err
  }
  if (failure) throw new RdfParseError(`invalid ${label}: ${failure.message}`, format, failure)
  if (format === 'rdf') {
    // The XML parser ends quietly on a cut-off document: a truncated catalog page must not look complete.
    const sax = (parser as unknown as { saxParser?: { closedRoot?: boolean } }).saxParser
    if (sax && sax.closedRoot === false)
      throw new RdfParseError('invalid RDF/XML: the document ends before its root element is closed', 'rdf')
  }
  return quads
}

/**
 * A DCAT dataset as a CKAN package dict: the import half of the one DCAT mapping (src/dcat/mapping.ts
 * parsedToPackageDict, what package_show would answer after storing it), so export and import share one
 * mapping. The writer then treats it as any CKAN source's dict (its ids and timestamps are not kept).
 */
function parsedToDict(parsed: ParsedDataset, vocab: Vocabularies): Record<string, unknown> {
  return parsedToPackageDict(parsed, { vocab, id: PLACEHOLDER_ID, now: PLACEHOLDER_NOW }) as unknown as Record<
    string,
    unknown
  >
}
const PLACEHOLDER_ID = '00000000-0000-4000-8000-000000000000'
const PLACEHOLDER_NOW = '2000-01-01T00:00:00.000000'

export async function* dcatPages(url: string, config: SourceConfig, ctx: SourceContext): AsyncGenerator<HarvestPage> {
  const visited = new Set<string>()
  let next: string | undefined = url
  for (let page = 0; next; page++) {
    if (page >= ctx.maxPages)
      throw new HarvestSourceError(`more than ${ctx.maxPages} pages (HARVEST_MAX_PAGES): the source does not end`)
    if (visited.has(next))
      throw new HarvestSourceError(
        `hydra:next leads back to ${next.slice(0, 300)}, a page already read (a paging cycle)`,
      )
    visited.add(next)
    const fetched = await harvestFetch(
      next,
      'text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8, application/n-triples;q=0.7',
      ctx.limits,
    )
    const format =
      (config.format ? rdfFormat(config.format) : undefined) ??
      rdfFormat(fetched.contentType) ??
      guessFormat(fetched.url)
    if (!format)
      throw new HarvestSourceError(
        `cannot tell the RDF format of ${fetched.url.slice(0, 300)} (Content-Type "${fetched.contentType.slice(0, 100)}"): set the source's format`,
      )
    const quads = await parseBody(fetched, format)
    const link = nextLink(quads, fetched.url, next)
    if (link && !/^https?:/.test(link))
      throw new HarvestSourceError(`hydra:next is not an http(s) URL: ${link.slice(0, 300)}`)
    const items = quadsToDatasets(quads, { vocab: ctx.vocab }).map((parsed): HarvestItem => {
      const identifier = parsed.extras.find((e) => e.key === 'identifier')?.value
      const modified = parsed.extras.find((e) => e.key === 'modified')?.value
      // The identity from run to run: the dataset's IRI, else its dct:identifier. Never its name: a name is made
      // from the title, and a changed title would otherwise be a new dataset (and the old one withdrawn).
      const guid = parsed.uri ?? identifier
      if (!guid)
        return {
          guid: '',
          error: `the dataset "${parsed.title.slice(0, 200)}" has neither an IRI nor a dct:identifier: it cannot be recognised from run to run and is skipped`,
          dict: {},
        }
      return { guid, sourceUri: parsed.uri, identifier, modified, dict: parsedToDict(parsed, ctx.vocab) }
    })
    yield { url: fetched.url, items }
    next = link
  }
}

/**
 * The next page: hydra:next / hydra:nextPage of this page (its subject is the page's URL, as ckanext-dcat
 * writes it); failing that, the one next link the page has. Several different ones that are not this page's: an error.
 */
function nextLink(quads: RDF.Quad[], pageUrl: string, requested: string): string | undefined {
  const links = quads.filter(
    (q) => HYDRA_NEXT.has(q.predicate.value) && (q.object.termType === 'Literal' || q.object.termType === 'NamedNode'),
  )
  const resolve = (q: RDF.Quad) => new URL(q.object.value, pageUrl).href
  const own = links.find((q) => q.subject.value === pageUrl || q.subject.value === requested)
  if (own) return resolve(own)
  const distinct = [...new Set(links.map(resolve))]
  if (distinct.length > 1)
    throw new HarvestSourceError(
      `the page ${pageUrl.slice(0, 300)} names ${distinct.length} different next pages, none of them as its own`,
    )
  return distinct[0]
}

function guessFormat(url: string): RdfFormat | undefined {
  const ext = new URL(url).pathname.split('.').pop() ?? ''
  return rdfFormat(ext)
}
