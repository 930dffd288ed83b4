/**
 * `godonu validate FILE|URL|- ...`: checks DCAT-AP.de documents with the dcat-ap-validator, for people and for
 * pipelines.
 *
 * - Input: files, http(s) URLs and `-` (stdin), several at once. The format comes from `--format`, else the
 *   response's content type (URLs) or the file extension, else (stdin, unknown extension) from the first
 *   characters of the document.
 * - Output: `--output text` (default; one line per finding in `--lang de|en`, then a summary line when several
 *   inputs were given) or `--output json` (one JSON document: every input with its findings, each with
 *   severity, focus node, path, value, shape, constraint and the messages in German and English).
 * - Exit status: 0 every input conforms, 1 some input has violations, 2 some input is unusable (missing,
 *   empty, unparseable, unknown format, unreachable URL) or the command line is wrong. Each problem is one
 *   line on stderr, never a stack trace.
 * - Blank nodes are named by the path from the nearest named node (`<https://…/dataset/x> dct:temporal`), not
 *   by parser labels that change from run to run.
 */
import { readFileSync, statSync } from 'node:fs'
import { extname } from 'node:path'
import { parseArgs } from 'node:util'
import type { Quad, Term } from '@rdfjs/types'
import { parseRdf, rdfFormat, RdfParseError, type RdfFormat } from '../dcat/parse.js'
import { compact } from '../validation/namespaces.js'
import {
  createValidator,
  ShapesNotAvailableError,
  type Finding,
  type Profile,
  type ValidationReport,
  type Validator,
} from '../validation/index.js'

export const VALIDATE_USAGE =
  'usage: godonu validate FILE|URL|- [...] [--profile dcat_ap_de_2|dcat_ap_de_3] [--shapes own|official] ' +
  '[--format ttl|rdf|jsonld|nt] [--output text|json] [--lang de|en]'

const LANGS = ['de', 'en'] as const
const OUTPUTS = ['text', 'json'] as const
const FORMATS: readonly RdfFormat[] = ['ttl', 'rdf', 'jsonld', 'nt']
/** Larger inputs are refused (the validator holds a document in memory). */
const MAX_BYTES = 256 * 1024 * 1024
const FETCH_TIMEOUT_MS = 30_000

type Lang = (typeof LANGS)[number]

/** A problem with an input that makes it unusable (exit 2), in one line. */
export class UnusableInput extends Error {}

export interface ValidateOptions {
  profile: Profile
  shapes: 'own' | 'official'
  format?: RdfFormat
  output: 'text' | 'json'
  lang: Lang
}

/** One finding as printed and as written to JSON. */
export interface FindingOut {
  severity: Finding['severity']
  /** the IRI, or for a blank node the path from the nearest named node */
  focusNode: string
  path: string | null
  value: string | null
  shape: string | null
  constraint: string | null
  message: { de: string; en: string }
}

export interface InputResult {
  source: string
  /** null when the input was unusable */
  format: RdfFormat | null
  status: 'conforms' | 'violations' | 'unusable'
  error?: string
  counts?: ValidationReport['counts']
  findings?: FindingOut[]
}

/** Parses the command line; throws UnusableInput (exit 2) with one line for a wrong one. */
export function parseValidateArgs(args: string[]): { sources: string[]; options: ValidateOptions } {
  let parsed
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        profile: { type: 'string', default: 'dcat_ap_de_2' },
        shapes: { type: 'string', default: 'own' },
        format: { type: 'string' },
        output: { type: 'string', default: 'text' },
        lang: { type: 'string', default: 'de' },
      },
    })
  } catch (err) {
    throw new UnusableInput(`${(err as Error).message} (${VALIDATE_USAGE})`)
  }
  const { values, positionals } = parsed
  if (positionals.length === 0) throw new UnusableInput(VALIDATE_USAGE)
  if (values.profile !== 'dcat_ap_de_2' && values.profile !== 'dcat_ap_de_3') {
    throw new UnusableInput(`--profile must be dcat_ap_de_2 or dcat_ap_de_3, not "${values.profile}"`)
  }
  if (values.shapes !== 'own' && values.shapes !== 'official') {
    throw new UnusableInput(`--shapes must be own or official, not "${values.shapes}"`)
  }
  if (!(LANGS as readonly string[]).includes(values.lang)) {
    throw new UnusableInput(`--lang must be de or en, not "${values.lang}"`)
  }
  if (!(OUTPUTS as readonly string[]).includes(values.output)) {
    throw new UnusableInput(`--output must be text or json, not "${values.output}"`)
  }
  let format: RdfFormat | undefined
  if (values.format !== undefined) {
    format = rdfFormat(values.format)
    if (!format || !FORMATS.includes(format)) {
      throw new UnusableInput(`--format must be one of ${FORMATS.join(', ')}, not "${values.format}"`)
    }
  }
  if (positionals.filter((p) => p === '-').length > 1) throw new UnusableInput('stdin (-) can be read only once')
  return {
    sources: positionals,
    options: {
      profile: values.profile,
      shapes: values.shapes,
      format,
      output: values.output as ValidateOptions['output'],
      lang: values.lang as Lang,
    },
  }
}

/** The format of a document from its first characters (stdin, unknown extensions). */
export function sniffFormat(text: string): RdfFormat {
  const start = text.replace(/^\uFEFF/, '').trimStart()
  if (start.startsWith('{') || start.startsWith('[')) return 'jsonld'
  if (start.startsWith('<?xml') || /^<(!--|rdf:RDF|[A-Za-z_][\w.-]*:RDF)/.test(start)) return 'rdf'
  return 'ttl'
}

function formatOfExtension(source: string): RdfFormat | 'unknown' | undefined {
  const ext = extname(source).slice(1).toLowerCase()
  if (!ext) return undefined
  if (ext === 'json') return 'jsonld'
  return rdfFormat(ext) ?? 'unknown'
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BYTES) throw new UnusableInput(`stdin is larger than ${MAX_BYTES} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads one input: its text and the format it has (or undefined: decide from the content). */
export async function readInput(
  source: string,
  forced?: RdfFormat,
): Promise<{ text: string; format: RdfFormat; baseIri: string }> {
  let text: string
  let declared: RdfFormat | 'unknown' | undefined
  let baseIri: string
  if (source === '-') {
    text = await readStdin()
    baseIri = 'urn:godonu:stdin'
  } else if (/^https?:\/\//i.test(source)) {
    let response: Response
    try {
      response = await fetch(source, {
        headers: {
          accept: 'text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8, application/n-triples;q=0.7',
        },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      })
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      throw new UnusableInput(`cannot fetch: ${cause?.code ?? cause?.message ?? (err as Error).message}`)
    }
    if (!response.ok) throw new UnusableInput(`cannot fetch: HTTP ${response.status}`)
    const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase()
    declared =
      rdfFormat(type) ??
      (type === '' || type === 'text/plain' || type === 'application/octet-stream'
        ? formatOfExtension(new URL(source).pathname)
        : 'unknown')
    if (declared === 'unknown' && !forced)
      throw new UnusableInput(`unknown format: content type "${type}" (use --format)`)
    text = await response.text()
    baseIri = source
  } else {
    try {
      const stat = statSync(source)
      if (stat.isDirectory()) throw new UnusableInput('is a directory')
      if (stat.size > MAX_BYTES) throw new UnusableInput(`larger than ${MAX_BYTES} bytes`)
      text = readFileSync(source, 'utf8')
    } catch (err) {
      if (err instanceof UnusableInput) throw err
      const code = (err as NodeJS.ErrnoException).code
      throw new UnusableInput(code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (err as Error).message})`)
    }
    declared = formatOfExtension(source)
    if (declared === 'unknown' && !forced)
      throw new UnusableInput(`unknown format: extension "${extname(source)}" (use --format ttl|rdf|jsonld|nt)`)
    baseIri = new URL(`file://${source.startsWith('/') ? '' : '/'}${encodeURI(source)}`).href
  }
  if (text.replace(/^\uFEFF/, '').trim() === '') throw new UnusableInput('empty input')
  const format = forced ?? (declared && declared !== 'unknown' ? declared : sniffFormat(text))
  return { text, format, baseIri }
}

/**
 * Names for the focus nodes of a report: a blank node is shown as the path from the nearest named node
 * (`<https://…/dataset/x> dcat:distribution / spdx:checksum`), found by walking the links to it backwards.
 */
export function blankNodeNamer(quads: readonly Quad[]): (id: string) => string {
  const incoming = new Map<string, Array<{ subject: Term; predicate: string }>>()
  for (const q of quads) {
    if (q.object.termType !== 'BlankNode') continue
    const k = `_:${q.object.value}`
    let list = incoming.get(k)
    if (!list) incoming.set(k, (list = []))
    list.push({ subject: q.subject, predicate: q.predicate.value })
  }
  const cache = new Map<string, string>()
  return (id: string) => {
    if (!id.startsWith('_:')) return id
    const cached = cache.get(id)
    if (cached) return cached
    // breadth first: the shortest path from a named node; ties broken by the smallest IRI and predicate
    const seen = new Set([id])
    let frontier: Array<{ node: string; steps: string[] }> = [{ node: id, steps: [] }]
    let name: string | undefined
    for (let depth = 0; frontier.length && depth < 50 && !name; depth++) {
      const next: typeof frontier = []
      const found: string[] = []
      for (const { node, steps } of frontier) {
        for (const link of incoming.get(node) ?? []) {
          const path = [compact(link.predicate), ...steps]
          if (link.subject.termType === 'NamedNode') found.push(`<${link.subject.value}> ${path.join(' / ')}`)
          else {
            const k = `_:${link.subject.value}`
            if (!seen.has(k)) {
              seen.add(k)
              next.push({ node: k, steps: path })
            }
          }
        }
      }
      if (found.length) name = found.sort()[0]
      frontier = next
    }
    const result = name ?? '[] (a blank node no named node links to)'
    cache.set(id, result)
    return result
  }
}

function findingOut(f: Finding, name: (id: string) => string): FindingOut {
  return {
    severity: f.severity,
    focusNode: name(f.focusNode),
    path: f.path,
    value: f.value === undefined ? null : name(f.value),
    shape: f.sourceShape ?? null,
    constraint: f.constraint ?? null,
    message: { de: f.message.de, en: f.message.en },
  }
}

/** Validates one input; never throws for a problem of the input itself. */
export async function validateInput(
  source: string,
  options: ValidateOptions,
  validator: Validator,
): Promise<InputResult> {
  let format: RdfFormat | null = null
  try {
    const input = await readInput(source, options.format)
    format = input.format
    let quads: Quad[]
    try {
      quads = await parseRdf(input.text, input.format, { baseIri: input.baseIri })
    } catch (err) {
      if (err instanceof RdfParseError) throw new UnusableInput(`not valid ${input.format}: ${oneLine(err.message)}`)
      throw err
    }
    if (quads.length === 0) throw new UnusableInput(`no RDF statements in the ${input.format} document`)
    const report = await validator.validate(quads)
    const name = blankNodeNamer(quads)
    return {
      source,
      format,
      status: report.conforms ? 'conforms' : 'violations',
      counts: report.counts,
      findings: report.findings.map((f) => findingOut(f, name)),
    }
  } catch (err) {
    if (err instanceof UnusableInput) return { source, format, status: 'unusable', error: err.message }
    throw err
  }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 300 ? `${line.slice(0, 297)}...` : line
}

const LABELS: Record<Lang, Record<FindingOut['severity'], string>> = {
  de: { violation: 'Fehler', warning: 'Warnung', info: 'Hinweis' },
  en: { violation: 'Violation', warning: 'Warning', info: 'Info' },
}

/** The text report of one input: a head line, then one line per finding. */
export function renderText(result: InputResult, lang: Lang, withSource: boolean): string[] {
  const prefix = withSource ? `${result.source}: ` : ''
  if (result.status === 'unusable') return []
  const c = result.counts!
  const head =
    lang === 'de'
      ? `${prefix}${result.status === 'conforms' ? 'Konform' : 'Nicht konform'}: ${c.violation} Fehler, ${c.warning} Warnungen, ${c.info} Hinweise`
      : `${prefix}${result.status === 'conforms' ? 'Conforms' : 'Does not conform'}: ${c.violation} violations, ${c.warning} warnings, ${c.info} infos`
  const node = (n: string) => (n.startsWith('<') || n.startsWith('[') ? n : `<${n}>`)
  const lines = result.findings!.map(
    (f) =>
      `${prefix}${LABELS[lang][f.severity]}: ${node(f.focusNode)}${f.path ? ` ${compactPath(f.path)}` : ''}${f.value !== null ? ` = ${f.value}` : ''}: ${f.message[lang]}`,
  )
  return [head, ...lines]
}

function compactPath(path: string): string {
  return path.startsWith('http') ? compact(path) : path.replace(/<([^>]+)>/g, (_, iri: string) => compact(iri))
}

/** The summary line for several inputs. */
export function summaryLine(results: InputResult[], lang: Lang): string {
  const n = (s: InputResult['status']) => results.filter((r) => r.status === s).length
  return lang === 'de'
    ? `${results.length} Dokumente: ${n('conforms')} konform, ${n('violations')} mit Fehlern, ${n('unusable')} nicht lesbar`
    : `${results.length} documents: ${n('conforms')} conform, ${n('violations')} with violations, ${n('unusable')} unusable`
}

export function exitCode(results: InputResult[]): 0 | 1 | 2 {
  if (results.some((r) => r.status === 'unusable')) return 2
  if (results.some((r) => r.status === 'violations')) return 1
  return 0
}

/**
 * A write to stdout that ends the process quietly when the reader has gone (`| head`): EPIPE is not an
 * error of the validation.
 */
function guardStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(process.exitCode ?? 0)
    process.stderr.write(`godonu: cannot write the report: ${err.code ?? err.message}\n`)
    process.exit(2)
  })
}

function write(line: string): void {
  process.stdout.write(`${line}\n`)
}

/** `godonu validate ...`; resolves with the exit code. */
export async function runValidate(args: string[]): Promise<0 | 1 | 2> {
  guardStdout()
  let parsed
  try {
    parsed = parseValidateArgs(args)
  } catch (err) {
    if (err instanceof UnusableInput) {
      process.stderr.write(`godonu: ${err.message}\n`)
      return 2
    }
    throw err
  }
  const { sources, options } = parsed
  let validator: Validator
  try {
    validator = await createValidator({ profile: options.profile, shapes: options.shapes })
  } catch (err) {
    if (err instanceof ShapesNotAvailableError) {
      process.stderr.write(`godonu: --shapes ${options.shapes}: ${err.message}\n`)
      return 2
    }
    throw err
  }
  const results: InputResult[] = []
  const several = sources.length > 1
  for (const source of sources) {
    const result = await validateInput(source, options, validator)
    results.push(result)
    // the status so far, for an early end (the reader of stdout has gone)
    process.exitCode = exitCode(results)
    if (result.status === 'unusable') process.stderr.write(`godonu: ${source}: ${result.error}\n`)
    if (options.output === 'text') for (const line of renderText(result, options.lang, several)) write(line)
  }
  if (options.output === 'json') {
    const document = {
      profile: options.profile,
      shapes: validator.shapeSet,
      exitCode: exitCode(results),
      summary: {
        documents: results.length,
        conforms: results.filter((r) => r.status === 'conforms').length,
        violations: results.filter((r) => r.status === 'violations').length,
        unusable: results.filter((r) => r.status === 'unusable').length,
      },
      results,
    }
    write(JSON.stringify(document, null, 2))
  } else if (several) write(summaryLine(results, options.lang))
  return exitCode(results)
}
