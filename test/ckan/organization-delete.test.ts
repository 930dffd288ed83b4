import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { validDataset } from '../helpers/bodies.js'
import { call, userWithToken } from '../helpers/users.js'

/** organization_delete never orphans datasets: private and draft ones count, only deleted ones do not. */
await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const sysadmin = await userWithToken(app, 'root', { sysadmin: true })
  const editor = await userWithToken(app, 'anna', { org: 'marburg', role: 'editor' })
  const [privateOne, draft] = await insertDatasets(app, [
    { name: 'nur-privat', title: 'Privat', owner_org: 'marburg', private: true },
    { name: 'nur-entwurf', title: 'Entwurf', owner_org: 'marburg', state: 'draft' },
  ])
  const refused = await call(app, sysadmin, 'organization_delete', { id: 'marburg' })
  t.equal(refused.status, 409, 'a Kommune with only a private and a draft dataset is not deleted')
  t.match(refused.body.error.id, [/2 datasets/])
  t.equal((await call(app, editor, 'package_delete', { id: privateOne })).status, 200)
  t.equal((await call(app, sysadmin, 'organization_delete', { id: 'marburg' })).status, 409, 'the draft still counts')
  t.equal((await call(app, editor, 'package_delete', { id: draft })).status, 200)
  t.equal((await call(app, sysadmin, 'organization_delete', { id: 'marburg' })).status, 200, 'deleted datasets do not count')
  const create = await call(app, sysadmin, 'package_create', validDataset('marburg', { name: 'zu-spaet' }))
  t.equal(create.status, 409, 'no dataset goes into a deleted Kommune')
  t.same(create.body.error.owner_org, ['Organization does not exist'])
})
