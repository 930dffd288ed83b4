/**
 * topHits (search.ts): the page of the hits in a search's order, found by a bounded heap for the first pages,
 * must be exactly the page of a full sort, for any page position and any ties of the first key.
 */
import t from 'tap'
import { topHits } from '../../src/search/search.js'

/** A deterministic generator (mulberry32), so that a failure can be repeated. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

t.test('the heap selection equals a full sort, page by page', async (t) => {
  const next = random(7)
  for (const size of [0, 1, 5, 100, 5000]) {
    // Scores with many ties, broken by the doc number (as the search breaks them by id).
    const score = Float64Array.from({ length: size }, () => Math.floor(next() * 20))
    const hits = Int32Array.from({ length: size }, (_, i) => i)
    for (let i = hits.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1))
      const x = hits[i]!
      hits[i] = hits[j]!
      hits[j] = x
    }
    const compare = (a: number, b: number) => score[b]! - score[a]! || a - b
    const sorted = Array.from(hits).sort(compare)
    for (const [start, rows] of [
      [0, 10],
      [0, 1],
      [3, 7],
      [90, 10],
      [0, 1000],
      [2500, 10],
      [4990, 20],
      [6000, 10],
    ] as const) {
      t.same(
        topHits(hits, compare, start, rows),
        sorted.slice(start, start + rows),
        `${size} hits, start ${start}, rows ${rows}`,
      )
    }
  }
})

t.test('rows=0 or a start past the hits give an empty page', async (t) => {
  const compare = (a: number, b: number) => a - b
  t.same(topHits(Int32Array.from([3, 1, 2]), compare, 0, 0), [])
  t.same(topHits(Int32Array.from([3, 1, 2]), compare, 5, 10), [])
})
