/**
 * Stored Turtle fragments (src/dcat/fragment-store.ts): stored when a dataset is written through the service,
 * used by the dump and the Hydra pages only while current, and never serving an auxiliary IRI another dataset
 * has come to hold since the fragment was stored.
 */
import t from 'tap'
import { sql } from 'kysely'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import type { App } from '../../src/app.js'
import { parseWith } from './support.js'

const VCARD = 'http://www.w3.org/2006/vcard/ns#'
const FUTURE_URI = 'https://example.org/daten/kontakt-b'

async function get(app: App, url: string): Promise<string> {
  const response = await app.fastify.inject({ method: 'GET', url })
  if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body.slice(0, 300)}`)
  return response.body
}

interface Row {
  package_id: string
  revision: number
  asked: string
  turtle: string
}
const fragmentRows = async (app: App): Promise<Row[]> =>
  (await sql<Row>`select package_id, revision, asked, turtle from dcat_fragment`.execute(app.service.db)).rows

forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const admin = await userWithToken(app, 'fragment-admin', { sysadmin: true })
  // A's URI, before A exists: B names it as its contact point, and so describes it (a free IRI).
  const futureUri = FUTURE_URI
  const created = await call(
    app,
    admin,
    'package_create',
    validDataset('kassel', {
      name: 'stored-b',
      extras: [
        { key: 'contact_uri', value: futureUri },
        { key: 'contact_name', value: 'Kontakt B' },
        { key: 'contact_email', value: 'b@example.org' },
      ],
    }),
  )
  t.equal(created.status, 200, 'B is created')
  const bId = (created.body as { result: { id: string } }).result.id

  await t.test('a write stores the fragment of its revision, with the IRIs it describes', async (t) => {
    const rows = await fragmentRows(app)
    const row = rows.find((r) => r.package_id === bId)
    t.ok(row, "B's fragment is stored by its write")
    t.equal(row!.revision, 1, 'of its first revision')
    t.ok((JSON.parse(row!.asked) as string[]).includes(futureUri), 'asked: the contact IRI among them')
    const dump = await parseWith('ttl', await get(app, '/catalog.ttl?page=all'))
    t.ok(
      dump.some((q) => q.subject.value === futureUri && q.predicate.value === `${VCARD}fn`),
      'the dump describes the free contact IRI',
    )
  })

  await t.test('an IRI taken later by another dataset is not described from the stored fragment', async (t) => {
    const a = await call(
      app,
      admin,
      'package_create',
      validDataset('marburg', { name: 'stored-a', extras: [{ key: 'uri', value: FUTURE_URI }] }),
    )
    t.equal(a.status, 200, 'A is created with the URI B named')
    const before = (await fragmentRows(app)).find((r) => r.package_id === bId)!
    t.match(before.turtle, futureUri, "B's stored fragment still describes the IRI (it is stored as rendered)")
    for (const url of ['/catalog.ttl?page=all', '/catalog.ttl']) {
      const quads = await parseWith('ttl', await get(app, url))
      t.notOk(
        quads.some((q) => q.subject.value === futureUri && q.predicate.value === `${VCARD}fn`),
        `${url}: A's URI gets no contact data from B`,
      )
      t.ok(
        quads.some(
          (q) => q.object.termType === 'BlankNode' && q.predicate.value === 'http://www.w3.org/ns/dcat#contactPoint',
        ),
        `${url}: B's contact point is a blank node`,
      )
    }
  })

  await t.test('a stale fragment (an older revision, or another context) is not used', async (t) => {
    await sql`update dcat_fragment set turtle = ${'<urn:x:stale> <urn:x:p> "stale".\n'}, revision = revision - 1 where package_id = ${bId}`.execute(
      app.service.db,
    )
    t.notMatch(await get(app, '/catalog.ttl?page=all'), 'urn:x:stale', 'an older revision is rendered anew')
    await sql`update dcat_fragment set turtle = ${'<urn:x:stale> <urn:x:p> "stale".\n'}, context_key = ${'0'.repeat(40)} where package_id = ${bId}`.execute(
      app.service.db,
    )
    t.notMatch(await get(app, '/catalog.ttl?page=all'), 'urn:x:stale', 'another context is rendered anew')
    const row = (await fragmentRows(app)).find((r) => r.package_id === bId)!
    t.notMatch(row.turtle, 'urn:x:stale', 'and stored again')
  })

  await t.test('an update stores the new revision; a purge deletes the fragment', async (t) => {
    const patched = await call(app, admin, 'package_patch', { id: bId, title: 'Neuer Titel B' })
    t.equal(patched.status, 200)
    const row = (await fragmentRows(app)).find((r) => r.package_id === bId)!
    t.equal(row.revision, 2, 'the new revision')
    t.match(row.turtle, 'Neuer Titel B', 'with the new title')
    const purged = await call(app, admin, 'dataset_purge', { id: bId })
    t.equal(purged.status, 200)
    t.notOk(
      (await fragmentRows(app)).some((r) => r.package_id === bId),
      'gone with the dataset',
    )
  })
})
