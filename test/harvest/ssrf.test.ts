import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { Harvester } from '../../src/harvest/harvester.js'
import { harvestFetch } from '../../src/harvest/fetch.js'
import { HOST_REFUSED, isBlockedAddress } from '../../src/net/guarded-fetch.js'
import { addSource, harvestNow, localServer, testHarvestConfig } from './support.js'

/**
 * The private-address rule of harvest fetches (src/net/guarded-fetch.ts): denied by default; with it, a
 * source on loopback fails its job with HOST_REFUSED (nothing else said) and is never requested, whether
 * named by IP literal, by a host name resolving to loopback, or reached by a redirect. A host that does not
 * resolve fails alike, with the same words and code and no retry: the public job log is no oracle for which
 * internal names exist.
 */
t.test('the rule: which addresses are refused', async (t) => {
  for (const a of [
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '100.64.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '::ffff:10.0.0.1',
    '[::1]',
    '64:ff9b::a00:1',
    '::ffff:0:7f00:1',
    '64:ff9b:1::7f00:1',
    '2001::1',
    '2001:db8::1',
    '100::1',
    '192.0.2.1',
    '198.51.100.7',
    '203.0.113.9',
  ])
    t.ok(isBlockedAddress(a), `${a} refused`)
  for (const a of ['8.8.8.8', '172.32.0.1', '::ffff:8.8.8.8', '2a00:1450:4001::1', '2606:4700::1111'])
    t.notOk(isBlockedAddress(a), `${a} allowed`)
})

t.test('the setting: deny by default, a wrong value is a one-line error', async (t) => {
  t.equal(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).harvest.allowPrivateAddresses, false)
  t.equal(
    loadConfig({ DATABASE_URL: 'sqlite::memory:', HARVEST_PRIVATE_ADDRESSES: 'allow' }).harvest.allowPrivateAddresses,
    true,
  )
  let error: unknown
  try {
    loadConfig({ DATABASE_URL: 'sqlite::memory:', HARVEST_PRIVATE_ADDRESSES: 'maybe' })
  } catch (err) {
    error = err
  }
  t.ok(error instanceof ConfigError, 'a ConfigError')
  t.match(
    (error as Error).message,
    /^HARVEST_PRIVATE_ADDRESSES="maybe" [^\n]*allow, deny$/,
    'one line naming the choices',
  )
})

t.test('fetches: literal, name and redirect targets on loopback are refused, never requested', async (t) => {
  let hits = 0
  const { base } = await localServer(t, (req, res) => {
    hits++
    res.end('secret')
  })
  const port = new URL(base).port
  const deny = { timeoutMs: 2000, maxBytes: 1000, retries: 2, backoffMs: 1, allowPrivateAddresses: false }
  for (const url of [
    `${base}/x`,
    `http://localhost:${port}/x`,
    `http://[::ffff:127.0.0.1]:${port}/x`,
    `http://0.0.0.0:${port}/x`,
    'http://169.254.169.254/latest/meta-data/',
  ]) {
    const err = await harvestFetch(url, '*/*', deny).then(
      () => undefined,
      (e: Error) => e,
    )
    t.equal(err?.message, HOST_REFUSED, `${url}: refused, saying only that`)
  }
  t.equal(hits, 0, 'nothing was requested')
  // With allow, the same server answers (the refusal above was the rule, not a dead server).
  const { body } = await harvestFetch(`${base}/x`, '*/*', { ...deny, allowPrivateAddresses: true })
  for await (const chunk of body) t.equal(Buffer.from(chunk).toString(), 'secret')
  t.equal(hits, 1)
})

t.test('fetches: an unresolvable host and a refused address fail alike, neither retried', async (t) => {
  t.equal(HOST_REFUSED, 'host not found or address not allowed')
  const { base } = await localServer(t, (req, res) => res.end('secret'))
  const port = new URL(base).port
  const outcomes: Array<{ message?: string; code?: string; attempts: number }> = []
  for (const url of ['http://quelle.invalid/api/3/action/package_search', `http://localhost:${port}/x`, `${base}/x`]) {
    let attempts = 0
    const limits = {
      timeoutMs: 2000,
      maxBytes: 1000,
      retries: 3,
      backoffMs: 1,
      allowPrivateAddresses: false,
      onAttempt: () => attempts++,
    }
    const err = await harvestFetch(url, '*/*', limits).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    )
    outcomes.push({ message: err?.message, code: err?.code, attempts })
  }
  t.same(
    outcomes,
    Array.from({ length: 3 }, () => ({ message: HOST_REFUSED, code: 'EHOSTREFUSED', attempts: 1 })),
    'the same words and code, one attempt each',
  )
  // Not a refusal: a dropped connection is still retried (the count above is the rule, not a dead hook).
  let attempts = 0
  const { base: dropping } = await localServer(t, (req) => req.socket.destroy())
  await t.rejects(
    harvestFetch(`${dropping}/x`, '*/*', {
      timeoutMs: 2000,
      maxBytes: 1000,
      retries: 2,
      backoffMs: 1,
      allowPrivateAddresses: true,
      onAttempt: () => attempts++,
    }),
    /network error/,
  )
  t.equal(attempts, 3, 'a network error is retried')
})

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  let hits = 0
  const { base } = await localServer(t, (req, res) => {
    hits++
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ success: true, result: { count: 0, results: [] } }))
  })

  await t.test('with deny, a loopback source fails its job with a clear error and nothing is fetched', async (t) => {
    const harvester = new Harvester(app.service, testHarvestConfig(backend.config, { allowPrivateAddresses: false }))
    const port = new URL(base).port
    for (const [name, url] of [
      ['literal', base],
      ['by-name', `http://localhost:${port}`],
    ]) {
      const source = await addSource(harvester, app, { name, type: 'ckan', url, owner_org: 'marburg' })
      const result = await harvestNow(harvester, source.id)
      t.equal(result.status, 'failed', name)
      t.equal(result.error, HOST_REFUSED, `${name}: the job says only that`)
      const logs = await harvester.jobs.logs(result.job.id, 100, 0)
      t.notOk(
        logs.some((l) => String(l.message).includes(port)),
        'the job log names no port of the network (no scan oracle)',
      )
    }
    t.equal(hits, 0, 'the source was never requested')
    const allowed = new Harvester(app.service, testHarvestConfig(backend.config))
    const result = await harvestNow(allowed, 'literal')
    t.equal(result.status, 'finished', 'the same source with allow')
    t.ok(hits > 0)
  })

  await t.test('an unresolvable source and a refused one fail their jobs with the same words, once', async (t) => {
    const harvester = new Harvester(
      app.service,
      // Retries allowed: neither refusal may use them (the fetch test above counts the attempts).
      testHarvestConfig(backend.config, { allowPrivateAddresses: false, retries: 3 }),
    )
    const port = new URL(base).port
    const errors: string[] = []
    for (const [name, url] of [
      ['unaufloesbar', 'http://quelle.invalid'],
      ['verweigert', `http://localhost:${port}`],
    ]) {
      const source = await addSource(harvester, app, { name, type: 'ckan', url, owner_org: 'marburg' })
      const result = await harvestNow(harvester, source.id)
      t.equal(result.status, 'failed', name)
      errors.push(String(result.error))
      const logged = await harvester.jobs.logs(result.job.id, 100, 0, 'error')
      t.same(
        logged.map((l) => l.message),
        [`the job failed: ${HOST_REFUSED}; nothing was withdrawn`],
        `${name}: one fetch error in the job's log`,
      )
    }
    t.same(errors, [HOST_REFUSED, HOST_REFUSED], 'the same text for both')
  })
})
