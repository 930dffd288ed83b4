/**
 * A dataset write scores with its Kommune as committed, not with the process's copy of the reference data, which
 * may be a change-feed poll behind. Two servers on one database: A changes the Kommune's e-mail (which a dataset
 * without a contact of its own takes as contact point, quality/facts.ts) and rescores its datasets at once; B,
 * whose copy still has the old e-mail, then writes one of the datasets. Scored with B's copy, the stored score
 * would keep the old e-mail for good (the Kommune's marker is already handled). Likewise a rescore run by a
 * process that has not read the feed yet.
 */
import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startTwoServices } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { rescorePending } from '../../src/quality/backfill.js'
import { qualityDb, type StoredExplanation } from '../../src/quality/recorder.js'

const KOMMUNE = 'stale-copy-kommune'
const EMAIL = 'open-data@stale.example'

await forEachBackend(t, async (t, backend) => {
  // B reads the change feed only when told (an hour's poll).
  const [a, b] = await startTwoServices(t, backend, { changePollMs: 3_600_000 })
  const qdb = qualityDb(backend.store.db)
  const admin = await userWithToken(a, 'stale-copy-admin', { sysadmin: true })
  const created = await call(a, admin, 'organization_create', { name: KOMMUNE, title: 'Gemeinde', email: EMAIL })
  t.equal(created.status, 200)
  await b.service.catchUpChangeFeed()
  const body = validDataset(KOMMUNE, { name: 'stale-copy-dataset' })
  const dataset = await call(b, admin, 'package_create', body)
  t.equal(dataset.status, 200, JSON.stringify(dataset.body.error ?? ''))
  const id = dataset.body.result.id as string
  const stored = async () => {
    const row = await qdb
      .selectFrom('package_quality')
      .select(['score_portal', 'explanation'])
      .where('package_id', '=', id)
      .executeTakeFirstOrThrow()
    const explanation = JSON.parse(row.explanation) as StoredExplanation
    const contact = explanation.portal.indicators.find((i) => i.id === 'contactPointAvailability')!.status
    return { score: Number(row.score_portal), contact }
  }
  const withEmail = await stored()
  t.equal(withEmail.contact, 'earned', "the Kommune's e-mail is the contact point")
  const pending = async () => (await qdb.selectFrom('org_rescore_pending').select('id').execute()).length

  await t.test("a write on B after A's Kommune edit and rescore scores with the committed Kommune", async (t) => {
    t.equal((await call(a, admin, 'organization_patch', { id: KOMMUNE, email: '' })).status, 200)
    t.equal(await rescorePending(a.service), 1, "A rescores the Kommune's dataset at once")
    const rescored = await stored()
    t.equal(rescored.contact, 'missed')
    t.equal(b.service.reference.organization(KOMMUNE)?.email, EMAIL, "B's copy is a poll behind")

    const updated = await call(b, admin, 'package_update', { ...body, id, notes: 'Neu beschrieben' })
    t.equal(updated.status, 200, JSON.stringify(updated.body.error ?? ''))
    t.same(await stored(), rescored, "B's write stored the score of the Kommune without e-mail")
    t.equal(await pending(), 0, 'nothing queued would correct it later')
  })

  await t.test('a rescore on a process a poll behind scores with the committed Kommune', async (t) => {
    await b.service.catchUpChangeFeed()
    t.equal((await call(a, admin, 'organization_patch', { id: KOMMUNE, email: EMAIL })).status, 200)
    t.equal(b.service.reference.organization(KOMMUNE)?.email, '', "B's copy is a poll behind")
    t.equal(await rescorePending(b.service), 1, 'B runs the rescore')
    t.same(await stored(), withEmail, 'the e-mail is the contact point again')
  })
})
