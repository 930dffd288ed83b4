// Minimal typings for the parts of shacl-engine (plain JavaScript) that the validator uses.
declare module 'shacl-engine/Validator.js' {
  import type { DatasetCore, Term, Literal, NamedNode } from '@rdfjs/types'

  export interface EnginePtr {
    term: Term
    terms: Term[]
    value: string
    out(predicates?: Term[]): EnginePtr
  }

  export interface EnginePathStep {
    quantifier: 'one' | 'oneOrMore' | 'zeroOrMore' | 'zeroOrOne'
    start: 'subject' | 'object'
    end: 'subject' | 'object'
    predicates: Term[]
  }

  export interface EngineShape {
    ptr: EnginePtr
    message: Literal[]
    severity?: NamedNode
    path: EnginePathStep[] | null
  }

  export interface EngineResult {
    focusNode: EnginePtr
    path: EnginePathStep[] | null
    severity: NamedNode
    message: Literal[]
    shape: EngineShape
    value?: EnginePtr
    constraintComponent: NamedNode
    args: Record<string, unknown>
  }

  export interface EngineReport {
    conforms: boolean
    results: EngineResult[]
  }

  export default class Validator {
    constructor(shapes: DatasetCore, options: { factory: unknown; debug?: boolean; details?: boolean; trace?: boolean })
    validate(data: { dataset: DatasetCore; terms?: Iterable<Term> }, shapes?: Array<{ terms: Term[] }>): Promise<EngineReport>
  }
}

declare module 'shacl-engine/lib/Shape.js' {
  const Shape: { prototype: object }
  export default Shape
}
