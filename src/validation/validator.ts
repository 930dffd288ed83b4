/**
 * dcat-ap-validator: checks DCAT-AP.de RDF (RDF/JS quads) with SHACL.
 *
 * - Shapes: our own (catalog/shapes/, profiles `dcat_ap_de_2` and `dcat_ap_de_3`) or the official
 *   GovData/SEMIC sets from ../shared (see official.ts), or any list of Turtle files.
 * - Engine: shacl-engine (fast, checks lexical forms such as "gestern"^^xsd:date). It resolves
 *   sh:class subclasses from the SHAPES graph, so the class axioms of
 *   catalog/vocabularies-rdf/class-axioms.ttl go into every shapes graph.
 * - Background data: before each run the SKOS triples (skos:inScheme, rdf:type, labels) of every
 *   vocabulary IRI the data uses are added (vocabulary-graph.ts). Findings about those background
 *   nodes themselves are dropped; findings about a vocabulary IRI the data uses (e.g. the official
 *   shapes' nested "skos:inScheme must be <file-type>" check) are reported on the data node that
 *   uses it (focus = the distribution, path = dct:format, value = the IRI).
 *
 * Shapes are parsed and compiled once per profile / shape set and shared by all validators.
 */
import { DataFactory, Parser, Store } from 'n3'
import type { DatasetCore, Quad, Term } from '@rdfjs/types'
import EngineValidator, { type EnginePathStep, type EngineResult } from 'shacl-engine/Validator.js'
import './engine-patch.js'
import { generateMessage, guessLanguage, type LocalizedText } from './messages.js'
import { compact, NS } from './namespaces.js'
import {
  isOfficialShapeSet,
  officialSetForProfile,
  officialShapeFiles,
  officialShapesMissingReason,
  type OfficialShapeSet,
} from './official.js'
import { SmallGraph, termKey } from './small-graph.js'
import { CATALOG_DIR, parseTurtleFile, vocabularyGraph, type VocabularyGraph } from './vocabulary-graph.js'

export type Profile = 'dcat_ap_de_2' | 'dcat_ap_de_3'
export type Severity = 'violation' | 'warning' | 'info'

export interface ValidatorOptions {
  /** DCAT-AP.de version to check against; default `dcat_ap_de_2` (what GovData validates with). */
  profile?: Profile
  /**
   * `own` (default): our shapes in catalog/shapes/. `official`: the official set for the profile
   * (official-de-2 or official-de-3). An official set name, or explicit Turtle files.
   */
  shapes?: 'own' | 'official' | OfficialShapeSet | { files: string[] }
}

export interface Finding {
  /** IRI of the node the finding is about, or `_:id` for a blank node */
  focusNode: string
  /** full IRI of the property (`http://purl.org/dc/terms/title`), a SPARQL-style path, or null */
  path: string | null
  severity: Severity
  message: LocalizedText
  /** the offending value (IRI or literal lexical form), when the constraint names one */
  value?: string
  /** IRI of the shape that produced the finding (nearest named shape for blank-node shapes) */
  sourceShape?: string
  /** constraint component, compact (`sh:MinCountConstraintComponent`) */
  constraint?: string
}

export interface ValidationReport {
  /** true when there is no violation (warnings and infos do not break conformance) */
  conforms: boolean
  counts: { violation: number; warning: number; info: number }
  findings: Finding[]
}

export interface Validator {
  readonly profile: Profile
  /** `own:dcat_ap_de_2`, `official-de-2`, `files:...` */
  readonly shapeSet: string
  /** the shape files in use */
  readonly files: readonly string[]
  validate(quads: Iterable<Quad>): Promise<ValidationReport>
}

export class ShapesNotAvailableError extends Error {}

/** Our own shape files per profile (relative to catalog/shapes/). */
export const OWN_PROFILE_FILES: Record<Profile, string[]> = {
  dcat_ap_de_2: ['common.ttl', 'dcat-ap-de-2.ttl'],
  dcat_ap_de_3: ['common.ttl', 'dcat-ap-de-3.ttl'],
}
export const SHAPES_DIR = `${CATALOG_DIR}/shapes`

const { namedNode } = DataFactory
const factory = { ...DataFactory, dataset: (quads?: Quad[]) => new SmallGraph(quads) }

const SEVERITY: Record<string, Severity> = {
  [`${NS.sh}Violation`]: 'violation',
  [`${NS.sh}Warning`]: 'warning',
  [`${NS.sh}Info`]: 'info',
}
const RDF_TYPE = `${NS.rdf}type`
const SEVERITY_ORDER: Record<Severity, number> = { violation: 0, warning: 1, info: 2 }
const TARGET_PREDICATES = ['targetClass', 'targetNode', 'targetObjectsOf', 'targetSubjectsOf', 'target'].map(
  (p) => NS.sh + p,
)
const SHAPE_LINKS = ['property', 'node', 'qualifiedValueShape', 'not'].map((p) => NS.sh + p)

/**
 * An RDF/JS DatasetCore view of an n3 Store whose match() returns a plain array. n3's own match()
 * builds a stream-capable dataset per call; grapoi calls match() very often and only iterates the
 * result (measured: 5-15 % less validation time).
 */
function fastDataset(store: Store): DatasetCore {
  const view = {
    get size() {
      return store.size
    },
    // grapoi only iterates the result, so an array is enough
    match: (s?: Term | null, p?: Term | null, o?: Term | null, g?: Term | null) =>
      store.getQuads((s ?? null) as never, (p ?? null) as never, (o ?? null) as never, (g ?? null) as never),
    add(q: Quad) {
      store.addQuad(q as never)
      return view
    },
    delete(q: Quad) {
      store.removeQuad(q as never)
      return view
    },
    has: (q: Quad) => store.has(q as never),
    [Symbol.iterator]: () => store.getQuads(null, null, null, null)[Symbol.iterator](),
  }
  return view as unknown as DatasetCore
}

/** A string that identifies a term: the IRI, `_:id` for a blank node, N-Triples-like for a literal. */
const key = termKey

/** How a finding names its focus node: the IRI, or `_:id` for a blank node, or a literal's text. */
function nodeName(term: Term): string {
  return term.termType === 'Literal' ? term.value : key(term)
}

/** Parsed and compiled shapes of one profile / shape set. */
class CompiledShapes {
  readonly engine: EngineValidator
  /**
   * The shapes that can select focus nodes: those with a target, and node shapes that are classes too
   * (SHACL's implicit class targets). The engine would otherwise ask every shape it has compiled,
   * including the ~170 nested property shapes, to resolve targets on every run.
   */
  readonly targetShapes: Array<{ terms: Term[] }>
  readonly store: Store
  /** shapes that are targeted, and the property shapes they link directly */
  private readonly targeted = new Set<string>()
  private readonly named = new Map<string, string | undefined>()
  private readonly params = new Map<string, Map<string, Term[]>>()
  private readonly uses = new Map<string, Map<string, Set<string>>>()
  private readonly supers = new Map<string, Set<string>>()

  constructor(
    readonly id: string,
    readonly files: string[],
    vocab: VocabularyGraph,
  ) {
    const quads: Quad[] = []
    for (const file of files) {
      for (const q of parseTurtleFile(file)) {
        // never follow owl:imports: everything needed ships in catalog/
        if (q.predicate.value !== `${NS.owl}imports`) quads.push(q)
      }
    }
    quads.push(...vocab.classAxioms)
    this.store = new Store(quads)
    const roots = new Map<string, Term>()
    for (const p of TARGET_PREDICATES) {
      for (const q of this.store.getQuads(null, namedNode(p), null, null)) {
        roots.set(key(q.subject), q.subject)
        this.targeted.add(key(q.subject))
        for (const child of this.store.getObjects(q.subject, namedNode(`${NS.sh}property`), null)) {
          this.targeted.add(key(child))
        }
      }
    }
    this.engine = new EngineValidator(fastDataset(this.store), { factory })
    const rdfType = namedNode(`${NS.rdf}type`)
    for (const shape of this.store.getSubjects(rdfType, namedNode(`${NS.sh}NodeShape`), null)) {
      const isClass = [`${NS.rdfs}Class`, `${NS.owl}Class`].some((cls) => this.store.has(DataFactory.quad(shape as never, rdfType, namedNode(cls))))
      if (isClass) roots.set(key(shape), shape)
    }
    this.targetShapes = [...roots.values()].map((term) => ({ terms: [term] }))
  }

  /**
   * shacl-engine compiles each shape on its first use; validating one typed node per target class
   * (and one triple per target predicate) does that up front, so the first real validation is fast.
   */
  async warmUp(): Promise<void> {
    const warm = new Store()
    const rdfType = namedNode(`${NS.rdf}type`)
    let i = 0
    const node = () => namedNode(`urn:godonu:warm-up:${i++}`)
    for (const cls of this.store.getObjects(null, namedNode(`${NS.sh}targetClass`), null)) {
      warm.addQuad(node(), rdfType, cls as never)
    }
    for (const p of ['targetObjectsOf', 'targetSubjectsOf']) {
      for (const pred of this.store.getObjects(null, namedNode(NS.sh + p), null)) {
        if (pred.termType === 'NamedNode') warm.addQuad(node(), pred, node())
      }
    }
    if (warm.size > 0) await this.engine.validate({ dataset: fastDataset(warm) }, this.targetShapes)
  }

  isTargeted(shape: Term): boolean {
    return this.targeted.has(key(shape))
  }

  /**
   * Where a nested value shape (e.g. the `skos:inScheme` check inside a `dct:language` rule) is
   * used: the predicates of the property shapes above it, each with the classes their node shapes
   * target (empty = no class target, any subject). A result of the nested shape is lifted only to
   * the data uses `(subject, predicate)` that such a rule can have checked: a value used both as
   * `dct:language` of a dataset and as `dct:Language` (a typo) of the catalog is reported once.
   */
  usesOf(shape: Term): Map<string, Set<string>> {
    const k = key(shape)
    let uses = this.uses.get(k)
    if (uses) return uses
    uses = new Map()
    this.uses.set(k, uses)
    const seen = new Set<string>()
    const up = (s: Term, depth: number): void => {
      if (depth > 6 || seen.has(key(s))) return
      seen.add(key(s))
      const path = this.store.getObjects(s, namedNode(`${NS.sh}path`), null)[0]
      if (path?.termType === 'NamedNode' && depth > 0 && path.value !== `${NS.skos}inScheme`) {
        const classes = uses.get(path.value) ?? new Set<string>()
        uses.set(path.value, classes)
        for (const parent of this.store.getSubjects(namedNode(`${NS.sh}property`), s, null)) {
          for (const c of this.store.getObjects(parent, namedNode(`${NS.sh}targetClass`), null)) classes.add(c.value)
        }
        return
      }
      for (const link of SHAPE_LINKS) {
        for (const parent of this.store.getSubjects(namedNode(link), s, null)) up(parent, depth + 1)
      }
    }
    up(shape, 0)
    return uses
  }

  /** The class and all its superclasses (rdfs:subClassOf in the shapes graph). */
  superClasses(cls: string): Set<string> {
    let all = this.supers.get(cls)
    if (all) return all
    all = new Set([cls])
    const queue = [cls]
    while (queue.length) {
      for (const sup of this.store.getObjects(namedNode(queue.pop()!), namedNode(`${NS.rdfs}subClassOf`), null)) {
        if (!all.has(sup.value)) {
          all.add(sup.value)
          queue.push(sup.value)
        }
      }
    }
    this.supers.set(cls, all)
    return all
  }

  /** The shape's IRI, or for a blank-node shape the IRI of the nearest named shape that links it. */
  shapeName(shape: Term): string | undefined {
    const k = key(shape)
    if (this.named.has(k)) return this.named.get(k)
    let name: string | undefined
    if (shape.termType === 'NamedNode') name = shape.value
    else {
      this.named.set(k, undefined) // guards against cycles
      for (const link of SHAPE_LINKS) {
        for (const parent of this.store.getSubjects(namedNode(link), shape, null)) {
          name = this.shapeName(parent)
          if (name) break
        }
        if (name) break
      }
      if (!name) {
        // shapes inside an RDF list (sh:or ( [...] [...] )): walk up rdf:rest/rdf:first
        const holder = this.listOwner(shape)
        if (holder) name = this.shapeName(holder)
      }
    }
    this.named.set(k, name)
    return name
  }

  private listOwner(member: Term): Term | undefined {
    let cell = this.store.getSubjects(namedNode(`${NS.rdf}first`), member, null)[0]
    for (let i = 0; cell && i < 1000; i++) {
      const prev = this.store.getSubjects(namedNode(`${NS.rdf}rest`), cell, null)[0]
      if (!prev) break
      cell = prev
    }
    if (!cell) return undefined
    return this.store.getQuads(null, null, cell, null).find((q) => q.predicate.value.startsWith(NS.sh))?.subject
  }

  /** sh:* parameters of a shape, plus `sh:qualifiedValueScheme` / `sh:nodeScheme` (derived, ours) for messages. */
  shapeParams(shape: Term): Map<string, Term[]> {
    const k = key(shape)
    let params = this.params.get(k)
    if (params) return params
    params = new Map()
    for (const q of this.store.getQuads(shape, null, null, null)) {
      if (!q.predicate.value.startsWith(NS.sh)) continue
      const list = params.get(q.predicate.value) ?? []
      list.push(q.object)
      params.set(q.predicate.value, list)
    }
    const qvs = params.get(`${NS.sh}qualifiedValueShape`)?.[0]
    if (qvs) {
      const scheme = this.inSchemeOf(qvs)
      if (scheme) params.set(`${NS.sh}qualifiedValueScheme`, [scheme])
    }
    const node = params.get(`${NS.sh}node`)?.[0]
    if (node) {
      const scheme = this.inSchemeOf(node)
      if (scheme) params.set(`${NS.sh}nodeScheme`, [scheme])
    }
    this.params.set(k, params)
    return params
  }

  /** For a shape that requires `skos:inScheme <X>` (directly, via sh:property or sh:node): X. */
  private inSchemeOf(shape: Term, depth = 0): Term | undefined {
    if (depth > 3) return undefined
    const path = this.store.getObjects(shape, namedNode(`${NS.sh}path`), null)[0]
    const hasValue = this.store.getObjects(shape, namedNode(`${NS.sh}hasValue`), null)[0]
    if (path?.value === `${NS.skos}inScheme` && hasValue) return hasValue
    for (const link of [`${NS.sh}property`, `${NS.sh}node`]) {
      for (const child of this.store.getObjects(shape, namedNode(link), null)) {
        const found = this.inSchemeOf(child, depth + 1)
        if (found) return found
      }
    }
    return undefined
  }
}

const compiled = new Map<string, Promise<CompiledShapes>>()

function compile(id: string, files: string[]): Promise<CompiledShapes> {
  let entry = compiled.get(id)
  if (!entry) {
    entry = Promise.resolve().then(async () => {
      const shapes = new CompiledShapes(id, files, vocabularyGraph())
      await shapes.warmUp()
      return shapes
    })
    entry.catch(() => compiled.delete(id))
    compiled.set(id, entry)
  }
  return entry
}

/** Which shape files a set of options means, and the cache key for them. */
export function resolveShapeFiles(opts: ValidatorOptions = {}): { id: string; files: string[] } {
  const profile = opts.profile ?? 'dcat_ap_de_2'
  const shapes = opts.shapes ?? 'own'
  if (shapes === 'own') {
    return { id: `own:${profile}`, files: OWN_PROFILE_FILES[profile].map((f) => `${SHAPES_DIR}/${f}`) }
  }
  if (typeof shapes === 'object') {
    return { id: `files:${shapes.files.join('|')}`, files: [...shapes.files] }
  }
  const set = shapes === 'official' ? officialSetForProfile(profile) : shapes
  if (!isOfficialShapeSet(set)) throw new ShapesNotAvailableError(`unknown shape set "${String(set)}"`)
  const files = officialShapeFiles(set)
  if (!files) throw new ShapesNotAvailableError(officialShapesMissingReason(set) ?? `shape set ${set} not available`)
  return { id: set, files }
}

/** Creates a validator; shapes are parsed once per profile / shape set and then cached. */
export async function createValidator(opts: ValidatorOptions = {}): Promise<Validator> {
  const profile = opts.profile ?? 'dcat_ap_de_2'
  const { id, files } = resolveShapeFiles(opts)
  const shapes = await compile(id, files)
  const vocab = vocabularyGraph()
  return {
    profile,
    shapeSet: id,
    files,
    validate: (quads) => runValidation(shapes, vocab, quads),
  }
}

function pathToString(path: EnginePathStep[] | null): string | null {
  if (!path || path.length === 0) return null
  const step = (s: EnginePathStep): string => {
    // alternatives sorted, so that (a|b) and (b|a) compare equal
    const preds = s.predicates
      .map((p) => (path.length === 1 && s.predicates.length === 1 ? p.value : `<${p.value}>`))
      .sort()
    let text = preds.length > 1 ? `(${preds.join('|')})` : preds[0]
    if (s.start === 'object') text = `^${text}`
    if (s.quantifier === 'oneOrMore') text += '+'
    if (s.quantifier === 'zeroOrMore') text += '*'
    if (s.quantifier === 'zeroOrOne') text += '?'
    return text
  }
  if (path.length === 1) return step(path[0])
  return path.map(step).join('/')
}

function pathLabel(path: EnginePathStep[] | null): string | null {
  if (!path || path.length === 0) return null
  return path
    .map((s) => {
      const text = s.predicates.map((p) => compact(p.value)).join(' | ')
      return s.start === 'object' ? `^${text}` : text
    })
    .join(' / ')
}

function countValues(store: SmallGraph, focus: Term, path: EnginePathStep[] | null): number | undefined {
  if (!path || path.length !== 1) return undefined
  const s = path[0]
  if (s.quantifier !== 'one') return undefined
  const values = new Set<string>()
  for (const p of s.predicates) {
    const quads =
      s.start === 'subject'
        ? store.match(focus, p, null, null)
        : store.match(null, p, focus, null)
    for (const q of quads as Iterable<Quad>) values.add(key(s.start === 'subject' ? q.object : q.subject) + '|' + q.object.termType)
  }
  return values.size
}

interface RawFinding {
  focus: Term
  path: string | null
  pathLabel: string | null
  innerPath: string | null
  severity: Severity
  result: EngineResult
  value?: Term
}

async function runValidation(shapes: CompiledShapes, vocab: VocabularyGraph, input: Iterable<Quad>): Promise<ValidationReport> {
  const data = [...input]
  const dataSubjects = new Set<string>()
  const usedBy = new Map<string, Array<{ subject: Term; predicate: Term }>>()
  const terms: Term[] = []
  const types = new Map<string, string[]>()
  for (const q of data) {
    dataSubjects.add(key(q.subject))
    if (q.predicate.value === RDF_TYPE) {
      const list = types.get(key(q.subject))
      if (list) list.push(q.object.value)
      else types.set(key(q.subject), [q.object.value])
    }
    terms.push(q.object)
    {
      const k = key(q.object)
      let list = usedBy.get(k)
      if (!list) usedBy.set(k, (list = []))
      list.push({ subject: q.subject, predicate: q.predicate })
    }
  }
  const typesOf = (subject: Term): string[] => types.get(key(subject)) ?? []
  const background = vocab.quadsFor(terms)
  const backgroundSubjects = new Set(background.map((q) => key(q.subject)))
  const store = new SmallGraph(data, dataSubjects)
  for (const q of background) store.add(q)

  // Only data nodes are class-targeted focus nodes (see SmallGraph): findings on background nodes were dropped anyway.
  const report = await shapes.engine.validate({ dataset: store }, shapes.targetShapes)

  const raw: RawFinding[] = []
  for (const result of report.results) {
    const severity = SEVERITY[result.severity.value]
    if (!severity) continue // debug / trace entries
    const focus = result.focusNode.term
    const value = result.value?.term
    const base = {
      path: pathToString(result.path),
      pathLabel: pathLabel(result.path),
      innerPath: null,
      severity,
      result,
      value,
    }
    const fk = key(focus)
    const targeted = shapes.isTargeted(result.shape.ptr.term)
    const users = usedBy.get(fk)
    // A result of a nested shape (e.g. the official `dct:format` -> `skos:inScheme` check) is about
    // a value the data uses: report it on the node that uses the value (focus = the distribution,
    // path = dct:format, value = the IRI). Otherwise keep data nodes; drop background nodes
    // (vocabulary entries targeted by class) and anything the data does not mention.
    if (targeted || !users) {
      if (dataSubjects.has(fk) || (focus.termType === 'Literal' && !users)) {
        raw.push({ ...base, focus })
        continue
      }
      if (backgroundSubjects.has(fk) && targeted) continue
      if (!users) continue
    }
    const contexts = shapes.usesOf(result.shape.ptr.term)
    const fits = (use: { subject: Term; predicate: Term }): boolean => {
      if (contexts.size === 0) return true // no rule above the shape found: keep every use
      const classes = contexts.get(use.predicate.value)
      if (!classes) return false
      if (classes.size === 0) return true
      for (const t of typesOf(use.subject)) for (const c of shapes.superClasses(t)) if (classes.has(c)) return true
      return false
    }
    for (const use of users) {
      if (!fits(use)) continue
      raw.push({
        focus: use.subject,
        path: use.predicate.value,
        pathLabel: compact(use.predicate.value),
        innerPath: base.pathLabel,
        severity,
        result,
        value: focus,
      })
    }
  }

  const findings: Finding[] = []
  const seen = new Set<string>()
  for (const f of raw) {
    const shapeTerm = f.result.shape.ptr.term
    const finding: Finding = {
      focusNode: nodeName(f.focus),
      path: f.path,
      severity: f.severity,
      message: messageFor(shapes, store, f),
      constraint: compact(f.result.constraintComponent.value),
    }
    if (f.value) finding.value = nodeName(f.value)
    const source = shapes.shapeName(shapeTerm)
    if (source) finding.sourceShape = source
    // one finding per shape and message: a shape whose several constraints fail together (e.g.
    // sh:nodeKind and sh:pattern) reports once
    const id = [finding.focusNode, finding.path, finding.severity, finding.value, finding.sourceShape, finding.message.de].join('\u0000')
    if (seen.has(id)) continue
    seen.add(id)
    findings.push(finding)
  }
  findings.sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      a.focusNode.localeCompare(b.focusNode) ||
      (a.path ?? '').localeCompare(b.path ?? '') ||
      (a.constraint ?? '').localeCompare(b.constraint ?? ''),
  )
  const counts = { violation: 0, warning: 0, info: 0 }
  for (const f of findings) counts[f.severity]++
  return { conforms: counts.violation === 0, counts, findings }
}

function messageFor(shapes: CompiledShapes, store: SmallGraph, f: RawFinding): LocalizedText {
  const text: Partial<LocalizedText> = {}
  // the shape's own sh:message (with {$var} placeholders resolved by the engine); engine default
  // messages (when the shape has none) are replaced by our generated ones
  if (f.result.shape.message.length > 0) {
    for (const m of f.result.message) {
      const lang = m.language ? (m.language.toLowerCase().startsWith('de') ? 'de' : m.language.toLowerCase().startsWith('en') ? 'en' : null) : guessLanguage(m.value)
      if (lang && !text[lang]) text[lang] = m.value.trim()
    }
  }
  if (text.de && text.en) return text as LocalizedText
  const shapeTerm = f.result.shape.ptr.term
  const generated = generateMessage({
    component: f.result.constraintComponent.value,
    path: f.pathLabel,
    innerPath: f.innerPath,
    focus: f.result.focusNode.term,
    value: f.value,
    count: f.innerPath === null ? countValues(store, f.focus, f.result.path) : undefined,
    params: shapes.shapeParams(shapeTerm),
  })
  return { de: text.de ?? generated.de, en: text.en ?? generated.en }
}

/** Drops the cached shapes (tests; after editing shape files in a running process). */
export function clearShapeCache(): void {
  compiled.clear()
}

/** Parses Turtle (or N-Triples) and validates it; a convenience for exports and tests. */
export async function validateTurtle(
  turtle: string,
  opts: ValidatorOptions & { baseIRI?: string } = {},
): Promise<ValidationReport> {
  const quads = new Parser({ baseIRI: opts.baseIRI }).parse(turtle) as Quad[]
  return (await createValidator(opts)).validate(quads)
}

/** A plain-text rendering of a report, one line per finding, in German or English. */
export function formatReport(report: ValidationReport, lang: 'de' | 'en' = 'de'): string {
  const label = lang === 'de' ? { violation: 'Fehler', warning: 'Warnung', info: 'Hinweis' } : { violation: 'Violation', warning: 'Warning', info: 'Info' }
  const head =
    lang === 'de'
      ? `${report.conforms ? 'Konform' : 'Nicht konform'}: ${report.counts.violation} Fehler, ${report.counts.warning} Warnungen, ${report.counts.info} Hinweise`
      : `${report.conforms ? 'Conforms' : 'Does not conform'}: ${report.counts.violation} violations, ${report.counts.warning} warnings, ${report.counts.info} infos`
  const lines = report.findings.map(
    (f) => `${label[f.severity]}: <${f.focusNode}>${f.path ? ` ${compact(f.path)}` : ''}${f.value ? ` = ${f.value}` : ''}: ${f.message[lang]}`,
  )
  return [head, ...lines].join('\n')
}
