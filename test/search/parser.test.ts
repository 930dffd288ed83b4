import t, { type Test } from 'tap'
import { performance } from 'node:perf_hooks'
import { parseQuery, SearchQueryError, FIELD_NAME_RE, type ParseOptions } from '../../src/search/parser.js'
import {
  MAX_CLAUSES,
  MAX_DEPTH,
  MAX_QUERY_LENGTH,
  formatQuery,
  type Query,
  type RangeBound,
  type WildcardPart,
} from '../../src/search/ast.js'
import { CatalogError } from '../../src/errors.js'

// ---------------------------------------------------------------------------------------------
// helpers

const P = (s: string, defaultOperator: 'AND' | 'OR' = 'AND', extra: Partial<ParseOptions> = {}) =>
  parseQuery(s, { defaultOperator, ...extra })
const all = (): Query => ({ kind: 'all' })
const term = (field: string | null, value: string): Query => ({ kind: 'term', field, value, phrase: false })
const phrase = (field: string | null, value: string): Query => ({ kind: 'term', field, value, phrase: true })
const and = (...clauses: Query[]): Query => ({ kind: 'and', clauses })
const or = (...clauses: Query[]): Query => ({ kind: 'or', clauses })
const not = (clause: Query): Query => ({ kind: 'not', clause })
const exists = (field: string): Query => ({ kind: 'exists', field })
const lit = (text: string): WildcardPart => ({ kind: 'literal', text })
const ANY: WildcardPart = { kind: 'any' }
const ONE: WildcardPart = { kind: 'one' }
const wild = (
  field: string | null,
  match: 'prefix' | 'suffix' | 'contains' | 'pattern',
  value: string,
  parts: WildcardPart[],
): Query => ({ kind: 'wildcard', field, match, value, parts })
const b = (raw: string, quoted = false): RangeBound => ({ raw, quoted })
const range = (
  field: string,
  from: RangeBound | null,
  to: RangeBound | null,
  includeFrom: boolean,
  includeTo: boolean,
): Query => ({ kind: 'range', field, from, to, includeFrom, includeTo })

function err(s: string, opts: Partial<ParseOptions> = {}): SearchQueryError {
  try {
    P(s, 'AND', opts)
  } catch (e) {
    if (e instanceof SearchQueryError) return e
    throw e
  }
  throw new Error(`expected a SearchQueryError for ${JSON.stringify(s)}`)
}

function throwsSQE(tt: Test, s: string, pattern: RegExp, position?: number, opts: Partial<ParseOptions> = {}) {
  let e: SearchQueryError
  try {
    e = err(s, opts)
  } catch (x) {
    tt.fail(`${JSON.stringify(s)}: ${String(x)}`)
    return
  }
  tt.ok(e.message.startsWith('Search Query is invalid: '), `${JSON.stringify(s)} message prefix`)
  tt.match(e.message, pattern, `${JSON.stringify(s)} → ${e.message}`)
  if (position !== undefined) tt.equal(e.position, position, `${JSON.stringify(s)} position`)
}

/** Checks the invariants documented in ast.ts. Returns the depth of the tree. */
function checkTree(q: Query, path = 'root'): number {
  switch (q.kind) {
    case 'all':
    case 'exists':
      return 1
    case 'term':
      if (typeof q.value !== 'string' || typeof q.phrase !== 'boolean') throw new Error(`${path}: bad term`)
      if (!q.phrase && q.value === '') throw new Error(`${path}: empty non-phrase term`)
      return 1
    case 'wildcard':
      if (q.parts.length === 0 || q.parts.every((p) => p.kind === 'any')) throw new Error(`${path}: degenerate wildcard`)
      for (let i = 1; i < q.parts.length; i++) {
        if (q.parts[i].kind === 'any' && q.parts[i - 1].kind === 'any') throw new Error(`${path}: uncollapsed *`)
      }
      return 1
    case 'range':
      if (q.from === null && q.to === null) throw new Error(`${path}: open range should be exists`)
      if (q.from === null && q.includeFrom) throw new Error(`${path}: includeFrom with open end`)
      if (q.to === null && q.includeTo) throw new Error(`${path}: includeTo with open end`)
      return 1
    case 'not':
      if (q.clause.kind === 'not') throw new Error(`${path}: double not`)
      return 1 + checkTree(q.clause, `${path}.not`)
    case 'and':
    case 'or': {
      if (q.clauses.length < 2) throw new Error(`${path}: ${q.kind} with ${q.clauses.length} clauses`)
      let d = 0
      for (const [i, c] of q.clauses.entries()) {
        if (c.kind === q.kind) throw new Error(`${path}: unflattened ${q.kind}`)
        if (c.kind === 'all') throw new Error(`${path}: 'all' inside ${q.kind}`)
        d = Math.max(d, checkTree(c, `${path}.${q.kind}[${i}]`))
      }
      return 1 + d
    }
  }
}

function countLeaves(q: Query): number {
  switch (q.kind) {
    case 'and':
    case 'or':
      return q.clauses.reduce((n, c) => n + countLeaves(c), 0)
    case 'not':
      return countLeaves(q.clause)
    default:
      return 1
  }
}

// ---------------------------------------------------------------------------------------------

t.test('match all and empty input', async (t) => {
  t.strictSame(P('*:*'), all())
  t.strictSame(P(''), all())
  t.strictSame(P('   \t\n '), all())
  t.strictSame(P('*'), all())
  t.strictSame(P('**'), all())
  t.strictSame(P('(*:*)'), all())
  t.strictSame(P('*:* AND *:*'), all())
  t.strictSame(P('*:* OR flood'), all())
  t.strictSame(P('*:* flood'), term(null, 'flood'), '*:* inside an AND drops out')
  t.strictSame(P('-*:*'), not(all()), 'matches nothing')
})

t.test('bare words and fielded terms', async (t) => {
  t.strictSame(P('flood'), term(null, 'flood'))
  t.strictSame(P('name:foo'), term('name', 'foo'))
  t.strictSame(P('tags:economy'), term('tags', 'economy'))
  t.strictSame(P('organization:stadt-x'), term('organization', 'stadt-x'))
  t.strictSame(P('res_format:CSV'), term('res_format', 'CSV'), 'case kept')
  t.strictSame(P('extras_Contact.Email-2:x'), term('extras_Contact.Email-2', 'x'), 'field name chars')
  t.strictSame(P('Title:X'), term('Title', 'X'), 'field names are not lower-cased')
  t.strictSame(P('title: foo'), term('title', 'foo'), 'space after the colon')
  t.strictSame(P('title :foo'), term('title', 'foo'), 'space before the colon (Lucene allows it)')
  t.strictSame(P('flood water'), and(term(null, 'flood'), term(null, 'water')))
  t.strictSame(P('flood water', 'OR'), or(term(null, 'flood'), term(null, 'water')))
  t.strictSame(P('e-mail c++ 2024-01-01'), and(term(null, 'e-mail'), term(null, 'c++'), term(null, '2024-01-01')))
  t.strictSame(P('a&b a|b'), and(term(null, 'a&b'), term(null, 'a|b')))
  t.strictSame(P('url:http://example.com/x?y=1'.replace('?', '\\?')), term('url', 'http://example.com/x?y=1'),
    'colons are allowed inside a field value')
  t.strictSame(P('and or not to'), and(term(null, 'and'), term(null, 'or'), term(null, 'not'), term(null, 'to')),
    'lower-case operators are words')
  t.strictSame(P('TO'), term(null, 'TO'))
  t.strictSame(P('*:foo'), term(null, 'foo'), '*: means all fields → default field')
})

t.test('German words with umlauts and ß', async (t) => {
  t.strictSame(P('Straßenbäume'), term(null, 'Straßenbäume'))
  t.strictSame(P('Überschwemmungsgebiete Größe'), and(term(null, 'Überschwemmungsgebiete'), term(null, 'Größe')))
  t.strictSame(P('tags:Öffentlicher-Nahverkehr'), term('tags', 'Öffentlicher-Nahverkehr'))
  t.strictSame(P('title:"Bevölkerung in Köln"'), phrase('title', 'Bevölkerung in Köln'))
  t.strictSame(P('title:*straße*'), wild('title', 'contains', 'straße', [ANY, lit('straße'), ANY]))
  t.strictSame(P('Gewässer* OR Fluß'), or(wild(null, 'prefix', 'Gewässer', [lit('Gewässer'), ANY]), term(null, 'Fluß')))
  t.strictSame(P('groups:ökologie -tags:Müll'), and(term('groups', 'ökologie'), not(term('tags', 'Müll'))))
  t.strictSame(P('ÄÖÜäöüß'), term(null, 'ÄÖÜäöüß'))
  t.strictSame(P('日本 données'), and(term(null, '日本'), term(null, 'données')))
  throwsSQE(t, 'Straße:x', /invalid field name 'Straße'/, 0)
  throwsSQE(t, 'größe:1', /invalid field name/, 0)
})

t.test('phrases', async (t) => {
  t.strictSame(P('"quoted phrase"'), phrase(null, 'quoted phrase'))
  t.strictSame(P('title:"quoted phrase"'), phrase('title', 'quoted phrase'))
  t.strictSame(P('title:"a \\"b\\" c"'), phrase('title', 'a "b" c'), 'escaped quotes')
  t.strictSame(P('"a\\\\b"'), phrase(null, 'a\\b'), 'escaped backslash')
  t.strictSame(P('"wasser*"'), phrase(null, 'wasser*'), 'no wildcards in phrases')
  t.strictSame(P('"AND OR NOT ( ) [ ] :"'), phrase(null, 'AND OR NOT ( ) [ ] :'), 'syntax inside quotes is literal')
  t.strictSame(P('""'), phrase(null, ''), 'empty phrase is kept for the compiler')
  t.strictSame(P('"a b"~3'), phrase(null, 'a b'), 'slop dropped')
  t.strictSame(P('title:"x"^2'), phrase('title', 'x'), 'boost dropped')
  t.strictSame(P('"a""b"'), and(phrase(null, 'a'), phrase(null, 'b')))
  t.strictSame(P('foo"bar"'), and(term(null, 'foo'), phrase(null, 'bar')))
  throwsSQE(t, '"unterminated', /unterminated quoted phrase/, 0)
  throwsSQE(t, 'title:"abc', /unterminated quoted phrase/, 6)
  throwsSQE(t, 'a "b" "c', /unterminated/, 6)
  throwsSQE(t, '"abc\\"', /unterminated/, 0)
  throwsSQE(t, '"abc\\', /escape/, 4)
})

t.test('wildcards', async (t) => {
  t.strictSame(P('wasser*'), wild(null, 'prefix', 'wasser', [lit('wasser'), ANY]))
  t.strictSame(P('name:wasser*'), wild('name', 'prefix', 'wasser', [lit('wasser'), ANY]))
  t.strictSame(P('title:*verkehr*'), wild('title', 'contains', 'verkehr', [ANY, lit('verkehr'), ANY]))
  t.strictSame(P('title:*verkehr'), wild('title', 'suffix', 'verkehr', [ANY, lit('verkehr')]))
  t.strictSame(P('title:**verkehr***'), wild('title', 'contains', 'verkehr', [ANY, lit('verkehr'), ANY]), 'runs collapse')
  t.strictSame(P('name:ab?c'), wild('name', 'pattern', '', [lit('ab'), ONE, lit('c')]))
  t.strictSame(P('name:a*b'), wild('name', 'pattern', '', [lit('a'), ANY, lit('b')]))
  t.strictSame(P('name:a*b*'), wild('name', 'pattern', '', [lit('a'), ANY, lit('b'), ANY]))
  t.strictSame(P('?'), wild(null, 'pattern', '', [ONE]))
  t.strictSame(P('name:wasser\\*'), term('name', 'wasser*'), 'escaped star is literal')
  t.strictSame(P('name:w\\?x*'), wild('name', 'prefix', 'w?x', [lit('w?x'), ANY]))
  t.strictSame(P('name:a\\*b*'), wild('name', 'prefix', 'a*b', [lit('a*b'), ANY]))
  t.strictSame(P('title:*'), exists('title'), 'field:* = field exists')
  t.strictSame(P('extras_spatial:**'), exists('extras_spatial'))
  t.strictSame(P('-extras_spatial:*'), not(exists('extras_spatial')))
  t.strictSame(P('wasser*^2'), wild(null, 'prefix', 'wasser', [lit('wasser'), ANY]))
})

t.test('escapes', async (t) => {
  t.strictSame(P('a\\:b'), term(null, 'a:b'), 'escaped colon is not a field separator')
  t.strictSame(P('name:a\\ b'), term('name', 'a b'), 'escaped space')
  t.strictSame(P('\\(x\\)'), term(null, '(x)'))
  t.strictSame(P('\\-x'), term(null, '-x'), 'escaped leading minus is literal')
  t.strictSame(P('\\+\\!\\^\\~\\[\\]\\{\\}\\"\\\\'), term(null, '+!^~[]{}"\\'))
  t.strictSame(P('\\AND'), term(null, 'AND'), 'escaped operator is a word')
  t.strictSame(P('\\u00fcber'), term(null, 'über'), '\\uXXXX escape')
  t.strictSame(P('\\uber'), term(null, 'uber'), '\\u without 4 hex digits is a plain u')
  t.strictSame(P('\\😀x'), term(null, '😀x'), 'escaped astral character stays whole')
  throwsSQE(t, 'abc\\', /lone escape/, 3)
  throwsSQE(t, '\\', /lone escape/, 0)
  throwsSQE(t, 'a\\:b:c', /invalid field name 'a\\:b'/, 0)
})

t.test('ranges', async (t) => {
  t.strictSame(P('num_resources:[1 TO 5]'), range('num_resources', b('1'), b('5'), true, true))
  t.strictSame(P('num_resources:{1 TO 5}'), range('num_resources', b('1'), b('5'), false, false))
  t.strictSame(P('num_resources:[1 TO 5}'), range('num_resources', b('1'), b('5'), true, false))
  t.strictSame(P('num_resources:{1 TO 5]'), range('num_resources', b('1'), b('5'), false, true))
  t.strictSame(P('num_resources:[-1 TO 5]'), range('num_resources', b('-1'), b('5'), true, true))
  t.strictSame(P('x:[* TO 5]'), range('x', null, b('5'), false, true), 'open lower end')
  t.strictSame(P('x:[5 TO *]'), range('x', b('5'), null, true, false), 'open upper end')
  t.strictSame(P('x:[* TO *]'), exists('x'), 'fully open = exists')
  t.strictSame(P('x:{* TO *}'), exists('x'))
  t.strictSame(P('x:["*" TO *]'), range('x', b('*', true), null, true, false), 'quoted star is literal')
  t.strictSame(P('x:["a b" TO "c\\"d"]'), range('x', b('a b', true), b('c"d', true), true, true))
  t.strictSame(P('x:[  a   TO   b  ]'), range('x', b('a'), b('b'), true, true), 'extra whitespace')
  t.strictSame(P('x:[a\\ b TO c\\]]'), range('x', b('a b'), b('c]'), true, true), 'escapes in bounds')
  t.strictSame(P('x:[TO TO TO]'), range('x', b('TO'), b('TO'), true, true), 'positional TO')
  t.strictSame(P('title_string:[A TO M}'), range('title_string', b('A'), b('M'), true, false))
  t.strictSame(P('x:[a TO b]^3'), range('x', b('a'), b('b'), true, true), 'boost dropped')
  t.strictSame(P('x:([1 TO 2] OR [5 TO 6])'), or(range('x', b('1'), b('2'), true, true), range('x', b('5'), b('6'), true, true)))
  t.strictSame(P('-x:[1 TO 2]'), not(range('x', b('1'), b('2'), true, true)))
  throwsSQE(t, 'x:[a TO]', /missing its upper bound/)
  throwsSQE(t, 'x:[a TO ]', /missing its upper bound/)
  throwsSQE(t, 'x:[TO b]', /missing its lower bound/, 3)
  throwsSQE(t, 'x:[TO]', /missing both bounds/, 2)
  throwsSQE(t, 'x:[a b]', /missing 'TO'/, 5)
  throwsSQE(t, 'x:[a to b]', /missing 'TO'/, 5)
  throwsSQE(t, 'x:[a]', /missing 'TO'/)
  throwsSQE(t, 'x:[]', /empty range/, 2)
  throwsSQE(t, 'x:[a TO b c]', /too many values/)
  throwsSQE(t, 'x:[a TO b', /unterminated range/, 2)
  throwsSQE(t, 'x:[a TO "b]', /unterminated quoted phrase/)
  throwsSQE(t, 'x:a TO b]', /unexpected '\]'/, 8)
  throwsSQE(t, '[a TO b]', /range query needs a field/, 0)
  throwsSQE(t, '*:[a TO b]', /range query needs a field/, 2)
  t.strictSame(P('x:([a TO b])'), range('x', b('a'), b('b'), true, true), 'range inside a field group takes the field')
})

t.test('harvester fq forms (ckanext-harvest CKANHarvester)', async (t) => {
  t.strictSame(
    P('metadata_modified:[2024-05-02T09:13:00.123456Z TO *]'),
    range('metadata_modified', b('2024-05-02T09:13:00.123456Z'), null, true, false),
  )
  t.strictSame(
    P('metadata_modified:[2024-01-01T00:00:00Z TO *]'),
    range('metadata_modified', b('2024-01-01T00:00:00Z'), null, true, false),
  )
  t.strictSame(P('organization:a OR organization:b'), or(term('organization', 'a'), term('organization', 'b')))
  t.strictSame(P('-organization:x'), not(term('organization', 'x')), 'pure negative = everything except x')
  t.strictSame(P('-organization:x -organization:y'), and(not(term('organization', 'x')), not(term('organization', 'y'))))
  t.strictSame(P('+state:(active OR deleted)'), or(term('state', 'active'), term('state', 'deleted')))
  t.strictSame(P('-dataset_type:harvest'), not(term('dataset_type', 'harvest')))
  t.strictSame(P('metadata_created:[* TO NOW]'), range('metadata_created', null, b('NOW'), false, true))
  t.strictSame(P('metadata_modified:[NOW-1DAY TO NOW]'), range('metadata_modified', b('NOW-1DAY'), b('NOW'), true, true))
  t.strictSame(P('metadata_modified:[NOW-7DAYS/DAY TO NOW/DAY+1DAY]'),
    range('metadata_modified', b('NOW-7DAYS/DAY'), b('NOW/DAY+1DAY'), true, true))
  t.strictSame(P('groups:y'), term('groups', 'y'))
  t.strictSame(P('tags:y'), term('tags', 'y'))
  t.strictSame(P('res_format:CSV'), term('res_format', 'CSV'))
  t.strictSame(P('metadata_modified:[X TO NOW]'), range('metadata_modified', b('X'), b('NOW'), true, true))

  // fq_terms joined by a space, exactly as gather_stage builds them
  const since = range('metadata_modified', b('2024-05-02T09:13:00.123456Z'), null, true, false)
  t.strictSame(
    P('organization:a OR organization:b metadata_modified:[2024-05-02T09:13:00.123456Z TO *]'),
    and(or(term('organization', 'a'), term('organization', 'b')), since),
    'space-joined OR filters stay grouped: (a OR b) AND range',
  )
  t.strictSame(
    P('organization:a OR organization:b groups:g1 OR groups:g2 metadata_modified:[2024-05-02T09:13:00.123456Z TO *]'),
    and(or(term('organization', 'a'), term('organization', 'b')), or(term('groups', 'g1'), term('groups', 'g2')), since),
  )
  t.strictSame(
    P('-organization:x -organization:y -groups:z metadata_modified:[2024-05-02T09:13:00.123456Z TO *]'),
    and(not(term('organization', 'x')), not(term('organization', 'y')), not(term('groups', 'z')), since),
  )
  t.strictSame(
    P('organization:a OR organization:b -groups:z'),
    and(or(term('organization', 'a'), term('organization', 'b')), not(term('groups', 'z'))),
  )
  t.strictSame(P('+state:(active OR deleted) -dataset_type:harvest +capacity:public'),
    and(or(term('state', 'active'), term('state', 'deleted')), not(term('dataset_type', 'harvest')), term('capacity', 'public')))
})

t.test('boolean operators and precedence', async (t) => {
  const [a, bb, c, d] = ['a', 'b', 'c', 'd'].map((x) => term(null, x))
  t.strictSame(P('a AND b'), and(a, bb))
  t.strictSame(P('a && b'), and(a, bb))
  t.strictSame(P('a OR b'), or(a, bb))
  t.strictSame(P('a || b'), or(a, bb))
  t.strictSame(P('a&&b'), term(null, 'a&&b'), '&& inside a word is part of it (as in Lucene)')
  t.strictSame(P('a AND b OR c'), or(and(a, bb), c), 'AND binds tighter than OR')
  t.strictSame(P('a OR b AND c'), or(a, and(bb, c)))
  t.strictSame(P('a OR b AND c OR d'), or(a, and(bb, c), d))
  t.strictSame(P('a AND b AND c'), and(a, bb, c), 'flattened')
  t.strictSame(P('a OR b OR c'), or(a, bb, c))
  t.strictSame(P('(a OR b) AND (c OR d)'), and(or(a, bb), or(c, d)))
  t.strictSame(P('a AND (b OR (c AND d))'), and(a, or(bb, and(c, d))))
  t.strictSame(P('((a))'), a)
  t.strictSame(P('(a AND b) AND c'), and(a, bb, c), 'nested and flattened')
  t.strictSame(P('a^2 AND (b)^0.5'), and(a, bb))

  // implicit operator
  t.strictSame(P('a b c'), and(a, bb, c))
  t.strictSame(P('a b c', 'OR'), or(a, bb, c))
  t.strictSame(P('a OR b c'), and(or(a, bb), c), 'juxtaposition binds loosest (default AND)')
  t.strictSame(P('a b OR c'), and(a, or(bb, c)))
  t.strictSame(P('a AND b c', 'OR'), or(and(a, bb), c))
  t.strictSame(P('a OR b c', 'AND', { implicitOperatorPrecedence: 'same' }), or(a, and(bb, c)),
    "'same': juxtaposition is exactly an AND")
  t.strictSame(P('a AND b c', 'OR', { implicitOperatorPrecedence: 'same' }), or(and(a, bb), c))

  // NOT / ! / - / +
  t.strictSame(P('NOT a'), not(a))
  t.strictSame(P('!a'), not(a))
  t.strictSame(P('! a'), not(a))
  t.strictSame(P('-a'), not(a))
  t.strictSame(P('- a'), not(a), 'Lucene skips whitespace after a modifier')
  t.strictSame(P('+a'), a)
  t.strictSame(P('a NOT b'), and(a, not(bb)))
  t.strictSame(P('a AND NOT b'), and(a, not(bb)))
  t.strictSame(P('a AND !b'), and(a, not(bb)))
  t.strictSame(P('a && !b'), and(a, not(bb)))
  t.strictSame(P('NOT a AND b'), and(not(a), bb))
  t.strictSame(P('NOT (a OR b)'), not(or(a, bb)))
  t.strictSame(P('-(a b)'), not(and(a, bb)))
  t.strictSame(P('NOT NOT a'), a, 'double negation removed')
  t.strictSame(P('- - - a'), not(a))
  t.strictSame(P('-a -b'), and(not(a), not(bb)), 'pure negative conjunction')
  t.strictSame(P('a -b +c'), and(a, not(bb), c))

  // Lucene BooleanQuery rules inside OR groups
  t.strictSame(P('a OR -b'), and(a, not(bb)), 'prohibited clause in an OR group restricts the group')
  t.strictSame(P('a OR NOT b'), and(a, not(bb)))
  t.strictSame(P('-a OR -b'), and(not(a), not(bb)))
  t.strictSame(P('a -b', 'OR'), and(a, not(bb)), 'default OR: plain optional, - prohibited')
  t.strictSame(P('a b -c', 'OR'), and(or(a, bb), not(c)))
  t.strictSame(P('+a b', 'OR'), a, 'default OR: a required clause makes optional ones irrelevant for matching')
  t.strictSame(P('+a +b c -d', 'OR'), and(a, bb, not(d)))
  t.strictSame(P('a OR +b'), bb)
  t.strictSame(P('(-a)'), not(a), 'nested pure negative = everything except')
  t.strictSame(P('b OR (-a)'), or(bb, not(a)))
  t.strictSame(P('*:* -a'), not(a))
  t.strictSame(P('*:* AND NOT a'), not(a))
})

t.test('field groups', async (t) => {
  t.strictSame(P('tags:(a OR b)'), or(term('tags', 'a'), term('tags', 'b')))
  t.strictSame(P('tags:(a b)'), and(term('tags', 'a'), term('tags', 'b')))
  t.strictSame(P('tags:(a b)', 'OR'), or(term('tags', 'a'), term('tags', 'b')))
  t.strictSame(P('tags:(a -b)'), and(term('tags', 'a'), not(term('tags', 'b'))))
  t.strictSame(P('tags:("x y" z*)'), and(phrase('tags', 'x y'), wild('tags', 'prefix', 'z', [lit('z'), ANY])))
  t.strictSame(P('tags:(a OR (b AND c))'), or(term('tags', 'a'), and(term('tags', 'b'), term('tags', 'c'))))
  t.strictSame(P('tags:(a groups:b)'), and(term('tags', 'a'), term('groups', 'b')), 'inner field overrides')
  t.strictSame(P('tags:(*)'), exists('tags'))
  t.strictSame(P('tags:(*:*)'), all())
  t.strictSame(P('*:(a b)'), and(term(null, 'a'), term(null, 'b')))
  t.strictSame(P('tags:(a)^2'), term('tags', 'a'))
  t.strictSame(P('state:(active OR deleted) AND -private:true'),
    and(or(term('state', 'active'), term('state', 'deleted')), not(term('private', 'true'))))
})

t.test('syntax errors', async (t) => {
  throwsSQE(t, 'foo AND', /'AND' is not followed by a clause/, 4)
  throwsSQE(t, 'foo OR', /'OR' is not followed by a clause/, 4)
  throwsSQE(t, 'foo &&', /'&&' is not followed/, 4)
  throwsSQE(t, 'AND foo', /'AND' has no clause before it/, 0)
  throwsSQE(t, 'OR foo', /'OR' has no clause before it/, 0)
  throwsSQE(t, '|| foo', /has no clause before it/, 0)
  throwsSQE(t, 'foo AND OR bar', /'OR' follows 'AND'/, 8)
  throwsSQE(t, 'foo AND AND bar', /'AND' follows 'AND'/, 8)
  throwsSQE(t, 'NOT', /'NOT' is not followed by a clause/, 0)
  throwsSQE(t, 'foo NOT', /'NOT' is not followed/, 4)
  throwsSQE(t, 'foo -', /'-' is not followed/, 4)
  throwsSQE(t, '+', /'\+' is not followed/, 0)
  throwsSQE(t, '!', /'!' is not followed/, 0)
  throwsSQE(t, 'a NOT AND b', /'NOT' is not followed/, 2)
  throwsSQE(t, '(a AND) b', /'AND' is not followed/, 3)
  throwsSQE(t, '(foo', /'\(' is never closed/, 0)
  throwsSQE(t, '((a) OR (b)', /'\(' is never closed/, 0)
  throwsSQE(t, 'foo)', /'\)' without a matching '\('/, 3)
  throwsSQE(t, '(a))', /'\)' without a matching/, 3)
  throwsSQE(t, ')(', /'\)' without a matching/, 0)
  throwsSQE(t, '()', /empty parentheses/, 0)
  throwsSQE(t, 'tags:()', /empty parentheses/, 5)
  throwsSQE(t, ':foo', /empty field name/, 0)
  throwsSQE(t, 'a :', /field 'a' has no value/)
  throwsSQE(t, 'title:', /field 'title' has no value after ':'/, 5)
  throwsSQE(t, 'title: ', /field 'title' has no value/)
  throwsSQE(t, 'title:)', /field 'title' has no value after ':' \(found '\)'\)/, 6)
  throwsSQE(t, 'title:-x', /field 'title' has no value/, 6)
  throwsSQE(t, 'title:AND', /field 'title' has no value/, 6)
  throwsSQE(t, '1abc:x', /invalid field name '1abc'/, 0)
  throwsSQE(t, 'fo*o:x', /invalid field name/, 0)
  throwsSQE(t, 'a::b', /field 'a' has no value/, 2)
  throwsSQE(t, 'foo^', /boost/, 3)
  throwsSQE(t, 'foo^x', /boost/, 3)
  throwsSQE(t, '^2', /unexpected '\^2'/, 0)
  throwsSQE(t, '~', /unexpected '~'/, 0)
  throwsSQE(t, 'a ]', /unexpected '\]'/, 2)
  throwsSQE(t, 'a }', /unexpected '\}'/, 2)
  throwsSQE(t, 'Hallo!', /'!' is not followed/, 5)
  const e = err('foo AND')
  t.ok(e instanceof CatalogError, 'is a CatalogError')
  t.equal(e.code, 'search_query')
  t.equal(e.name, 'SearchQueryError')
  t.equal(e.detail, "'AND' is not followed by a clause")
  t.equal(e.message, "Search Query is invalid: 'AND' is not followed by a clause (at position 4)")
})

t.test('hard limits', async (t) => {
  const long = 'a'.repeat(MAX_QUERY_LENGTH)
  t.strictSame(P(long), term(null, long), 'exactly the maximum length is fine')
  throwsSQE(t, 'a'.repeat(MAX_QUERY_LENGTH + 1), /longer than 10000 characters/)

  const nest = (n: number) => '('.repeat(n) + 'a' + ')'.repeat(n)
  t.strictSame(P(nest(MAX_DEPTH)), term(null, 'a'), '32 levels are fine')
  throwsSQE(t, nest(MAX_DEPTH + 1), /nested deeper than 32 levels/, MAX_DEPTH)
  throwsSQE(t, nest(1000), /nested deeper than 32/)
  throwsSQE(t, '('.repeat(5000), /nested deeper/)
  throwsSQE(t, 'tags:('.repeat(40) + 'a' + ')'.repeat(40), /nested deeper/)

  const clauses = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`).join(' ')
  t.equal(countLeaves(P(clauses(MAX_CLAUSES))), MAX_CLAUSES, '200 clauses are fine')
  throwsSQE(t, clauses(MAX_CLAUSES + 1), /more than 200 clauses/)
  throwsSQE(t, 'a '.repeat(4999), /more than 200 clauses/)
  throwsSQE(t, 'x:[1 TO 2] '.repeat(201), /more than 200 clauses/)

  t.strictSame(P('-'.repeat(9000) + 'a'), term(null, 'a'), 'long modifier chains fold without recursion')
  t.strictSame(P('NOT '.repeat(2001) + 'a'), not(term(null, 'a')))

  // limits hold in dismax mode too
  throwsSQE(t, 'a'.repeat(MAX_QUERY_LENGTH + 1), /longer than/, undefined, { syntax: 'dismax' })
  throwsSQE(t, clauses(MAX_CLAUSES + 1), /more than 200 clauses/, undefined, { syntax: 'dismax' })
  throwsSQE(t, clauses(MAX_CLAUSES + 1) + ' AND', /more than 200 clauses/, undefined, { syntax: 'dismax' })
})

t.test('dismax syntax (q without a colon)', async (t) => {
  const D = (s: string, op: 'AND' | 'OR' = 'AND') => parseQuery(s, { defaultOperator: op, syntax: 'dismax' })
  t.strictSame(D('flood'), term(null, 'flood'))
  t.strictSame(D(''), all())
  t.strictSame(D('Hallo!'), term(null, 'Hallo'))
  t.strictSame(D('"unterminated phrase'), and(term(null, 'unterminated'), term(null, 'phrase')), 'odd quotes dropped')
  t.strictSame(D('"Bevölkerung Köln" 2020'), and(phrase(null, 'Bevölkerung Köln'), term(null, '2020')))
  t.strictSame(D('(foo'), term(null, 'foo'))
  t.strictSame(D('a:b [c TO d] {e} x^2 y~ \\z /r/'),
    and(...['a', 'b', 'c', 'TO', 'd', 'e', 'x', '2', 'y', 'z', 'r'].map((w) => term(null, w))),
    'syntax characters are separators')
  t.strictSame(D('wasser* -abwasser +fluss'),
    and(wild(null, 'prefix', 'wasser', [lit('wasser'), ANY]), not(term(null, 'abwasser')), term(null, 'fluss')))
  t.strictSame(D('a OR b'), or(term(null, 'a'), term(null, 'b')), 'AND/OR still work')
  t.strictSame(D('a AND'), term(null, 'a'), 'dangling operator dropped instead of an error')
  t.strictSame(D('AND a OR'), term(null, 'a'))
  t.strictSame(D('a - b +'), and(term(null, 'a'), not(term(null, 'b'))), 'fallback keeps modifiers that precede a word')
  t.strictSame(D('a b OR', 'OR'), or(term(null, 'a'), term(null, 'b')))
  t.strictSame(D('-'), all())
  t.strictSame(D('!!!()'), all())
  t.strictSame(D("'; DROP TABLE package; --"),
    and(term(null, "';"), term(null, 'DROP'), term(null, 'TABLE'), term(null, 'package;')))
})

t.test('field name pattern', async (t) => {
  for (const ok of ['a', '_', 'A_b.c-d', 'extras_x', 'res_extras_foo.bar']) t.ok(FIELD_NAME_RE.test(ok), ok)
  for (const bad of ['', '1a', '-a', '.a', 'a b', 'ä', 'a:b', 'a*']) t.notOk(FIELD_NAME_RE.test(bad), bad)
})

t.test('formatQuery renders trees', async (t) => {
  t.equal(formatQuery(P('organization:a OR organization:b -groups:z')), '((organization:a OR organization:b) AND -groups:z)')
  t.equal(formatQuery(P('metadata_modified:[2024-05-02T09:13:00.123456Z TO *]')),
    'metadata_modified:[2024-05-02T09:13:00.123456Z TO *]')
  t.equal(formatQuery(P('x:{a TO "b c"]')), 'x:{a TO "b c"]')
  t.equal(formatQuery(P('title:*verkehr* name:a\\*b? "x y" \\AND')), '(title:*verkehr* AND name:a\\*b? AND "x y" AND \\AND)')
  // formatted output re-parses to the same tree for these
  for (const s of ['a OR (b AND -c)', 'tags:(x OR y) -z', 'x:[1 TO 5}', 'title:"a \\"q\\" b"', 'name:a\\:b*']) {
    const q = P(s)
    t.strictSame(P(formatQuery(q)), q, `round trip ${s}`)
  }
})

// ---------------------------------------------------------------------------------------------
// Hostile input corpus

/** mulberry32: small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

function buildCorpus(): string[] {
  const rnd = prng(0xc0ffee)
  const int = (n: number) => Math.floor(rnd() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]
  const corpus: string[] = []

  // 1. random code units from a syntax-heavy alphabet plus arbitrary unicode (incl. lone surrogates)
  const alphabet = [
    ...'()[]{}"\\:*?+-!^~&|/ \t\n\r\'`;%_=<>,.#@$',
    ...'aAzZ09äöüÄÖÜßéñ',
    '\u00a0', '\u3000', '\u200b', '\u202e', '\ufeff', '\u0000', '\u0007', '\ud800', '\udc00', '😀', '𝔘',
  ]
  for (let k = 0; k < 150; k++) {
    const len = int(60)
    let s = ''
    for (let i = 0; i < len; i++) {
      if (rnd() < 0.15) s += String.fromCharCode(int(0x10000))
      else s += pick(alphabet)
    }
    corpus.push(s)
  }

  // 2. token soup: plausible pieces in random order
  const pieces = [
    'AND', 'OR', 'NOT', '&&', '||', '!', '(', ')', '[', ']', '{', '}', 'TO', '*', '?', '"', '\\', ':', '+', '-', '^2', '~',
    'title:', 'name:', 'tags:', 'metadata_modified:', 'organization:x', 'wasser*', '*verkehr*', 'Straße', 'Größe',
    '"a phrase"', '[1 TO 2]', '{* TO NOW}', '[NOW-1DAY TO NOW]', '*:*', "'; DROP TABLE package; --", '%', '_', '\\*',
    '1=1', "' OR '1'='1", '$where', '{"$gt": ""}', '<script>alert(1)</script>', '../../etc/passwd', '\u0000', '😀',
  ]
  for (let k = 0; k < 150; k++) {
    const n = 1 + int(25)
    const out: string[] = []
    for (let i = 0; i < n; i++) out.push(pick(pieces))
    corpus.push(out.join(rnd() < 0.5 ? ' ' : ''))
  }

  // 3. fixed nasties
  corpus.push(
    "'; DROP TABLE package; --",
    "name:'; DROP TABLE package; --",
    "title:\"'; DROP TABLE package; --\"",
    "1' OR '1'='1",
    'name:x OR 1=1 --',
    "organization:a' UNION SELECT password FROM user --",
    '%', '%%', '_', 'title:%', 'title:_a%', 'name:\\%',
    '"', '""', '"""', '\\', '\\\\', '\\\\\\', '\\"',
    '(', ')', '[', ']', '{', '}', '[{', '}]', ':', '::', '*:', ':*', '*:*:*', 'a:b:c:d',
    '[ TO ]', '[* TO', 'x:[* TO', 'x:[', 'x:{', 'x:[TO TO TO TO]', 'x:[ "a" TO ]',
    'AND', 'OR', 'NOT', 'AND OR NOT', 'NOT NOT NOT', '&&', '||', '!!', '+-+-', '^', '~', '~~', '^^^',
    '\u0000', '\u0000:\u0000', '\ud800', '\udfff\ud800', '😀:😀', 'a\u3000b', '\u202eevil',
    '\\u', '\\u12', '\\u12zz', '\\uD800', 'x:\\uD83D\\uDE00',
  )
  corpus.push('a'.repeat(10_000))
  corpus.push('a'.repeat(10_001))
  corpus.push('a '.repeat(5_000))
  corpus.push('('.repeat(1000) + 'a' + ')'.repeat(1000))
  corpus.push('('.repeat(1000))
  corpus.push(')'.repeat(1000))
  corpus.push('"'.repeat(10_000))
  corpus.push('\\'.repeat(10_000))
  corpus.push('\\'.repeat(9_999))
  corpus.push('['.repeat(10_000))
  corpus.push('x:[' + 'a '.repeat(4_990) + ']')
  corpus.push('-'.repeat(10_000))
  corpus.push('NOT '.repeat(2_500))
  corpus.push('a:'.repeat(5_000))
  corpus.push('*'.repeat(10_000))
  corpus.push('?'.repeat(10_000))
  corpus.push('(a OR b) AND '.repeat(700))
  corpus.push('tags:('.repeat(500) + 'a')
  corpus.push('x:[1 TO 2]'.repeat(900))
  corpus.push('"' + 'a '.repeat(4_990) + '"')
  corpus.push('a^'.repeat(5_000))
  corpus.push('a~'.repeat(5_000))
  corpus.push('\u{1F600}'.repeat(5_000))
  corpus.push('\ud800'.repeat(10_000))
  corpus.push('ß'.repeat(10_000))
  corpus.push(' '.repeat(10_000))
  return corpus
}

t.test('hostile-input corpus: SearchQueryError or a well-formed tree', async (t) => {
  const corpus = buildCorpus()
  t.ok(corpus.length >= 300, `corpus has ${corpus.length} strings`)
  t.same(buildCorpus(), corpus, 'the corpus is deterministic')
  let parsed = 0
  let rejected = 0
  let slowest = 0
  const started = performance.now()
  const variants: ParseOptions[] = [
    { defaultOperator: 'AND' },
    { defaultOperator: 'OR' },
    { defaultOperator: 'AND', implicitOperatorPrecedence: 'same' },
    { defaultOperator: 'AND', syntax: 'dismax' },
  ]
  const problems: string[] = []
  for (const s of corpus) {
    for (const opts of variants) {
      const t0 = performance.now()
      try {
        const q = parseQuery(s, opts)
        const depth = checkTree(q)
        if (depth > 3 * MAX_DEPTH + 4) problems.push(`tree too deep (${depth}) for ${JSON.stringify(s.slice(0, 50))}`)
        if (countLeaves(q) > MAX_CLAUSES) problems.push(`too many leaves for ${JSON.stringify(s.slice(0, 50))}`)
        parsed++
      } catch (e) {
        if (!(e instanceof SearchQueryError)) {
          problems.push(`${JSON.stringify(s.slice(0, 50))} ${JSON.stringify(opts)}: threw ${String(e)}`)
        } else if (!e.message.startsWith('Search Query is invalid: ')) {
          problems.push(`bad message ${e.message}`)
        } else if (e.message.includes('Cannot parse query (')) {
          problems.push(`internal error wrapped for ${JSON.stringify(s.slice(0, 50))}: ${e.message}`)
        } else if (opts.syntax === 'dismax' && !/longer than|more than \d+ clauses|nested deeper/.test(e.message)) {
          problems.push(`dismax threw a syntax error for ${JSON.stringify(s.slice(0, 50))}: ${e.message}`)
        } else {
          rejected++
        }
      }
      slowest = Math.max(slowest, performance.now() - t0)
    }
  }
  const total = performance.now() - started
  t.strictSame(problems, [], 'no unexpected exceptions, malformed trees or dismax syntax errors')
  t.ok(parsed > 100, `${parsed} parsed`)
  t.ok(rejected > 100, `${rejected} rejected`)
  // timings are reported, not asserted: a busy machine is no parser bug
  t.comment(`slowest input took ${slowest.toFixed(1)} ms; the whole corpus ${total.toFixed(0)} ms`)
})

t.test('non-string input is a SearchQueryError, not a TypeError', async (t) => {
  for (const v of [undefined, null, 42, {}, ['a']]) {
    t.throws(() => parseQuery(v as unknown as string, { defaultOperator: 'AND' }), SearchQueryError)
  }
})
