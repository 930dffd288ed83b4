import t from 'tap'
import { forEachBackend } from '../helpers/backends.js'
import { startApp } from '../helpers/app.js'
import { userWithToken } from '../helpers/users.js'
import { validDataset } from '../helpers/bodies.js'
import { dumpDatabase } from '../helpers/dump.js'

/** A deterministic PRNG, so the corpus is the same on every run. */
function mulberry32(seed: number) {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let r = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
}

interface BadRequest {
  label: string
  action: string
  payload: string | Record<string, unknown>
  contentType?: string
  /** Sent as a GET with this query string instead of a POST. */
  query?: string
}

function corpus(existingName: string, existingId: string): BadRequest[] {
  const rand = mulberry32(4711)
  const requests: BadRequest[] = []
  const base = () => validDataset('marburg')
  const strange = ['', ' ', 'ä'.repeat(3), '<script>alert(1)</script>', "'; DROP TABLE package; --", '\u0000', '\ud800', '../../etc/passwd', 'x'.repeat(300), 'NULL', '{}', '[]']
  // Wrong types for every field.
  const wrongValues: unknown[] = [42, true, null, [], {}, ['a'], { name: 'x' }, -1, 1.5]
  for (const field of ['name', 'title', 'notes', 'owner_org', 'license_id', 'url', 'author_email', 'maintainer_email', 'tags', 'groups', 'extras', 'resources', 'private', 'state']) {
    for (const value of wrongValues) {
      if (field === 'private' && typeof value === 'boolean') continue
      // null means "not given" in CKAN's schema (ignore_missing) for these fields.
      if (['private', 'state'].includes(field) && value === null) continue
      if (['title', 'notes', 'license_id', 'url', 'author_email', 'maintainer_email'].includes(field) && value === null) continue
      if (['tags', 'groups', 'extras', 'resources'].includes(field) && (value === null || (Array.isArray(value) && value.length === 0))) continue
      requests.push({ label: `${field}=${JSON.stringify(value)}`, action: 'package_create', payload: { ...base(), [field]: value } })
    }
  }
  // Missing required fields.
  for (const field of ['name', 'owner_org']) {
    const body = base()
    delete body[field]
    requests.push({ label: `missing ${field}`, action: 'package_create', payload: body })
  }
  // Names, URLs and e-mails that break the rules.
  for (const name of ['a', 'x'.repeat(101), 'Großbuchstaben', 'with space', 'ümlaut', existingName, '<b>x</b>', 'semi;colon']) {
    requests.push({ label: `name ${name.slice(0, 20)}`, action: 'package_create', payload: { ...base(), name } })
  }
  for (const url of ['not a url', 'javascript:alert(1)', 'http://', '<script>', 'http://exa mple.org']) {
    requests.push({ label: `url ${url}`, action: 'package_create', payload: { ...base(), url } })
    requests.push({ label: `resource url ${url}`, action: 'package_create', payload: { ...base(), resources: [{ url }] } })
  }
  requests.push({ label: 'dataset url ftp', action: 'package_create', payload: { ...base(), url: 'ftp://example.org' } })
  for (const email of ['nobody', '@example.org', 'a@b', 'x y@z.de']) requests.push({ label: `email ${email}`, action: 'package_create', payload: { ...base(), maintainer_email: email } })
  requests.push({ label: 'unknown organization', action: 'package_create', payload: { ...base(), owner_org: 'atlantis' } })
  requests.push({ label: 'unknown group', action: 'package_create', payload: { ...base(), groups: [{ name: 'xyz' }] } })
  requests.push({ label: 'unknown licence', action: 'package_create', payload: { ...base(), license_id: 'all-rights-reserved' } })
  requests.push({ label: 'bad state', action: 'package_create', payload: { ...base(), state: 'published' } })
  requests.push({ label: 'too many tags', action: 'package_create', payload: { ...base(), tags: Array.from({ length: 150 }, (_, i) => ({ name: `tag${i}` })) } })
  requests.push({ label: 'too many resources', action: 'package_create', payload: { ...base(), resources: Array.from({ length: 150 }, (_, i) => ({ url: `https://x.org/${i}` })) } })
  requests.push({ label: 'huge title', action: 'package_create', payload: { ...base(), title: 'T'.repeat(10_000) } })
  requests.push({ label: 'tag with script', action: 'package_create', payload: { ...base(), tags: [{ name: '<script>' }] } })
  requests.push({ label: 'duplicate extras', action: 'package_create', payload: { ...base(), extras: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] } })
  requests.push({ label: 'extra without key', action: 'package_create', payload: { ...base(), extras: [{ value: '1' }] } })
  requests.push({ label: 'resource size', action: 'package_create', payload: { ...base(), resources: [{ url: 'https://x.org', size: 'gross' }] } })
  // Strange strings in random fields.
  for (let i = 0; i < 40; i++) {
    const field = ['name', 'owner_org', 'license_id', 'url', 'maintainer_email'][Math.floor(rand() * 5)]!
    const value = strange[Math.floor(rand() * strange.length)]! + (rand() < 0.5 ? strange[Math.floor(rand() * strange.length)] : '')
    requests.push({ label: `strange ${field}`, action: 'package_create', payload: { ...base(), [field]: value, name: field === 'name' ? value : `bad-${i}-${'Ü'}` } })
  }
  // Not JSON, not a dict, bad UTF-8, deep nesting.
  for (const text of ['{', '{"name": }', 'null', '[1,2,3]', '"string"', '12', '{"a":1}{"b":2}', '\u00ff\u00fe', '{"name": "x", "owner_org": "marburg"' + ', "x": [' .repeat(1) + ']}']) {
    requests.push({ label: `raw ${text.slice(0, 15)}`, action: 'package_create', payload: text, contentType: 'application/json' })
  }
  requests.push({ label: 'deep JSON', action: 'package_create', payload: '{"extras": ' + '['.repeat(5000) + ']'.repeat(5000) + '}', contentType: 'application/json' })
  requests.push({ label: 'invalid UTF-8 bytes', action: 'package_create', payload: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]).toString('latin1'), contentType: 'application/json' })
  // Updates, patches and resource writes on missing or bad targets.
  for (const action of ['package_update', 'package_patch', 'package_delete', 'resource_update', 'resource_patch', 'resource_delete', 'package_resource_reorder']) {
    requests.push({ label: `${action} without id`, action, payload: {} })
    requests.push({ label: `${action} unknown id`, action, payload: { id: 'does-not-exist' } })
    requests.push({ label: `${action} id type`, action, payload: { id: 12 } })
  }
  requests.push({ label: 'patch with bad url', action: 'package_patch', payload: { id: existingId, url: 'kaputt' } })
  requests.push({ label: 'patch rename to taken', action: 'package_patch', payload: { id: existingId, name: 'Kaputt Name' } })
  requests.push({ label: 'patch bad licence', action: 'package_patch', payload: { id: existingId, license_id: 'nope' } })
  requests.push({ label: 'patch resources not list', action: 'package_patch', payload: { id: existingId, resources: 'nope' } })
  requests.push({ label: 'reorder unknown ids', action: 'package_resource_reorder', payload: { id: existingId, order: ['a', 'b'] } })
  requests.push({ label: 'resource_create without package', action: 'resource_create', payload: { url: 'https://x.org' } })
  requests.push({ label: 'resource_create without url', action: 'resource_create', payload: { package_id: existingId } })
  requests.push({ label: 'resource_create bad url', action: 'resource_create', payload: { package_id: existingId, url: 'no url' } })
  requests.push({ label: 'organization_create bad name', action: 'organization_create', payload: { name: 'Bad Name' } })
  requests.push({ label: 'member_create bad role', action: 'organization_member_create', payload: { id: 'marburg', username: 'nobody', role: 'king' } })
  requests.push({ label: 'token for nobody', action: 'api_token_create', payload: { user: 'nobody-here', name: 'x' } })
  // Keys that name the prototype's members (issue 9: each was a 500).
  for (const text of ['{"__proto__": {"rows": 5}}', '{"__proto__": 1}', '{"constructor": 1}', '{"constructor": {"a": 1}}', '{"q": "x", "toString": "y", "hasOwnProperty": 1}']) {
    requests.push({ label: `package_search ${text}`, action: 'package_search', payload: text, contentType: 'application/json' })
  }
  requests.push({ label: 'package_search form __proto__', action: 'package_search', payload: '__proto__=1&constructor=2', contentType: 'application/x-www-form-urlencoded' })
  // Integers beyond any database's LIMIT/OFFSET, in query strings and in JSON bodies.
  const huge: Array<[string, string]> = [
    ['package_search', 'start'], ['package_search', 'rows'], ['package_search', 'facet.limit'], ['package_search', 'facet.mincount'],
    ['package_list', 'offset'], ['package_list', 'limit'],
    ['current_package_list_with_resources', 'offset'], ['current_package_list_with_resources', 'limit'], ['current_package_list_with_resources', 'page'],
    ['organization_list', 'offset'], ['organization_list', 'limit'], ['group_list', 'offset'], ['group_list', 'limit'],
  ]
  for (const [action, field] of huge) {
    for (const value of ['1e22', '-1e22', '9007199254740993']) requests.push({ label: `${action} ${field}=${value}`, action, payload: {}, query: `${encodeURIComponent(field)}=${value}` })
    requests.push({ label: `${action} {${field}: 1e22}`, action, payload: `{"${field}": 1e22}`, contentType: 'application/json' })
  }
  // Nesting and width beyond the body limits.
  const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels)
  requests.push({ label: 'resource JSON nested 3000 levels', action: 'package_create', payload: `{"name": "tief", "owner_org": "marburg", "resources": [{"url": "https://x.org", "extra": ${nested(3000)}}]}`, contentType: 'application/json' })
  requests.push({ label: 'resource_create nested 3000 levels', action: 'resource_create', payload: `{"package_id": "${existingId}", "url": "https://x.org", "extra": {"a": ${nested(3000)}}}`, contentType: 'application/json' })
  requests.push({ label: 'JSON as a form nested 3000 levels', action: 'package_create', payload: encodeURIComponent(`{"name": "tief", "resources": ${nested(3000)}}`), contentType: 'application/x-www-form-urlencoded' })
  requests.push({ label: 'fq_list nested 3000 levels', action: 'package_search', payload: {}, query: `fq_list=${nested(3000)}` })
  // Query work beyond the request's budget (q, fq and fq_list together) and facets beyond their caps.
  const prefixes = Array.from({ length: 199 }, (_, i) => `-title:zz${i}*`).join(' ')
  requests.push({ label: 'fq_list of 20 items of 199 prefixes', action: 'package_search', payload: { q: 'wasser', fq_list: Array(20).fill(prefixes), 'facet.field': ['author'] } })
  requests.push({ label: 'fq_list of 999 one-clause filters', action: 'package_search', payload: { q: 'wasser', fq_list: Array.from({ length: 999 }, (_, i) => `-name:x${i}`) } })
  requests.push({ label: 'fq_list of 999 filters in a query string', action: 'package_search', payload: {}, query: `fq_list=${encodeURIComponent(JSON.stringify(Array.from({ length: 999 }, (_, i) => `-name:x${i}`)))}` })
  requests.push({ label: 'q and fq beyond 10,000 characters together', action: 'package_search', payload: { q: 'w'.repeat(9000), fq: `name:${'n'.repeat(9000)}` } })
  requests.push({ label: '21 facet fields', action: 'package_search', payload: { rows: 0, 'facet.limit': -1, 'facet.field': Array.from({ length: 21 }, (_, i) => `extras_k${i}`) } })
  requests.push({ label: 'JSON object of 100,000 keys', action: 'package_create', payload: JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]))), contentType: 'application/json' })
  requests.push({ label: 'form of 100,000 fields', action: 'package_create', payload: Array.from({ length: 100_000 }, (_, i) => `k${i}=${i}`).join('&'), contentType: 'application/x-www-form-urlencoded' })
  return requests
}

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const admin = await userWithToken(app, 'kommunenadmin', { org: 'marburg', role: 'admin' })
  const existing = (await app.fastify.inject({ method: 'POST', url: '/api/3/action/package_create', payload: validDataset('marburg'), headers: { authorization: admin.token! } })).json().result
  const requests = corpus(existing.name, existing.id)
  t.ok(requests.length >= 200, `${requests.length} malformed requests`)
  const before = await dumpDatabase(backend.store.db)
  const failures: string[] = []
  for (const request of requests) {
    const response =
      request.query !== undefined
        ? await app.fastify.inject({ method: 'GET', url: `/api/3/action/${request.action}?${request.query}`, headers: { authorization: admin.token! } })
        : await app.fastify.inject({
            method: 'POST',
            url: `/api/3/action/${request.action}`,
            payload: request.payload,
            headers: { authorization: admin.token!, ...(request.contentType ? { 'content-type': request.contentType } : {}) },
          })
    const status = response.statusCode
    let body: unknown
    try {
      body = response.json()
    } catch {
      body = undefined
    }
    const envelope = body && typeof body === 'object' ? (body as { success?: boolean; error?: { __type?: string } }) : undefined
    const ckanShaped = (envelope?.success === false && typeof envelope.error?.__type === 'string') || (typeof body === 'string' && body.startsWith('Bad request - '))
    if (status < 400 || status >= 500 || !ckanShaped) failures.push(`${request.label}: ${status} ${response.body.slice(0, 200)}`)
  }
  t.same(failures, [], 'every malformed request gets a 4xx in CKAN’s shape')
  const after = await dumpDatabase(backend.store.db)
  t.equal(after.hash, before.hash, `the database is byte-for-byte unchanged (${after.rows} rows)`)
})
