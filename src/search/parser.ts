/**
 * Parser for the Solr/Lucene query subset that CKAN clients and harvesters send in package_search
 * `q` / `fq` (see ast.ts for the tree and its semantics).
 *
 * Grammar (whitespace between tokens is insignificant):
 *   query    := sequence EOF                       (empty → match all)
 *   sequence := orChain ( orChain )*               (juxtaposition = the implicit operator)
 *   orChain  := andChain ( ('OR' | '||') andChain )*
 *   andChain := unit ( ('AND' | '&&') unit )*
 *   unit     := modifier* clause
 *   modifier := '+' | '-' | 'NOT' | '!'
 *   clause   := '(' sequence ')' [boost]
 *             | FIELD ':' value
 *             | value
 *   value    := TERM [fuzzy] [boost] | '"' phrase '"' [slop] [boost] | range [boost] | '(' sequence ')' [boost]
 *   range    := ('[' | '{') bound 'TO' bound (']' | '}')      bound := '*' | RANGE_TEXT | '"' text '"'
 *
 * Precedence, loosest first: implicit operator (juxtaposition) < OR < AND < modifiers.
 * The implicit operator binding loosest is deliberate: CKAN harvesters join filters with spaces,
 * e.g. `organization:a OR organization:b metadata_modified:[X TO *]`, meaning (a OR b) AND range.
 * (Pass `implicitOperatorPrecedence: 'same'` to treat juxtaposition exactly like an explicit
 * defaultOperator instead.)
 *
 * Modifiers follow Lucene's BooleanQuery clause rules, resolved into and/or/not:
 *   - in an AND (or implicit-AND) group: `x`/`+x` required, `-x`/`NOT x` prohibited;
 *   - in an OR (or implicit-OR) group: `+x` required, `-x` prohibited, plain clauses optional; optional
 *     clauses only count when there is no required one (`a OR -b` = a AND NOT b, `+a b` = a);
 *   - a group of only prohibited clauses matches everything except them (Solr's pure-negative rule),
 *     at any nesting level.
 *
 * Every failure is a SearchQueryError; nothing else is thrown for any string input. Input length,
 * nesting depth and the number of leaf clauses are bounded (ast.ts MAX_*), and the parser is a single
 * left-to-right pass without backtracking, so time is linear in the input length.
 */

import {
  MAX_CLAUSES,
  MAX_DEPTH,
  MAX_QUERY_LENGTH,
  SearchQueryError,
  type Query,
  type RangeBound,
  type TermQuery,
  type WildcardPart,
} from './ast.js'

export { SearchQueryError } from './ast.js'

export interface ParseOptions {
  /** Operator between juxtaposed clauses. CKAN: 'AND' for q (q.op=AND) and fq. */
  defaultOperator: 'AND' | 'OR'
  /**
   * 'lucene' (default): the standard Lucene/Solr syntax; syntax errors throw.
   * 'dismax': what CKAN does for a `q` without a colon (Solr dismax): only words, "phrases", `+`/`-`,
   * AND/OR and `*`/`?` wildcards count; every other special character is treated as a word separator;
   * unbalanced quotes are dropped; and a query that still does not parse is read as plain words. Only the
   * hard limits (length, clauses) throw. Fields are never recognised in this mode.
   */
  syntax?: 'lucene' | 'dismax'
  /** 'lowest' (default): juxtaposition binds looser than OR. 'same': juxtaposition = explicit defaultOperator. */
  implicitOperatorPrecedence?: 'lowest' | 'same'
}

/** Field names: `[A-Za-z_][A-Za-z0-9_.-]*` (case kept, existence not checked). */
export const FIELD_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.\-]*$/

/** Parses a q/fq string. Throws SearchQueryError (and nothing else) on invalid input. */
export function parseQuery(input: string, opts: ParseOptions): Query {
  try {
    return parseQueryUnchecked(input, opts)
  } catch (e) {
    if (e instanceof SearchQueryError) throw e
    // Defensive: a bug must still surface as a 400-class search error, never as a crash.
    throw new SearchQueryError(`Cannot parse query (${e instanceof Error ? e.message : String(e)})`)
  }
}

function parseQueryUnchecked(input: unknown, opts: ParseOptions): Query {
  if (typeof input !== 'string') throw new SearchQueryError('the query must be a string')
  if (input.length > MAX_QUERY_LENGTH) {
    throw new LimitError(`the query is longer than ${MAX_QUERY_LENGTH} characters`)
  }
  const defaultOperator = opts?.defaultOperator === 'OR' ? 'OR' : 'AND'
  const implicitLowest = opts?.implicitOperatorPrecedence !== 'same'
  if (opts?.syntax === 'dismax') {
    const text = dismaxPrepare(input)
    const tokens = lex(text)
    try {
      return new Parser(tokens, defaultOperator, implicitLowest).parseTop()
    } catch (e) {
      if (e instanceof LimitError || !(e instanceof SearchQueryError)) throw e
      return new Parser(tokens, defaultOperator, implicitLowest).parseFlat()
    }
  }
  return new Parser(lex(input), defaultOperator, implicitLowest).parseTop()
}

/** Limit violations: never recovered from, not even in dismax mode. */
class LimitError extends SearchQueryError {}

// ---------------------------------------------------------------------------------------------
// Lexer

type SimpleTokenType = 'AND' | 'OR' | 'NOT' | 'PLUS' | 'MINUS' | 'LPAREN' | 'RPAREN' | 'COLON' | 'BOOST' | 'FUZZY' | 'EOF'

type Token =
  | { t: SimpleTokenType; pos: number; text: string }
  | {
      t: 'TERM'
      pos: number
      /** the source text of the token */
      text: string
      /** unescaped pieces, wildcards structural; consecutive `*` collapsed */
      parts: WildcardPart[]
      /** true if the token had no escapes (so it can be a field name or an operator) */
      bare: boolean
    }
  | { t: 'QUOTED'; pos: number; text: string; value: string }
  | {
      t: 'RANGE'
      pos: number
      text: string
      from: RangeBound | null
      to: RangeBound | null
      includeFrom: boolean
      includeTo: boolean
    }

/** Lucene's whitespace plus anything JS calls whitespace (NBSP, U+3000, ...). */
function isWs(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || /\s/.test(c)
}

/** Characters that end a term (besides whitespace). `:` ends it too, except in a field value. */
const TERM_STOP = new Set(['!', '(', ')', ':', '^', '[', ']', '"', '{', '}', '~'])

function describe(tok: Token): string {
  if (tok.t === 'EOF') return 'the end of the query'
  const shown = tok.text.length > 40 ? `${tok.text.slice(0, 40)}…` : tok.text
  return `'${shown}'`
}

/** Reads `\X` at s[i] (s[i] === '\\'); returns [char, nextIndex]. */
function readEscape(s: string, i: number, what: string): [string, number] {
  if (i + 1 >= s.length) throw new SearchQueryError(`${what} ends with a lone escape character '\\'`, i)
  const next = s[i + 1]
  if (next === 'u' && /^[0-9A-Fa-f]{4}$/.test(s.slice(i + 2, i + 6))) {
    return [String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16)), i + 6]
  }
  const cp = s.codePointAt(i + 1)!
  const ch = String.fromCodePoint(cp)
  return [ch, i + 1 + ch.length]
}

function lex(s: string): Token[] {
  const tokens: Token[] = []
  const n = s.length
  let i = 0
  while (i < n) {
    const c = s[i]
    if (isWs(c)) {
      i++
      continue
    }
    const pos = i
    const simple = (t: SimpleTokenType, len: number) => {
      tokens.push({ t, pos, text: s.slice(pos, pos + len) })
      i += len
    }
    if (c === '(') simple('LPAREN', 1)
    else if (c === ')') simple('RPAREN', 1)
    else if (c === ':') simple('COLON', 1)
    else if (c === '+') simple('PLUS', 1)
    else if (c === '-') simple('MINUS', 1)
    else if (c === '!') simple('NOT', 1)
    else if (c === '&' && s[i + 1] === '&') simple('AND', 2)
    else if (c === '|' && s[i + 1] === '|') simple('OR', 2)
    else if (c === '^') {
      const m = /^\^(\d+(?:\.\d+)?|\.\d+)/.exec(s.slice(i, i + 32))
      if (!m) throw new SearchQueryError("a boost '^' must be followed by a number", pos)
      simple('BOOST', m[0].length)
    } else if (c === '~') {
      const m = /^~(\d+(?:\.\d+)?|\.\d+)?/.exec(s.slice(i, i + 32))!
      simple('FUZZY', m[0].length)
    } else if (c === ']' || c === '}') {
      throw new SearchQueryError(`unexpected '${c}' without a matching '${c === ']' ? '[' : '{'}'`, pos)
    } else if (c === '"') {
      const [value, end] = readQuoted(s, i)
      tokens.push({ t: 'QUOTED', pos, text: s.slice(pos, end), value })
      i = end
    } else if (c === '[' || c === '{') {
      const tok = readRange(s, i)
      tokens.push(tok)
      i = pos + tok.text.length
    } else {
      const prev = tokens.length > 0 ? tokens[tokens.length - 1] : null
      const valueMode = prev !== null && prev.t === 'COLON'
      const tok = readTerm(s, i, valueMode)
      i = pos + tok.text.length
      if (tok.bare && (tok.text === 'AND' || tok.text === 'OR' || tok.text === 'NOT')) {
        tokens.push({ t: tok.text, pos, text: tok.text })
      } else {
        tokens.push(tok)
      }
    }
  }
  tokens.push({ t: 'EOF', pos: n, text: '' })
  return tokens
}

/** s[start] === '"'. Returns the unescaped content and the index after the closing quote. */
function readQuoted(s: string, start: number): [string, number] {
  let i = start + 1
  let value = ''
  while (i < s.length) {
    const c = s[i]
    if (c === '\\') {
      const [ch, next] = readEscape(s, i, 'a quoted phrase')
      value += ch
      i = next
    } else if (c === '"') {
      return [value, i + 1]
    } else {
      value += c
      i++
    }
  }
  throw new SearchQueryError('unterminated quoted phrase (missing closing \'"\')', start)
}

function readTerm(s: string, start: number, valueMode: boolean): Extract<Token, { t: 'TERM' }> {
  const parts: WildcardPart[] = []
  let lit = ''
  let bare = true
  let i = start
  const flush = () => {
    if (lit !== '') parts.push({ kind: 'literal', text: lit })
    lit = ''
  }
  while (i < s.length) {
    const c = s[i]
    if (c === '\\') {
      const [ch, next] = readEscape(s, i, 'a term')
      lit += ch
      bare = false
      i = next
      continue
    }
    if (isWs(c) || (TERM_STOP.has(c) && !(valueMode && c === ':'))) break
    if (c === '*') {
      flush()
      const last = parts[parts.length - 1]
      if (!last || last.kind !== 'any') parts.push({ kind: 'any' })
    } else if (c === '?') {
      flush()
      parts.push({ kind: 'one' })
    } else {
      lit += c
    }
    i++
  }
  flush()
  // Not reachable with the lexer's dispatch (a term starts with a non-special character), but keep the
  // invariant explicit: a term token is never empty.
  if (i === start) throw new SearchQueryError(`unexpected '${s[start]}'`, start)
  return { t: 'TERM', pos: start, text: s.slice(start, i), parts, bare }
}

/** s[start] is '[' or '{'. Lexes the whole range `[a TO b]` into one token. */
function readRange(s: string, start: number): Extract<Token, { t: 'RANGE' }> {
  const includeFrom = s[start] === '['
  const items: Array<{ bound: RangeBound; isTo: boolean; isStar: boolean; pos: number }> = []
  let i = start + 1
  let includeTo: boolean | null = null
  while (i < s.length) {
    const c = s[i]
    if (isWs(c)) {
      i++
      continue
    }
    if (c === ']' || c === '}') {
      includeTo = c === ']'
      i++
      break
    }
    const pos = i
    if (c === '"') {
      const [value, end] = readQuoted(s, i)
      items.push({ bound: { raw: value, quoted: true }, isTo: false, isStar: false, pos })
      i = end
    } else {
      let raw = ''
      let bare = true
      while (i < s.length) {
        const d = s[i]
        if (isWs(d) || d === ']' || d === '}') break
        if (d === '\\') {
          const [ch, next] = readEscape(s, i, 'a range bound')
          raw += ch
          bare = false
          i = next
        } else {
          raw += d
          i++
        }
      }
      items.push({ bound: { raw, quoted: false }, isTo: bare && raw === 'TO', isStar: bare && raw === '*', pos })
    }
    if (items.length > 3) throw new SearchQueryError("too many values in a range (expected '[a TO b]')", pos)
  }
  if (includeTo === null) throw new SearchQueryError(`unterminated range (missing ']' or '}')`, start)
  const end = i
  const text = s.slice(start, end)
  const at = (k: number) => (items[k] ? items[k].pos : end - 1)
  if (items.length === 0) throw new SearchQueryError("empty range (expected '[a TO b]')", start)
  if (items.length === 1) {
    if (items[0].isTo) throw new SearchQueryError("range is missing both bounds (use '*' for an open end)", start)
    throw new SearchQueryError("range is missing 'TO' (expected '[a TO b]')", at(0))
  }
  if (items.length === 2) {
    if (items[0].isTo) throw new SearchQueryError("range is missing its lower bound (use '*' for an open end)", at(0))
    if (items[1].isTo) throw new SearchQueryError("range is missing its upper bound (use '*' for an open end)", end - 1)
    throw new SearchQueryError("range is missing 'TO' (expected '[a TO b]')", at(1))
  }
  if (!items[1].isTo) throw new SearchQueryError("range is missing 'TO' (expected '[a TO b]')", at(1))
  const from = items[0].isStar ? null : items[0].bound
  const to = items[2].isStar ? null : items[2].bound
  return {
    t: 'RANGE',
    pos: start,
    text,
    from,
    to,
    includeFrom: from !== null && includeFrom,
    includeTo: to !== null && includeTo,
  }
}

// ---------------------------------------------------------------------------------------------
// Dismax preparation

/** Characters Solr's dismax escapes (except the wildcards, which we keep as wildcards). */
const DISMAX_STRIP = /[\\!():^[\]{}~/]/g

function dismaxPrepare(input: string): string {
  let text = input
  let quotes = 0
  for (const c of text) if (c === '"') quotes++
  // Solr's stripUnbalancedQuotes: an odd number of quotes → all quotes go. Spaces keep positions.
  if (quotes % 2 === 1) text = text.replace(/"/g, ' ')
  return text.replace(DISMAX_STRIP, ' ')
}

// ---------------------------------------------------------------------------------------------
// Parser

type Modifier = '+' | '-' | null
interface Unit {
  mod: Modifier
  node: Query
}
type Op = 'AND' | 'OR' | 'IMPLICIT'

class Parser {
  private i = 0
  private clauses = 0

  constructor(
    private readonly tokens: Token[],
    private readonly defaultOperator: 'AND' | 'OR',
    private readonly implicitLowest: boolean,
  ) {}

  private peek(): Token {
    return this.tokens[this.i]
  }

  private next(): Token {
    const tok = this.tokens[this.i]
    if (tok.t !== 'EOF') this.i++
    return tok
  }

  parseTop(): Query {
    const q = this.parseSequence(0, null, null)
    const tok = this.peek()
    if (tok.t !== 'EOF') throw new SearchQueryError(`unexpected ${describe(tok)}`, tok.pos)
    return q
  }

  /**
   * Dismax fallback: every word and phrase is a clause, `+`/`-`/NOT directly before one are its modifier,
   * AND/OR and dangling modifiers are ignored. Only used on dismax-prepared tokens (no fields, groups, ranges).
   */
  parseFlat(): Query {
    const units: Unit[] = []
    let neg = false
    let plus = false
    for (const tok of this.tokens) {
      if (tok.t === 'PLUS') plus = true
      else if (tok.t === 'MINUS' || tok.t === 'NOT') neg = !neg
      else if (tok.t === 'TERM' || tok.t === 'QUOTED') {
        const node = tok.t === 'TERM' ? this.valueNode(null, tok) : this.phraseNode(null, tok)
        units.push({ mod: neg ? '-' : plus ? '+' : null, node })
        neg = false
        plus = false
      } else {
        neg = false
        plus = false
      }
    }
    if (units.length === 0) return { kind: 'all' }
    return resolve(combine(units, this.defaultOperator))
  }

  /**
   * Parses units and operators until `closer` (an RPAREN) or EOF. `open` is the '(' token for a group
   * (null at top level); `field` the default field inside `field:( ... )`.
   */
  private parseSequence(depth: number, field: string | null, open: Token | null): Query {
    const units: Unit[] = []
    const ops: Op[] = []
    let pending: Token | null = null
    for (;;) {
      const tok = this.peek()
      if (tok.t === 'EOF' || tok.t === 'RPAREN') {
        if (tok.t === 'RPAREN' && open === null) {
          throw new SearchQueryError("unbalanced parentheses: ')' without a matching '('", tok.pos)
        }
        if (tok.t === 'EOF' && open !== null) {
          throw new SearchQueryError("unbalanced parentheses: '(' is never closed", open.pos)
        }
        if (pending) throw new SearchQueryError(`'${pending.text}' is not followed by a clause`, pending.pos)
        break
      }
      if (tok.t === 'AND' || tok.t === 'OR') {
        if (units.length === 0) throw new SearchQueryError(`'${tok.text}' has no clause before it`, tok.pos)
        if (pending) {
          throw new SearchQueryError(`'${tok.text}' follows '${pending.text}' without a clause between them`, tok.pos)
        }
        pending = tok
        this.next()
        continue
      }
      const unit = this.parseUnit(depth, field)
      if (units.length > 0) ops.push(pending ? (pending.t as 'AND' | 'OR') : 'IMPLICIT')
      units.push(unit)
      pending = null
    }
    if (units.length === 0) {
      if (open !== null) throw new SearchQueryError("empty parentheses '()'", open.pos)
      return { kind: 'all' }
    }
    return resolve(this.build(units, ops))
  }

  private build(units: Unit[], ops: Op[]): Unit {
    const effective = ops.map((o): Op => (o === 'IMPLICIT' && !this.implicitLowest ? this.defaultOperator : o))
    // Split by the loosest operator present at each level: IMPLICIT, then OR, then AND.
    const split = (us: Unit[], os: Op[], by: Op): Array<{ us: Unit[]; os: Op[] }> => {
      const out: Array<{ us: Unit[]; os: Op[] }> = [{ us: [us[0]], os: [] }]
      for (let k = 0; k < os.length; k++) {
        if (os[k] === by) out.push({ us: [us[k + 1]], os: [] })
        else {
          const cur = out[out.length - 1]
          cur.us.push(us[k + 1])
          cur.os.push(os[k])
        }
      }
      return out
    }
    const orLevel = (us: Unit[], os: Op[]): Unit => {
      const ands = split(us, os, 'OR').map((g) => combine(g.us, 'AND'))
      return combine(ands, 'OR')
    }
    const segments = split(units, effective, 'IMPLICIT').map((g) => orLevel(g.us, g.os))
    return combine(segments, this.defaultOperator)
  }

  private parseUnit(depth: number, field: string | null): Unit {
    let neg = false
    let anyMod = false
    let last: Token | null = null
    for (;;) {
      const tok = this.peek()
      if (tok.t === 'NOT' || tok.t === 'MINUS') neg = !neg
      else if (tok.t !== 'PLUS') break
      anyMod = true
      last = tok
      this.next()
    }
    const tok = this.peek()
    if (last && (tok.t === 'EOF' || tok.t === 'RPAREN' || tok.t === 'AND' || tok.t === 'OR')) {
      throw new SearchQueryError(`'${last.text}' is not followed by a clause`, last.pos)
    }
    const node = this.parseClause(depth, field)
    return { mod: neg ? '-' : anyMod ? '+' : null, node }
  }

  private parseClause(depth: number, field: string | null): Query {
    const tok = this.peek()
    switch (tok.t) {
      case 'LPAREN':
        return this.parseGroup(depth, field)
      case 'QUOTED':
        this.next()
        this.skipSuffixes(true)
        return this.phraseNode(field, tok)
      case 'RANGE':
        this.next()
        this.skipSuffixes(false)
        return this.rangeNode(field, tok)
      case 'TERM': {
        this.next()
        if (this.peek().t === 'COLON') {
          const colon = this.next()
          const name = this.fieldName(tok)
          return this.parseFieldValue(depth, name, colon)
        }
        this.skipSuffixes(true)
        return this.valueNode(field, tok)
      }
      case 'COLON':
        throw new SearchQueryError("empty field name before ':'", tok.pos)
      default:
        throw new SearchQueryError(`unexpected ${describe(tok)}`, tok.pos)
    }
  }

  private parseGroup(depth: number, field: string | null): Query {
    const open = this.next()
    if (depth + 1 > MAX_DEPTH) throw new LimitError(`the query is nested deeper than ${MAX_DEPTH} levels`, open.pos)
    const q = this.parseSequence(depth + 1, field, open)
    const close = this.next()
    if (close.t !== 'RPAREN') throw new SearchQueryError("unbalanced parentheses: '(' is never closed", open.pos)
    this.skipSuffixes(false)
    return q
  }

  private parseFieldValue(depth: number, name: string | null, colon: Token): Query {
    const tok = this.peek()
    switch (tok.t) {
      case 'LPAREN':
        return this.parseGroup(depth, name)
      case 'QUOTED':
        this.next()
        this.skipSuffixes(true)
        return this.phraseNode(name, tok)
      case 'RANGE':
        this.next()
        this.skipSuffixes(false)
        return this.rangeNode(name, tok)
      case 'TERM':
        this.next()
        this.skipSuffixes(true)
        return this.valueNode(name, tok)
      default: {
        const f = name ?? '*'
        if (tok.t === 'EOF') throw new SearchQueryError(`field '${f}' has no value after ':'`, colon.pos)
        throw new SearchQueryError(`field '${f}' has no value after ':' (found ${describe(tok)})`, tok.pos)
      }
    }
  }

  /** A TERM followed by ':' — returns null for the `*` pseudo-field (all fields). */
  private fieldName(tok: Extract<Token, { t: 'TERM' }>): string | null {
    if (tok.text === '*') return null
    if (!tok.bare || !FIELD_NAME_RE.test(tok.text)) {
      const shown = tok.text.length > 40 ? `${tok.text.slice(0, 40)}…` : tok.text
      throw new SearchQueryError(`invalid field name '${shown}'`, tok.pos)
    }
    return tok.text
  }

  /** Optional `^boost` / `~fuzzy` after a clause (accepted and ignored). */
  private skipSuffixes(allowFuzzy: boolean): void {
    for (let k = 0; k < 2; k++) {
      const tok = this.peek()
      if (tok.t === 'BOOST' || (allowFuzzy && tok.t === 'FUZZY')) this.next()
      else break
    }
  }

  private countClause(pos: number): void {
    this.clauses++
    if (this.clauses > MAX_CLAUSES) throw new LimitError(`the query has more than ${MAX_CLAUSES} clauses`, pos)
  }

  private phraseNode(field: string | null, tok: Extract<Token, { t: 'QUOTED' }>): TermQuery {
    this.countClause(tok.pos)
    return { kind: 'term', field, value: tok.value, phrase: true }
  }

  private rangeNode(field: string | null, tok: Extract<Token, { t: 'RANGE' }>): Query {
    this.countClause(tok.pos)
    if (field === null) throw new SearchQueryError('a range query needs a field name (field:[a TO b])', tok.pos)
    if (tok.from === null && tok.to === null) return { kind: 'exists', field }
    return {
      kind: 'range',
      field,
      from: tok.from,
      to: tok.to,
      includeFrom: tok.includeFrom,
      includeTo: tok.includeTo,
    }
  }

  private valueNode(field: string | null, tok: Extract<Token, { t: 'TERM' }>): Query {
    this.countClause(tok.pos)
    const parts = tok.parts
    if (parts.every((p) => p.kind === 'literal')) {
      return { kind: 'term', field, value: parts.map((p) => (p.kind === 'literal' ? p.text : '')).join(''), phrase: false }
    }
    if (parts.every((p) => p.kind === 'any')) {
      return field === null ? { kind: 'all' } : { kind: 'exists', field }
    }
    const lit = (p: WildcardPart | undefined): p is { kind: 'literal'; text: string } => p?.kind === 'literal'
    const any = (p: WildcardPart | undefined) => p?.kind === 'any'
    let match: 'prefix' | 'suffix' | 'contains' | 'pattern' = 'pattern'
    let value = ''
    if (parts.length === 2 && lit(parts[0]) && any(parts[1])) {
      match = 'prefix'
      value = parts[0].text
    } else if (parts.length === 2 && any(parts[0]) && lit(parts[1])) {
      match = 'suffix'
      value = parts[1].text
    } else if (parts.length === 3 && any(parts[0]) && lit(parts[1]) && any(parts[2])) {
      match = 'contains'
      value = parts[1].text
    }
    return { kind: 'wildcard', field, match, value, parts: parts.map((p) => ({ ...p })) }
  }
}

// ---------------------------------------------------------------------------------------------
// Boolean construction

/** Combines clauses joined by one operator, applying Lucene's required/optional/prohibited rules. */
function combine(units: Unit[], op: 'AND' | 'OR'): Unit {
  if (units.length === 1) return units[0]
  if (op === 'AND') return { mod: null, node: mkAnd(units.map(resolve)) }
  const hasRequired = units.some((u) => u.mod === '+')
  const optional = units.filter((u) => u.mod === null).map((u) => u.node)
  const out: Query[] = []
  let optionalPlaced = false
  for (const u of units) {
    if (u.mod === '+') out.push(u.node)
    else if (u.mod === '-') out.push(mkNot(u.node))
    else if (!hasRequired && !optionalPlaced) {
      out.push(mkOr(optional))
      optionalPlaced = true
    }
  }
  return { mod: null, node: mkAnd(out) }
}

function resolve(u: Unit): Query {
  return u.mod === '-' ? mkNot(u.node) : u.node
}

function mkAnd(clauses: Query[]): Query {
  const flat: Query[] = []
  for (const c of clauses) {
    if (c.kind === 'and') flat.push(...c.clauses)
    else if (c.kind !== 'all') flat.push(c)
  }
  if (flat.length === 0) return { kind: 'all' }
  if (flat.length === 1) return flat[0]
  return { kind: 'and', clauses: flat }
}

function mkOr(clauses: Query[]): Query {
  const flat: Query[] = []
  for (const c of clauses) {
    if (c.kind === 'all') return { kind: 'all' }
    if (c.kind === 'or') flat.push(...c.clauses)
    else flat.push(c)
  }
  if (flat.length === 1) return flat[0]
  return { kind: 'or', clauses: flat }
}

function mkNot(q: Query): Query {
  return q.kind === 'not' ? q.clause : { kind: 'not', clause: q }
}
