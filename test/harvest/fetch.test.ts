import t from 'tap'
import { bodyText, harvestFetch, retryAfterMs } from '../../src/harvest/fetch.js'
import { ckanActionBase } from '../../src/harvest/sources.js'
import { localServer } from './support.js'

/** The bounded fetch: which failures are retried (5xx, 429 with Retry-After, network errors) and which are not. */
t.test('retries', async (t) => {
  const hits = new Map<string, number>()
  const { base } = await localServer(t, (req, res) => {
    const path = new URL(req.url!, 'http://x').pathname
    const n = (hits.get(path) ?? 0) + 1
    hits.set(path, n)
    if (path === '/flaky' && n < 3) {
      res.statusCode = 503
      return res.end()
    }
    if (path === '/busy' && n === 1) {
      res.writeHead(429, { 'retry-after': '0' })
      return res.end()
    }
    if (path === '/missing') {
      res.statusCode = 404
      return res.end()
    }
    if (path === '/drop' && n === 1) return req.socket.destroy()
    res.end(`ok ${n}`)
  })
  const limits = { timeoutMs: 2000, maxBytes: 1000, retries: 3, backoffMs: 1, allowPrivateAddresses: true }
  t.equal(await bodyText(await harvestFetch(`${base}/flaky`, '*/*', limits)), 'ok 3', 'two 503s, then the answer')
  t.equal(await bodyText(await harvestFetch(`${base}/busy`, '*/*', limits)), 'ok 2', '429 honoured, then the answer')
  t.equal(await bodyText(await harvestFetch(`${base}/drop`, '*/*', limits)), 'ok 2', 'a dropped connection is retried')
  await t.rejects(harvestFetch(`${base}/missing`, '*/*', limits), /HTTP 404/)
  t.equal(hits.get('/missing'), 1, 'a 404 is not retried')
  hits.set('/flaky', -10)
  await t.rejects(harvestFetch(`${base}/flaky`, '*/*', { ...limits, retries: 2 }), /HTTP 503/, 'retries end')
  t.equal(hits.get('/flaky'), -7, 'one try and two retries')
})

t.test('Retry-After and URLs', async (t) => {
  t.equal(retryAfterMs('5'), 5000)
  t.equal(retryAfterMs(null), undefined)
  t.equal(retryAfterMs('Wed, 02 Dec 2026 10:00:10 GMT', Date.parse('2026-12-02T10:00:00Z')), 10_000)
  t.equal(retryAfterMs('soon'), undefined)
  t.equal(ckanActionBase('https://ckan.example.org/'), 'https://ckan.example.org/api/3/action')
  t.equal(ckanActionBase('https://ckan.example.org/api/3/action'), 'https://ckan.example.org/api/3/action')
})
