import t from 'tap'
import { DocumentCache } from '../../src/catalog/document-cache.js'
import type { StoredDocument } from '../../src/catalog/repository.js'

const doc = (id: string, name: string, chars = 10, revision = 1): StoredDocument => ({
  id,
  name,
  owner_org: null,
  private: 0,
  state: 'active',
  revision,
  document: `{"x":"${'a'.repeat(Math.max(chars - 8, 0))}"}`,
  themeIds: [],
})

t.test('found by id and by name; an invalidation by either key drops both', async (t) => {
  const cache = new DocumentCache(60_000)
  cache.set(doc('id-1', 'baeume'))
  t.equal(cache.get('id-1')?.name, 'baeume')
  t.equal(cache.get('baeume')?.id, 'id-1')
  cache.invalidate('baeume')
  t.equal(cache.get('id-1'), undefined, 'the id entry went with the name')
  t.equal(cache.get('baeume'), undefined)
  cache.set(doc('id-1', 'baeume'))
  cache.invalidate('id-1')
  t.equal(cache.get('baeume'), undefined, 'the name entry went with the id')
  t.same(cache.size, { entries: 0, chars: 0 })
})

t.test('a rename: the old name no longer finds the dataset, the new name does', async (t) => {
  const cache = new DocumentCache(60_000)
  cache.set(doc('id-1', 'alt'))
  cache.set(doc('id-1', 'neu', 10, 2))
  t.equal(cache.get('alt'), undefined)
  t.equal(cache.get('neu')?.revision, 2)
  t.equal(cache.get('id-1')?.revision, 2)
  // Another dataset takes the freed name: its entry replaces the old one under that name.
  cache.set(doc('id-2', 'neu'))
  t.equal(cache.get('neu')?.id, 'id-2')
  t.equal(cache.get('id-1'), undefined, 'the dataset that had the name is dropped with it')
})

t.test('a document loaded while a change was applied is not kept', async (t) => {
  const cache = new DocumentCache(60_000)
  const generation = cache.generation
  cache.invalidate('id-1')
  cache.set(doc('id-1', 'baeume'), generation)
  t.equal(cache.get('id-1'), undefined)
})

t.test('bounded by the characters of document text, oldest out first', async (t) => {
  const cache = new DocumentCache(60_000, 10_000, 1_000)
  for (let i = 0; i < 30; i++) cache.set(doc(`id-${i}`, `n-${i}`, 90))
  t.ok(cache.size.chars <= 1_000, `held ${cache.size.chars} characters`)
  t.equal(cache.get('id-29')?.name, 'n-29', 'the newest is kept')
  t.equal(cache.get('id-0'), undefined, 'the oldest went')
  t.equal(cache.get('n-0'), undefined, 'by name too')
  // One document over a tenth of the budget is not cached at all.
  cache.set(doc('big', 'big', 200))
  t.equal(cache.get('big'), undefined)
  const sum = Array.from({ length: 30 }, (_, i) => cache.get(`id-${i}`)).reduce((n, d) => n + (d?.document.length ?? 0), 0)
  t.equal(cache.size.chars, sum, 'the count of characters is the sum of the entries held')
})

t.test('bounded by entries', async (t) => {
  const cache = new DocumentCache(60_000, 20)
  for (let i = 0; i < 100; i++) cache.set(doc(`id-${i}`, `n-${i}`))
  t.ok(cache.size.entries <= 20)
  t.equal(cache.get('n-99')?.id, 'id-99')
})

t.test('TTL 0 keeps nothing', async (t) => {
  const cache = new DocumentCache(0)
  cache.set(doc('id-1', 'a'))
  t.equal(cache.get('id-1'), undefined)
})
