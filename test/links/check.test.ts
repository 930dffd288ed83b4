import t from 'tap'
import {
  checkUrl,
  classifyError,
  declaredMediaType,
  isBlockedAddress,
  mediaTypesDiffer,
  type CheckOptions,
} from '../../src/links/check.js'
import { closedPort, startFixtureServer } from './fixture-server.js'

const UA = 'GoDonuLinkChecker/1.0 (+http://catalog.test)'
const options = (extra: Partial<CheckOptions> = {}): CheckOptions => ({
  timeoutMs: 2000,
  maxRedirects: 5,
  userAgent: UA,
  allowPrivateAddresses: true,
  ...extra,
})

t.test('answers of a loopback server', async (t) => {
  const server = await startFixtureServer(t)
  const b = server.base

  const ok = await checkUrl(`${b}/ok`, options({ declaredMediaType: 'text/csv' }))
  t.match(ok, {
    status: 'reachable',
    httpStatus: 200,
    errorCode: null,
    redirects: 0,
    contentType: 'text/csv',
    mediaTypeMismatch: 0,
    method: 'HEAD',
    finalUrl: `${b}/ok`,
  })
  t.equal(server.hits.get('HEAD /ok'), 1, 'HEAD first')
  t.notOk(server.hits.get('GET /ok'), 'no GET when HEAD answers')
  t.same([...server.userAgents], [UA], 'the User-Agent names the service')

  const chain = await checkUrl(`${b}/chain/3`, options())
  t.match(chain, { status: 'reachable', httpStatus: 200, redirects: 3, finalUrl: `${b}/chain/0` }, '301 chain followed')
  const tooLong = await checkUrl(`${b}/chain/6`, options())
  t.match(tooLong, { status: 'unreachable', errorCode: 'too_many_redirects', httpStatus: 301, redirects: 5 })
  const exactlyMax = await checkUrl(`${b}/chain/5`, options())
  t.match(exactlyMax, { status: 'reachable', redirects: 5 }, 'N redirects are allowed')
  const noRedirects = await checkUrl(`${b}/chain/1`, options({ maxRedirects: 0 }))
  t.match(noRedirects, { errorCode: 'too_many_redirects' })

  const loop = await checkUrl(`${b}/loop/a`, options({ maxRedirects: 20 }))
  t.match(loop, { status: 'unreachable', errorCode: 'redirect_loop', httpStatus: 302 })
  t.equal(server.hits.get('HEAD /loop/a'), 1, 'a loop is recognised, not walked N times')

  t.match(
    await checkUrl(`${b}/to-invalid`, options()),
    { status: 'unreachable', errorCode: 'invalid_url' },
    'redirect to a non-http URL',
  )
  t.match(
    await checkUrl(`${b}/redirect-without-location`, options()),
    { status: 'reachable', httpStatus: 302 },
    'a 3xx without Location is a 3xx',
  )

  t.match(await checkUrl(`${b}/missing`, options()), {
    status: 'unreachable',
    errorCode: 'http_error',
    httpStatus: 404,
  })
  t.match(await checkUrl(`${b}/error`, options()), { status: 'unreachable', errorCode: 'http_error', httpStatus: 500 })
  t.match(await checkUrl(`${b}/empty`, options()), { status: 'reachable', httpStatus: 204 })

  const nohead = await checkUrl(`${b}/nohead`, options())
  t.match(nohead, { status: 'reachable', httpStatus: 200, method: 'GET', contentType: 'text/csv' }, '405 to HEAD: GET')
  t.equal(server.hits.get('HEAD /nohead'), 1)
  t.equal(server.hits.get('GET /nohead'), 1)
  const endless = await checkUrl(`${b}/nohead501`, options())
  t.match(
    endless,
    { status: 'reachable', method: 'GET' },
    '501 to HEAD: a GET stopped after the first bytes of an endless body',
  )

  const wms = await checkUrl(`${b}/wms?SERVICE=WMS`, options())
  t.match(wms, { status: 'reachable', method: 'GET', httpStatus: 200 }, 'OGC service: GET GetCapabilities')
  t.notOk(server.hits.get('HEAD /wms'), 'no HEAD to an OGC service')

  const wrong = await checkUrl(`${b}/html`, options({ declaredMediaType: 'text/csv' }))
  t.match(wrong, { status: 'reachable', contentType: 'text/html', mediaTypeMismatch: 1 }, 'wrong content type flagged')
  t.match(
    await checkUrl(
      `${b}/xml`,
      options({ declaredMediaType: 'http://www.iana.org/assignments/media-types/application/xml' }),
    ),
    { mediaTypeMismatch: 0 },
    'text/xml is application/xml',
  )
  t.match(
    await checkUrl(`${b}/octet`, options({ declaredMediaType: 'text/csv' })),
    { mediaTypeMismatch: 0 },
    'octet-stream tells nothing',
  )
  t.match(await checkUrl(`${b}/html`, options()), { mediaTypeMismatch: 0 }, 'nothing declared, nothing flagged')
})

t.test('failures have distinct codes', async (t) => {
  const server = await startFixtureServer(t)
  const b = server.base
  t.match(await checkUrl(`${b}/slow`, options({ timeoutMs: 300 })), {
    status: 'unreachable',
    errorCode: 'timeout',
    httpStatus: null,
  })
  t.match(
    await checkUrl(`${b}/slow-body`, options({ timeoutMs: 300, declaredMediaType: 'text/csv' })),
    { status: 'reachable' },
    'HEAD answers at once',
  )
  t.match(await checkUrl(`${b}/reset`, options()), { status: 'unreachable', errorCode: 'reset' })
  t.match(await checkUrl(`http://127.0.0.1:${await closedPort()}/ok`, options()), {
    status: 'unreachable',
    errorCode: 'refused',
  })
  t.match(await checkUrl('http://no-such-host.invalid/data.csv', options()), {
    status: 'unreachable',
    errorCode: 'dns',
  })
  t.match(
    await checkUrl(`https://127.0.0.1:${server.port}/ok`, options()),
    { status: 'unreachable', errorCode: 'tls' },
    'TLS handshake with a plain HTTP server',
  )
  for (const bad of [
    '',
    'not a url with spaces',
    'ftp://example.org/x',
    'javascript:alert(1)',
    'http://',
    'http://exa mple.org/',
    'http://example.org/\u0000',
    'http://example.org/\ud800',
    `http://example.org/${'a'.repeat(9000)}`,
    'http://example.org/<script>',
  ]) {
    t.match(
      await checkUrl(bad, options()),
      { status: 'unreachable', errorCode: 'invalid_url' },
      `invalid: ${JSON.stringify(bad.slice(0, 40))}`,
    )
  }
})

t.test('non-public addresses are refused unless allowed', async (t) => {
  const server = await startFixtureServer(t)
  const before = server.hits.size
  t.match(await checkUrl(`${server.base}/ok`, options({ allowPrivateAddresses: false })), {
    status: 'unreachable',
    errorCode: 'blocked',
  })
  t.match(
    await checkUrl(`http://localhost:${server.port}/ok`, options({ allowPrivateAddresses: false })),
    { status: 'unreachable', errorCode: 'blocked' },
    'a name resolving to loopback',
  )
  t.match(await checkUrl(`http://[::ffff:127.0.0.1]:${server.port}/ok`, options({ allowPrivateAddresses: false })), {
    errorCode: 'blocked',
  })
  t.equal(server.hits.size, before, 'the server was never asked')
  for (const a of [
    '127.0.0.1',
    '10.1.2.3',
    '192.168.0.1',
    '172.20.0.1',
    '169.254.169.254',
    '::1',
    'fd00::1',
    '0.0.0.0',
  ])
    t.ok(isBlockedAddress(a), `${a} blocked`)
  for (const a of ['8.8.8.8', '2a00:1450:4001::1', '172.32.0.1']) t.notOk(isBlockedAddress(a), `${a} allowed`)
})

t.test('helpers', async (t) => {
  t.equal(classifyError({ code: 'ECONNREFUSED' }, new AbortController().signal), 'refused')
  t.equal(classifyError({ code: 'CERT_HAS_EXPIRED' }, new AbortController().signal), 'tls')
  t.equal(classifyError({ code: 'EAI_AGAIN' }, new AbortController().signal), 'dns')
  t.equal(
    classifyError({ code: 'ECONNRESET' }, AbortSignal.abort()),
    'timeout',
    'an aborted (timed out) check is a timeout',
  )
  t.equal(declaredMediaType('', 'CSV'), 'text/csv')
  t.equal(
    declaredMediaType(null, 'http://publications.europa.eu/resource/authority/file-type/JSON'),
    'application/json',
  )
  t.equal(declaredMediaType('Text/CSV; charset=utf-8', 'JSON'), 'text/csv', 'the mimetype wins')
  t.equal(declaredMediaType('<not a type>', 'unknown'), null)
  t.notOk(mediaTypesDiffer('application/geo+json', 'application/json'))
  t.ok(mediaTypesDiffer('application/pdf', 'text/html'))
})
