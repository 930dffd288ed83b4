import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { insertDatasets, startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'

/** package_delete changes the state alone: nothing of the stored dataset is rebuilt, dropped or re-validated. */
await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const editor = await userWithToken(app, 'anna', { org: 'marburg', role: 'editor' })
  // Older data that today's input rules would refuse (a relative `uri`, an access_url that is no IRI).
  const [id] = await insertDatasets(app, [
    {
      name: 'altbestand',
      title: 'Altbestand',
      owner_org: 'marburg',
      extras: [{ key: 'uri', value: 'altbestand/42' }],
      resources: [{ url: 'https://www.marburg.de/a.csv', access_url: 'kein iri' }],
    },
  ])
  const before = (await call(app, editor, 'package_show', { id })).body.result
  const etag = (await call(app, editor, 'package_show', { id })).headers.etag as string
  const deleted = await call(app, editor, 'package_delete', { id }, { 'if-match': etag })
  t.equal(deleted.status, 200, JSON.stringify(deleted.body))
  const after = (await call(app, editor, 'package_show', { id })).body.result
  t.equal(after.state, 'deleted')
  t.same(after.extras, before.extras, 'the extras stay as stored')
  t.same(after.resources.map((r: Record<string, unknown>) => r.access_url), ['kein iri'], 'the resources stay as stored')
  t.equal((await call(app, null, 'package_show', { id })).status, 403, 'gone for everybody else')
  t.equal((await call(app, null, 'package_search', { q: 'Altbestand' })).body.result.count, 0)
  const activity = await call(app, editor, 'package_activity_list', { id })
  t.equal(activity.body.result[0].activity_type, 'deleted package')
  t.same(activity.body.result[0].data.diff.map((d: { field: string }) => d.field), ['state'], 'the activity shows the state change')
  const again = await call(app, editor, 'package_delete', { id }, { 'if-match': etag })
  t.equal(again.status, 409, 'the old ETag is stale now')
})
