import t, { type Test } from 'tap'
import { parseSort, DEFAULT_SORT, SORT_FIELDS, SearchQueryError, type SortKey } from '../../src/search/sort.js'

const DEFAULT: SortKey[] = [
  { field: 'score', direction: 'desc' },
  { field: 'metadata_modified', direction: 'desc' },
]

function rejects(tt: Test, s: string, pattern: RegExp) {
  try {
    parseSort(s)
    tt.fail(`expected ${JSON.stringify(s)} to be rejected`)
  } catch (e) {
    tt.ok(e instanceof SearchQueryError, `${JSON.stringify(s)} → SearchQueryError`)
    tt.match((e as Error).message, /^Search Query is invalid: /)
    tt.match((e as Error).message, pattern, `${JSON.stringify(s)}: ${(e as Error).message}`)
  }
}

t.test('default', async (t) => {
  t.equal(DEFAULT_SORT, 'score desc, metadata_modified desc')
  t.strictSame(parseSort(undefined), DEFAULT)
  t.strictSame(parseSort(null), DEFAULT)
  t.strictSame(parseSort(''), DEFAULT)
  t.strictSame(parseSort('   '), DEFAULT)
  t.strictSame(parseSort('rank'), DEFAULT)
  t.strictSame(parseSort(' rank '), DEFAULT)
  t.strictSame(parseSort(','), DEFAULT)
  t.strictSame(parseSort('score desc, metadata_modified desc'), DEFAULT)
  t.strictSame(parseSort('score desc,metadata_modified desc'), DEFAULT)
})

t.test('real-world sorts', async (t) => {
  t.strictSame(parseSort('id asc'), [{ field: 'id', direction: 'asc' }], 'ckanext-harvest')
  t.strictSame(parseSort('name asc'), [{ field: 'name', direction: 'asc' }])
  t.strictSame(parseSort('title_string asc'), [{ field: 'title_string', direction: 'asc' }])
  t.strictSame(parseSort('title_string desc'), [{ field: 'title_string', direction: 'desc' }])
  t.strictSame(parseSort('metadata_modified desc'), [{ field: 'metadata_modified', direction: 'desc' }])
  t.strictSame(parseSort('metadata_created asc'), [{ field: 'metadata_created', direction: 'asc' }])
  t.strictSame(parseSort('metadata_created desc'), [{ field: 'metadata_created', direction: 'desc' }])
  t.strictSame(parseSort('num_resources desc'), [{ field: 'num_resources', direction: 'desc' }])
  t.strictSame(parseSort('num_tags asc'), [{ field: 'num_tags', direction: 'asc' }])
  t.strictSame(parseSort('title asc'), [{ field: 'title', direction: 'asc' }])
  t.strictSame(parseSort('views_recent desc'), [
    { field: 'metadata_modified', direction: 'desc', substitutedFor: 'views_recent' },
  ])
  t.strictSame(parseSort('views_recent asc'), [
    { field: 'metadata_modified', direction: 'asc', substitutedFor: 'views_recent' },
  ])
  t.strictSame(parseSort('score desc, name asc, id asc'), [
    { field: 'score', direction: 'desc' },
    { field: 'name', direction: 'asc' },
    { field: 'id', direction: 'asc' },
  ])
})

t.test('lenient spacing and case of the direction', async (t) => {
  t.strictSame(parseSort('id ASC'), [{ field: 'id', direction: 'asc' }])
  t.strictSame(parseSort('id Desc'), [{ field: 'id', direction: 'desc' }])
  t.strictSame(parseSort('  id   asc  '), [{ field: 'id', direction: 'asc' }])
  t.strictSame(parseSort('id\tasc'), [{ field: 'id', direction: 'asc' }])
  t.strictSame(parseSort('name asc,'), [{ field: 'name', direction: 'asc' }], 'trailing comma')
  t.strictSame(parseSort('name asc , , id desc'), [
    { field: 'name', direction: 'asc' },
    { field: 'id', direction: 'desc' },
  ])
})

t.test('every whitelisted field in both directions', async (t) => {
  for (const f of SORT_FIELDS) {
    for (const dir of ['asc', 'desc'] as const) {
      const [k] = parseSort(`${f} ${dir}`)
      t.equal(k.direction, dir)
      t.equal(k.field, f === 'views_recent' ? 'metadata_modified' : f, `${f} ${dir}`)
    }
  }
})

t.test('errors', async (t) => {
  rejects(t, 'foo asc', /cannot sort on field 'foo'/)
  rejects(t, 'Name asc', /cannot sort on field 'Name'/)
  rejects(t, 'extras_foo desc', /cannot sort on field/)
  rejects(t, 'name', /Can't determine a Sort Order \(asc or desc\) in sort spec 'name'/)
  rejects(t, 'score', /Can't determine a Sort Order/)
  rejects(t, 'name ascending', /Can't determine a Sort Order/)
  rejects(t, 'name up', /Can't determine a Sort Order/)
  rejects(t, 'name asc desc', /invalid sort spec 'name asc desc'/)
  rejects(t, 'name asc id desc', /invalid sort spec/)
  rejects(t, 'asc', /Can't determine a Sort Order/)
  rejects(t, 'id asc, foo desc', /cannot sort on field 'foo'/)
  rejects(t, 'id asc, name', /Can't determine a Sort Order/)
  rejects(t, "name asc; DROP TABLE package; --", /invalid sort spec/)
  rejects(t, 'RANK', /Can't determine a Sort Order/)
  rejects(t, 'name asc,'.repeat(11), /more than 10 keys/)
  rejects(t, 'x'.repeat(1001), /longer than 1000/)
  t.throws(() => parseSort(42 as unknown as string), SearchQueryError)
})
