import t from 'tap'
import { inNamespace, uriIdentity } from '../../src/catalog/uris.js'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { validDataset } from '../helpers/bodies.js'
import { call, userWithToken } from '../helpers/users.js'

t.test('the forms of one URI have one identity', async (t) => {
  const same = ['https://marburg.de/data/baeume', 'HTTPS://MARBURG.de/data/baeume', 'https://marburg.de:443/data/baeume', 'http://marburg.de/data/baeume', 'http://marburg.de:80/data/baeume', 'https://marburg.de/data/%62aeume', 'https://marburg.de/data/baeume#', 'https://marburg.de/data/baeume?']
  for (const uri of same) t.equal(uriIdentity(uri), uriIdentity(same[0]!), uri)
  const other = ['https://marburg.de/data/baeume/', 'https://marburg.de/data/Baeume', 'https://marburg.de/data/baeume?x', 'https://marburg.de/data/baeume#x', 'https://marburg.de:8443/data/baeume']
  for (const uri of other) t.not(uriIdentity(uri), uriIdentity(same[0]!), uri)
  t.equal(uriIdentity('https://x.de/a%2fb'), 'https://x.de/a%2Fb', 'a reserved escape stays, in upper case')
  t.ok(inNamespace('HTTP://127.0.0.1:3000/dataset/x', 'http://127.0.0.1:3000'))
  t.ok(inNamespace('https://127.0.0.1:3000', 'http://127.0.0.1:3000'))
  t.notOk(inNamespace('http://127.0.0.1:30001/dataset/x', 'http://127.0.0.1:3000'))
})

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const marburg = await userWithToken(app, 'anna', { org: 'marburg', role: 'editor' })
  const kassel = await userWithToken(app, 'kurt', { org: 'kassel', role: 'editor' })
  const taken = 'https://marburg.de/data/baeume'
  const original = await call(app, marburg, 'package_create', validDataset('marburg', { name: 'baeume', extras: [{ key: 'uri', value: taken }] }))
  t.equal(original.status, 200, JSON.stringify(original.body).slice(0, 300))
  const marburgId = original.body.result.id as string
  const base = backend.config.baseUrl
  const variants = [
    'https://MARBURG.de/data/baeume',
    'HTTPS://marburg.de/data/baeume',
    'https://marburg.de:443/data/baeume',
    'https://marburg.de/data/%62aeume',
    'http://marburg.de/data/baeume',
    'https://marburg.de/data/baeume#',
    base.replace('http://', 'HTTP://') + `/dataset/${marburgId}`,
    base.replace('http://', 'https://') + `/dataset/${marburgId}`,
  ]
  for (const [i, uri] of variants.entries()) {
    const res = await call(app, kassel, 'package_create', validDataset('kassel', { name: `variante-${i}`, extras: [{ key: 'uri', value: uri }] }))
    t.equal(res.status, 409, `${uri}: ${JSON.stringify(res.body.error ?? {}).slice(0, 200)}`)
    t.ok(res.body.error?.uri, 'naming the field')
  }
  const distinct = await call(app, kassel, 'package_create', validDataset('kassel', { name: 'andere-uri', extras: [{ key: 'uri', value: 'https://marburg.de/data/baeume/kassel' }] }))
  t.equal(distinct.status, 200, 'another URI under the same host is fine')
})
