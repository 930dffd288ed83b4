import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { call, userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { dumpDatabase } from '../helpers/dump.js'

/** The messages of one field of one item of a list in a 409's field map. */
function itemMessages(error: Record<string, unknown>, list: string, index: number, field: string): string[] {
  const items = error[list] as Array<Record<string, string[]>> | undefined
  return items?.[index]?.[field] ?? []
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const editor = await userWithToken(app, 'pruefer', { org: 'marburg', role: 'editor' })

  await t.test('one pass: CKAN field errors and DCAT-AP.de findings in one 409', async (t) => {
    const before = await dumpDatabase(backend.store.db)
    // A bad landing page URL (CKAN) and no description (DCAT-AP.de: dct:description is mandatory).
    const body = validDataset('marburg', { url: 'keine url', notes: '' })
    const answer = await call(app, editor, 'package_create', body)
    t.equal(answer.status, 409)
    t.same(answer.body.error.url, ['Please provide a valid URL'], 'the CKAN field error')
    const findings = answer.body.error.dcat_ap_de as Array<{ path: string; severity: string }>
    t.ok(findings?.some((f) => f.path === 'http://purl.org/dc/terms/description' && f.severity === 'violation'), 'and the DCAT-AP.de finding, in the same answer')
    const draft = await call(app, editor, 'package_create', { ...body, name: `${body.name}-entwurf`, state: 'draft' })
    t.equal(draft.status, 409)
    t.same(draft.body.error.url, ['Please provide a valid URL'])
    t.notOk(draft.body.error.dcat_ap_de, 'drafts skip the DCAT-AP.de rules')
    t.equal((await dumpDatabase(backend.store.db)).hash, before.hash, 'nothing is stored')
  })

  await t.test('the DCAT-AP.de rules see the rest of a resource that has an error', async (t) => {
    // The only resource has a refused format: the rules judge it without the format, so no "no distribution" finding.
    const answer = await call(app, editor, 'package_create', validDataset('marburg', { notes: '', resources: [{ url: 'https://example.org/a.bin', format: 'FOOBAR' }] }))
    t.equal(answer.status, 409)
    t.match(itemMessages(answer.body.error, 'resources', 0, 'format'), [/Unknown format "FOOBAR".*EU file-type code.*IANA media type/])
    const findings = (answer.body.error.dcat_ap_de ?? []) as Array<{ path: string; focusNode: string }>
    t.ok(findings.some((f) => f.path === 'http://purl.org/dc/terms/description'), 'the rules ran')
    t.notOk(findings.some((f) => f.path === 'http://www.w3.org/ns/dcat#distribution'), 'the distribution is there for the rules')
  })

  await t.test('unknown vocabulary terms are refused naming the field, known ones are stored as URIs', async (t) => {
    const answer = await call(app, editor, 'package_create', validDataset('marburg', {
      extras: [{ key: 'frequency', value: 'SOMETIMES' }, { key: 'language', value: '["de", "klingonisch"]' }],
      resources: [
        { url: 'https://example.org/a.csv', format: 'CSV', license: 'dl-by-de/2.0' },
        { url: 'https://example.org/b', format: 'FOOBAR', mimetype: 'kein typ', license: 'meine-lizenz', language: ['xx'] },
      ],
    }))
    t.equal(answer.status, 409)
    const error = answer.body.error
    t.match(itemMessages(error, 'extras', 0, 'value'), [/Unknown frequency "SOMETIMES"/])
    t.match(itemMessages(error, 'extras', 1, 'value'), [/Unknown language "klingonisch"/])
    t.same(error.resources[0], {}, 'a good resource keeps its place as {}')
    t.match(itemMessages(error, 'resources', 1, 'format'), [/Unknown format "FOOBAR"/])
    t.match(itemMessages(error, 'resources', 1, 'mimetype'), [/IANA media type/])
    t.match(itemMessages(error, 'resources', 1, 'license'), [/License not found/])
    t.match(itemMessages(error, 'resources', 1, 'language'), [/Unknown language "xx"/])

    const patched = await call(app, editor, 'package_create', validDataset('marburg', {
      extras: [{ key: 'frequency', value: 'ANNUAL' }, { key: 'language', value: 'de, en' }],
      resources: [{ url: 'https://example.org/a', format: 'application/x-7z-compressed', mimetype: 'application/vnd.ms-excel', license: 'dl-by-de/2.0', language: ['http://publications.europa.eu/resource/authority/language/POL'] }],
    }))
    t.equal(patched.status, 200, JSON.stringify(patched.body.error))
    t.equal(patched.body.result.resources[0].format, '7Z', 'an alias of an EU file type is taken')
  })

  await t.test('extras need a value, as CKAN', async (t) => {
    const answer = await call(app, editor, 'package_create', validDataset('marburg', { extras: [{ key: 'frequency', value: 'DAILY' }, { key: 'bemerkung' }, { key: 'quelle', value: null }, { value: 'ohne schlüssel' }, { key: 'leer', value: '' }] }))
    t.equal(answer.status, 409)
    // Items before the last with errors are {} (CKAN's positions); an empty string is a value.
    t.same(answer.body.error.extras, [{}, { value: ['Missing value'] }, { value: ['Missing value'] }, { key: ['Missing value'] }])
  })

  await t.test('NUL, lone surrogates and invalid UTF-8 are refused in any field, named', async (t) => {
    const before = await dumpDatabase(backend.store.db)
    const answer = await call(app, editor, 'package_create', validDataset('marburg', {
      title: 'Titel\u0000mit NUL',
      notes: 'Beschreibung \ud800 halb',
      tags: [{ name: 'gut' }, { name: 'bö\uFFFDse' }],
      extras: [{ key: 'frequency', value: 'DAILY' }, { key: 'schl\u0000ssel', value: 'x' }, { key: 'wert', value: 'a\udfffb' }],
      resources: [{ url: 'https://example.org/a.csv', format: 'CSV', license: 'dl-by-de/2.0', name: 'ok', description: 'NUL\u0000', eigenes: { tief: ['x', 'y\u0000'] } }],
    }))
    t.equal(answer.status, 409)
    const error = answer.body.error
    t.same(error.title, ['Must not contain NUL characters'])
    t.same(error.notes, ['Must be valid Unicode: a lone surrogate is not a character'])
    t.same(itemMessages(error, 'tags', 1, 'name'), ['Must be valid UTF-8: U+FFFD marks bytes that were not UTF-8'])
    t.same(error.tags[0], {})
    t.same(itemMessages(error, 'extras', 1, 'key'), ['Must not contain NUL characters'])
    t.same(itemMessages(error, 'extras', 2, 'value'), ['Must be valid Unicode: a lone surrogate is not a character'])
    t.same(itemMessages(error, 'resources', 0, 'description'), ['Must not contain NUL characters'])
    t.same(itemMessages(error, 'resources', 0, 'eigenes'), ['tief[1]: Must not contain NUL characters'], 'nested values are named by their path')
    t.notOk(error.dcat_ap_de?.some((f: { path: string }) => f.path === 'http://purl.org/dc/terms/title'), 'the rules judged the title without the NUL, not a missing one')

    const badKey = await call(app, editor, 'package_create', { ...validDataset('marburg'), 'feld\u0000': 'x' })
    t.equal(badKey.status, 409)
    t.same(badKey.body.error['feld\\u0000'], ['Field name: Must not contain NUL characters'], 'a key that is not text is named escaped')

    // Bytes that are not UTF-8, in a JSON body and in a form body.
    const [head, tail] = JSON.stringify(validDataset('marburg', { title: 'A@@B' })).split('@@') as [string, string]
    const json = Buffer.concat([Buffer.from(head, 'utf8'), Buffer.from([0xff, 0xfe]), Buffer.from(tail, 'utf8')])
    const jsonAnswer = await app.fastify.inject({ method: 'POST', url: '/api/3/action/package_create', payload: json, headers: { authorization: editor.token!, 'content-type': 'application/json' } })
    t.equal(jsonAnswer.statusCode, 409)
    t.match(jsonAnswer.json().error.title, [/UTF-8/])
    const form = await app.fastify.inject({ method: 'POST', url: '/api/3/action/package_create', payload: 'name=formular-utf8&owner_org=marburg&title=%FF%FE', headers: { authorization: editor.token!, 'content-type': 'application/x-www-form-urlencoded' } })
    t.equal(form.statusCode, 409)
    t.match(form.json().error.title, [/UTF-8/])

    const created = (await call(app, editor, 'package_create', validDataset('marburg'))).body.result
    const resource = await call(app, editor, 'resource_create', { package_id: created.id, url: 'https://example.org/b.csv', format: 'CSV', name: 'a\u0000b' })
    t.equal(resource.status, 409)
    t.same(resource.body.error.name, ['Must not contain NUL characters'], 'resource_create names the field of the resource')
    const patched = await call(app, editor, 'package_patch', { id: created.id, tags: [{ name: 'x\ud800' }] })
    t.equal(patched.status, 409)
    t.same(patched.body.error.tags, [{ name: ['Must be valid Unicode: a lone surrogate is not a character'] }])
    const stored = await backend.store.db.selectFrom('package').select('id').where('name', 'in', ['formular-utf8']).execute()
    t.same(stored, [], 'nothing refused was stored')
    t.not((await dumpDatabase(backend.store.db)).hash, before.hash, 'only the valid dataset was stored')
  })

  await t.test('booleans in package dicts as CKAN reads them', async (t) => {
    const words = await call(app, editor, 'package_create', validDataset('marburg', { private: 'yes' }))
    t.equal(words.status, 200)
    t.equal(words.body.result.private, true)
    const bad = await call(app, editor, 'package_create', validDataset('marburg', { private: 'vielleicht' }))
    t.same(bad.body.error.private, ['Value must be one of: true, false'])
    const size = await call(app, editor, 'package_create', validDataset('marburg', { resources: [{ url: 'https://example.org/a.csv', format: 'CSV', license: 'dl-by-de/2.0', size: '1024' }] }))
    t.equal(size.body.result.resources[0].size, 1024, 'a size given as text')
    const badSize = await call(app, editor, 'package_create', validDataset('marburg', { resources: [{ url: 'https://example.org/a.csv', format: 'CSV', license: 'dl-by-de/2.0', size: '1.5' }] }))
    t.same(itemMessages(badSize.body.error, 'resources', 0, 'size'), ['Invalid integer'])
  })
})
