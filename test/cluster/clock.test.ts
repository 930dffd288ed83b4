/**
 * A server whose clock is 60 s behind (Debian's faketime) writes into a catalog that another server also
 * writes: its writes must not look older than what came before them, or incremental harvests
 * (`modified_since`, `fq=metadata_modified:[T TO *]`) and conditional requests (ETags) would miss them for
 * good. Stamps never go below the newest one in the catalog, and DCAT ETags follow the change feed.
 */
import t from 'tap'
import { mysqlUrl } from '../helpers/backends.js'
import { validDataset } from '../helpers/bodies.js'
import { ok, sharedDatabase, standardTokens, startServers, stopAll } from '../helpers/servers.js'

const kinds: Array<'sqlite' | 'mysql'> = mysqlUrl() ? ['sqlite', 'mysql'] : ['sqlite']
if (!mysqlUrl()) t.comment('skipping MySQL: DATABASE_URL does not name a MySQL/MariaDB server')

for (const kind of kinds) {
  t.test(`${kind}: writes of a server whose clock is behind are not stamped in the past`, async (t) => {
    const db = await sharedDatabase(kind, mysqlUrl())
    t.teardown(() => db.cleanup())
    const tokens = await standardTokens(db.store)
    const env = { WORKERS: '1', WRITE_RATE_LIMIT: '1000000' }
    const servers = await startServers(db.url, [
      { label: 'A', env },
      { label: 'B', env, clockOffsetMs: -60_000 },
    ])
    t.teardown(() => stopAll(servers))
    const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]]
    if (b.clock === 'env') t.comment('faketime does not shift Node here: B runs with the real clock, the test shows nothing about skew')

    const created = await ok(a, 'package_create', { token: tokens.marburgEditor, body: validDataset('marburg', { name: 'uhr-test' }) })
    const other = await ok(a, 'package_create', { token: tokens.marburgEditor, body: validDataset('marburg', { name: 'uhr-test-2' }) })
    const harvestedAt = other.metadata_modified as string
    const page = await fetch(`${a.base}/catalog.ttl`)
    const etag = page.headers.get('etag')!
    await page.arrayBuffer()

    const patched = await ok(b, 'package_patch', { token: tokens.marburgEditor, body: { id: created.id, title: 'Von B geändert' } })
    t.ok(patched.metadata_modified > harvestedAt, `B's stamp ${patched.metadata_modified} is after the newest before it, ${harvestedAt}`)
    t.ok(patched.metadata_modified > created.metadata_created, 'and never before the dataset was created')

    const since = await ok(a, 'package_search', { query: { q: '*:*', fq: `metadata_modified:[${harvestedAt}Z TO *]`, rows: 10 } })
    t.ok(
      (since.results as Array<{ id: string }>).some((r) => r.id === created.id),
      "an incremental harvest from the last change it saw finds B's edit",
    )
    const revalidated = await fetch(`${a.base}/catalog.ttl`, { headers: { 'if-none-match': etag } })
    await revalidated.arrayBuffer()
    t.equal(revalidated.status, 200, "the catalog's ETag from before B's edit no longer matches")
  })
}
