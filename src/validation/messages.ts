/**
 * Generated German and English messages for SHACL results whose shape gives no message in that
 * language (the official shapes have German messages only, SEMIC's have none). The text is built
 * from the constraint component and its parameters, e.g.
 * "dct:title: mindestens 1 Wert erwartet, 0 gefunden" / "dct:title: at least 1 value expected, found 0".
 */
import type { Term } from '@rdfjs/types'
import { compact, NS } from './namespaces.js'

export interface LocalizedText {
  de: string
  en: string
}

export interface MessageInput {
  /** constraint component IRI, e.g. http://www.w3.org/ns/shacl#MinCountConstraintComponent */
  component: string
  /** compact path, e.g. `dct:title`; null for node shapes */
  path: string | null
  /** the path inside a vocabulary entry that was checked (e.g. `skos:inScheme`), for lifted results */
  innerPath?: string | null
  /** the focus node of the original result (the vocabulary entry for lifted results) */
  focus?: Term
  value?: Term
  /** number of values the focus node has for the path (for min/max count), when known */
  count?: number
  /** parameters of the constraint, read from the shape (`sh:minCount` -> [1], `sh:class` -> [iri]) */
  params: Map<string, Term[]>
}

const NODE_KIND: Record<string, LocalizedText> = {
  IRI: { de: 'eine IRI', en: 'an IRI' },
  Literal: { de: 'ein Literal (Text, Zahl oder Datum)', en: 'a literal (text, number or date)' },
  BlankNode: { de: 'ein Blank Node', en: 'a blank node' },
  BlankNodeOrIRI: { de: 'eine IRI oder ein Blank Node', en: 'an IRI or a blank node' },
  IRIOrLiteral: { de: 'eine IRI oder ein Literal', en: 'an IRI or a literal' },
  BlankNodeOrLiteral: { de: 'ein Blank Node oder ein Literal', en: 'a blank node or a literal' },
}

/** A term as an editor reads it: IRIs compacted, literals quoted. */
export function showTerm(term: Term | undefined): string {
  if (!term) return ''
  if (term.termType === 'NamedNode') return compact(term.value)
  if (term.termType === 'BlankNode') return `_:${term.value}`
  if (term.termType === 'Literal') {
    const dt = term.datatype?.value
    if (term.language) return `"${term.value}"@${term.language}`
    if (dt && dt !== `${NS.xsd}string`) return `"${term.value}"^^${compact(dt)}`
    return `"${term.value}"`
  }
  return term.value
}

function first(params: Map<string, Term[]>, name: string): Term | undefined {
  return params.get(NS.sh + name)?.[0]
}

function plural(n: number, de: [string, string], en: [string, string]): LocalizedText {
  return { de: n === 1 ? de[0] : de[1], en: n === 1 ? en[0] : en[1] }
}

/** Builds the fallback message of one result. */
export function generateMessage(input: MessageInput): LocalizedText {
  const local = input.component.startsWith(NS.sh) ? input.component.slice(NS.sh.length) : input.component
  const where = input.path ? `${input.path}: ` : ''
  const v = showTerm(input.value)
  const valueDe = v ? `Der Wert ${v}` : 'Der Wert'
  const valueEn = v ? `Value ${v}` : 'The value'
  const found = (lang: 'de' | 'en') =>
    input.count === undefined ? '' : lang === 'de' ? `, ${input.count} gefunden` : `, found ${input.count}`

  switch (local) {
    case 'MinCountConstraintComponent': {
      const n = Number(first(input.params, 'minCount')?.value ?? 1)
      const w = plural(n, ['Wert', 'Werte'], ['value', 'values'])
      return {
        de: `${where}mindestens ${n} ${w.de} erwartet${found('de')}`,
        en: `${where}at least ${n} ${w.en} expected${found('en')}`,
      }
    }
    case 'MaxCountConstraintComponent': {
      const n = Number(first(input.params, 'maxCount')?.value ?? 1)
      if (n === 0) {
        return {
          de: `${where}diese Eigenschaft soll nicht (mehr) verwendet werden${found('de')}`,
          en: `${where}this property should not be used (any more)${found('en')}`,
        }
      }
      const w = plural(n, ['Wert', 'Werte'], ['value', 'values'])
      return {
        de: `${where}höchstens ${n} ${w.de} erlaubt${found('de')}`,
        en: `${where}at most ${n} ${w.en} allowed${found('en')}`,
      }
    }
    case 'DatatypeConstraintComponent': {
      const dt = showTerm(first(input.params, 'datatype'))
      return {
        de: `${where}${valueDe} hat nicht den Datentyp ${dt} oder ist kein gültiger Wert dieses Typs`,
        en: `${where}${valueEn} does not have datatype ${dt} or is not a valid value of that type`,
      }
    }
    case 'NodeKindConstraintComponent': {
      const kindIri = first(input.params, 'nodeKind')?.value ?? ''
      const kind = NODE_KIND[kindIri.slice(NS.sh.length)] ?? { de: compact(kindIri), en: compact(kindIri) }
      return { de: `${where}${valueDe} muss ${kind.de} sein`, en: `${where}${valueEn} must be ${kind.en}` }
    }
    case 'ClassConstraintComponent': {
      const cls = (input.params.get(NS.sh + 'class') ?? []).map(showTerm).join(', ')
      return {
        de: `${where}${valueDe} muss vom Typ ${cls} sein (rdf:type fehlt oder passt nicht)`,
        en: `${where}${valueEn} must be of type ${cls} (rdf:type missing or wrong)`,
      }
    }
    case 'InConstraintComponent':
      return {
        de: `${where}${valueDe} ist nicht in der Liste der erlaubten Werte`,
        en: `${where}${valueEn} is not in the list of allowed values`,
      }
    case 'HasValueConstraintComponent': {
      const expected = showTerm(first(input.params, 'hasValue'))
      if (input.innerPath === 'skos:inScheme' && input.path) {
        const entry = showTerm(input.value ?? input.focus)
        return {
          de: `${input.path}: ${entry} ist kein Eintrag des Vokabulars ${expected}`,
          en: `${input.path}: ${entry} is not an entry of the vocabulary ${expected}`,
        }
      }
      if (input.path === 'skos:inScheme') {
        const entry = showTerm(input.focus)
        return {
          de: `${entry} ist kein Eintrag des Vokabulars ${expected}`,
          en: `${entry} is not an entry of the vocabulary ${expected}`,
        }
      }
      return { de: `${where}der Wert ${expected} wird erwartet`, en: `${where}the value ${expected} is expected` }
    }
    case 'PatternConstraintComponent': {
      const pattern = first(input.params, 'pattern')?.value ?? ''
      return {
        de: `${where}${valueDe} entspricht nicht dem Muster ${pattern}`,
        en: `${where}${valueEn} does not match the pattern ${pattern}`,
      }
    }
    case 'MinLengthConstraintComponent':
    case 'MaxLengthConstraintComponent': {
      const min = local.startsWith('Min')
      const n = first(input.params, min ? 'minLength' : 'maxLength')?.value ?? '?'
      return min
        ? { de: `${where}${valueDe} ist kürzer als ${n} Zeichen`, en: `${where}${valueEn} is shorter than ${n} characters` }
        : { de: `${where}${valueDe} ist länger als ${n} Zeichen`, en: `${where}${valueEn} is longer than ${n} characters` }
    }
    case 'LanguageInConstraintComponent':
      return {
        de: `${where}${valueDe} hat keine der erlaubten Sprachen`,
        en: `${where}${valueEn} does not have one of the allowed languages`,
      }
    case 'UniqueLangConstraintComponent':
      return {
        de: `${where}je Sprache ist nur ein Wert erlaubt`,
        en: `${where}only one value per language is allowed`,
      }
    case 'QualifiedMinCountConstraintComponent':
    case 'QualifiedMaxCountConstraintComponent': {
      const min = local.startsWith('QualifiedMin')
      const n = Number(first(input.params, min ? 'qualifiedMinCount' : 'qualifiedMaxCount')?.value ?? 1)
      const scheme = first(input.params, 'qualifiedValueScheme')
      const w = plural(n, ['Wert', 'Werte'], ['value', 'values'])
      const fromDe = scheme ? ` aus dem Vokabular ${showTerm(scheme)}` : ', die die Bedingung erfüllen,'
      const fromEn = scheme ? ` from the vocabulary ${showTerm(scheme)}` : ' that meet the condition'
      return min
        ? { de: `${where}mindestens ${n} ${w.de}${fromDe} erwartet`, en: `${where}at least ${n} ${w.en}${fromEn} expected` }
        : { de: `${where}höchstens ${n} ${w.de}${fromDe} erlaubt`, en: `${where}at most ${n} ${w.en}${fromEn} allowed` }
    }
    case 'NodeConstraintComponent': {
      const scheme = first(input.params, 'nodeScheme')
      if (scheme) {
        return {
          de: `${where}${v || 'der Wert'} ist kein Eintrag des Vokabulars ${showTerm(scheme)}`,
          en: `${where}${v || 'the value'} is not an entry of the vocabulary ${showTerm(scheme)}`,
        }
      }
      return {
        de: `${where}${valueDe} erfüllt die Bedingungen für diese Eigenschaft nicht`,
        en: `${where}${valueEn} does not meet the conditions for this property`,
      }
    }
    case 'AndConstraintComponent':
    case 'OrConstraintComponent':
    case 'XoneConstraintComponent':
      return {
        de: `${where}${valueDe} erfüllt die Bedingungen für diese Eigenschaft nicht`,
        en: `${where}${valueEn} does not meet the conditions for this property`,
      }
    case 'NotConstraintComponent':
      return {
        de: `${where}${valueDe} erfüllt eine ausgeschlossene Bedingung`,
        en: `${where}${valueEn} meets an excluded condition`,
      }
    case 'ClosedConstraintComponent':
      return {
        de: `${where}diese Eigenschaft ist hier nicht erlaubt`,
        en: `${where}this property is not allowed here`,
      }
    case 'MinInclusiveConstraintComponent':
    case 'MinExclusiveConstraintComponent':
    case 'MaxInclusiveConstraintComponent':
    case 'MaxExclusiveConstraintComponent':
      return {
        de: `${where}${valueDe} liegt außerhalb des erlaubten Bereichs`,
        en: `${where}${valueEn} is outside the allowed range`,
      }
    case 'EqualsConstraintComponent':
    case 'DisjointConstraintComponent':
    case 'LessThanConstraintComponent':
    case 'LessThanOrEqualsConstraintComponent':
      return {
        de: `${where}${valueDe} verletzt den Vergleich mit einer anderen Eigenschaft (${compact(input.component)})`,
        en: `${where}${valueEn} violates the comparison with another property (${compact(input.component)})`,
      }
    default:
      return {
        de: `${where}Bedingung ${compact(input.component)} nicht erfüllt${v ? ` (Wert ${v})` : ''}`,
        en: `${where}constraint ${compact(input.component)} not met${v ? ` (value ${v})` : ''}`,
      }
  }
}

const GERMAN_HINT = /\b(MUSS|SOLL|DARF|KANN|muss|soll|darf|nicht|verwenden|vorhanden|haben|genaue?|mindestens|höchstens|maximal|Datensatz|Wert)\b|[äöüÄÖÜß]/

/** Guesses the language of an untagged shape message (some official messages carry no tag). */
export function guessLanguage(text: string): 'de' | 'en' {
  return GERMAN_HINT.test(text) ? 'de' : 'en'
}
