import type { DatasetCore, Quad, Term } from '@rdfjs/types'

/** A string that identifies a term: the IRI, `_:id` for a blank node, N-Triples-like for a literal. */
export function termKey(term: Term): string {
  if (term.termType === 'NamedNode') return term.value
  if (term.termType === 'BlankNode') return `_:${term.value}`
  if (term.termType === 'Literal') return `"${term.value}"@${term.language}^^${term.datatype?.value ?? ''}`
  if (term.termType === 'DefaultGraph') return ''
  return `?${term.value}`
}

/**
 * An RDF/JS DatasetCore for the small graphs one validation run looks at (a dataset with its
 * distributions and the vocabulary entries it uses: a few hundred triples) and for the engine's
 * reports. Building an n3 Store for them cost more than the validation itself (three nested indexes and
 * a term dictionary per run, half of it garbage collection); three flat indexes by subject, predicate
 * and object are enough here. match() returns an array: the engine (grapoi) only iterates it.
 *
 * `classTargetsOnly`: when given, the question "which nodes are of class C" (rdf:type with no subject,
 * which is how the engine resolves sh:targetClass and nothing else) only finds these subjects. The
 * vocabulary entries are in the graph as values of the data, not to be checked themselves.
 */
export class SmallGraph implements DatasetCore {
  private readonly quads: Quad[] = []
  private readonly ids = new Set<string>()
  private readonly bySubject = new Map<string, Quad[]>()
  private readonly byPredicate = new Map<string, Quad[]>()
  private readonly byObject = new Map<string, Quad[]>()

  constructor(
    quads: Iterable<Quad> = [],
    private readonly classTargetsOnly?: ReadonlySet<string>,
  ) {
    for (const q of quads) this.add(q)
  }

  get size(): number {
    return this.quads.length
  }

  add(q: Quad): this {
    const s = termKey(q.subject)
    const o = termKey(q.object)
    const id = `${s}\u0001${q.predicate.value}\u0001${o}\u0001${termKey(q.graph)}`
    if (this.ids.has(id)) return this
    this.ids.add(id)
    this.quads.push(q)
    push(this.bySubject, s, q)
    push(this.byPredicate, q.predicate.value, q)
    push(this.byObject, o, q)
    return this
  }

  delete(q: Quad): this {
    const s = termKey(q.subject)
    const o = termKey(q.object)
    const id = `${s}\u0001${q.predicate.value}\u0001${o}\u0001${termKey(q.graph)}`
    if (!this.ids.delete(id)) return this
    const same = (x: Quad) => x.subject.equals(q.subject) && x.predicate.equals(q.predicate) && x.object.equals(q.object) && x.graph.equals(q.graph)
    remove(this.quads, same)
    remove(this.bySubject.get(s), same)
    remove(this.byPredicate.get(q.predicate.value), same)
    remove(this.byObject.get(o), same)
    return this
  }

  has(q: Quad): boolean {
    return this.ids.has(`${termKey(q.subject)}\u0001${q.predicate.value}\u0001${termKey(q.object)}\u0001${termKey(q.graph)}`)
  }

  match(subject?: Term | null, predicate?: Term | null, object?: Term | null, graph?: Term | null): DatasetCore {
    let candidates: Quad[] | undefined
    if (subject) candidates = this.bySubject.get(termKey(subject))
    else if (object) candidates = this.byObject.get(termKey(object))
    else if (predicate) candidates = this.byPredicate.get(predicate.value)
    else candidates = this.quads
    if (!candidates) return EMPTY
    const p = predicate ? predicate.value : null
    const o = object && subject ? termKey(object) : null
    const g = graph ? termKey(graph) : null
    let out: Quad[] = candidates
    if ((p !== null && (subject || object)) || o !== null || g !== null) {
      out = candidates.filter(
        (q) => (p === null || q.predicate.value === p) && (o === null || termKey(q.object) === o) && (g === null || termKey(q.graph) === g),
      )
    }
    if (this.classTargetsOnly && !subject && p === RDF_TYPE) out = out.filter((q) => this.classTargetsOnly!.has(termKey(q.subject)))
    return out as unknown as DatasetCore
  }

  [Symbol.iterator](): Iterator<Quad> {
    return this.quads[Symbol.iterator]()
  }
}

const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type'
const EMPTY = [] as unknown as DatasetCore

function push(index: Map<string, Quad[]>, k: string, q: Quad): void {
  const list = index.get(k)
  if (list) list.push(q)
  else index.set(k, [q])
}

function remove(list: Quad[] | undefined, same: (q: Quad) => boolean): void {
  if (!list) return
  const i = list.findIndex(same)
  if (i >= 0) list.splice(i, 1)
}
