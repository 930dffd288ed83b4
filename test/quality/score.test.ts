import t from 'tap'
import { vocabularies } from '../../src/catalog/vocabularies.js'
import { QualityRecorder } from '../../src/quality/recorder.js'
import { bandOf, INDICATORS, MAX_SCORE, worthText } from '../../src/quality/indicators.js'
import { explain } from '../../src/quality/explain.js'
import type { PackageDict } from '../../src/dcat/mapping.js'
import type { LinkHealth } from '../../src/quality/link-health.js'
import { unknownLinkHealth } from '../../src/quality/link-health.js'
import type { QualityResult } from '../../src/quality/score.js'

const vocab = vocabularies()
const kommune = vocab.kommunen[0]
const recorder = new QualityRecorder({
  vocab,
  config: { baseUrl: 'http://godonu.test', contributorId: 'http://dcat-ap.de/def/contributors/godonu' },
  dialect: 'sqlite',
  organization: () => null,
})

const LICENCE = 'http://dcat-ap.de/def/licenses/dl-by-de/2.0'
const ACCESS = 'https://data.example.org/baeume'
const DOWNLOAD = 'https://data.example.org/baeume.csv'

/** A resource that meets every distribution indicator (its links reachable). */
function fullResource(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: 'Bäume',
    url: ACCESS,
    access_url: ACCESS,
    download_url: DOWNLOAD,
    format: 'http://publications.europa.eu/resource/authority/file-type/CSV',
    mimetype: 'https://www.iana.org/assignments/media-types/text/csv',
    license: LICENCE,
    rights: 'Namensnennung: Stadt',
    size: 1234,
    issued: '2024-01-01',
    modified: '2024-02-01',
    ...extra,
  }
}

/** A dataset that meets every dataset indicator. */
function fullDataset(resources: Array<Record<string, unknown>>, extra: Partial<PackageDict> = {}): PackageDict {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    name: 'baeume',
    title: 'Bäume',
    notes: 'Alle Bäume',
    license_id: LICENCE,
    maintainer: 'Team',
    maintainer_email: 'opendata@example.org',
    metadata_created: '2024-01-01T00:00:00.000000',
    metadata_modified: '2024-01-02T00:00:00.000000',
    organization: { id: kommune.id, name: kommune.name, title: kommune.title },
    tags: [{ name: 'bäume' }],
    groups: [{ name: 'envi' }],
    extras: [
      { key: 'spatial_uri', value: 'http://dcat-ap.de/def/politicalGeocoding/regionalKey/064120000000' },
      { key: 'temporal_start', value: '2020-01-01' },
      { key: 'access_rights', value: 'http://publications.europa.eu/resource/authority/access-right/PUBLIC' },
    ],
    resources: resources,
    ...extra,
  }
}

const reachable = new Map<string, LinkHealth>([
  [ACCESS, 'reachable'],
  [DOWNLOAD, 'reachable'],
])

const points = (r: QualityResult, mode: 'portal' | 'proportional') =>
  Object.fromEntries(r[mode].indicators.map((i) => [i.id, i.points]))

t.test('the official table: 23 indicators, 405 points, dimension maxima', async (t) => {
  t.equal(INDICATORS.length, 23)
  t.equal(MAX_SCORE, 405)
  const byDimension = (d: string) => INDICATORS.filter((i) => i.dimension === d).reduce((s, i) => s + i.points, 0)
  t.same(
    ['findability', 'accessibility', 'interoperability', 'reusability', 'contextuality'].map(byDimension),
    [100, 100, 110, 75, 20],
  )
})

t.test('bands at their boundaries', async (t) => {
  t.equal(bandOf(405), 'excellent')
  t.equal(bandOf(351), 'excellent')
  t.equal(bandOf(350), 'good')
  t.equal(bandOf(350.99), 'good')
  t.equal(bandOf(221), 'good')
  t.equal(bandOf(220.99), 'sufficient')
  t.equal(bandOf(220), 'sufficient')
  t.equal(bandOf(121), 'sufficient')
  t.equal(bandOf(120.5), 'bad')
  t.equal(bandOf(120), 'bad')
  t.equal(bandOf(0), 'bad')
})

t.test('a dataset meeting every indicator scores 405 in both modes', async (t) => {
  const r = recorder.score(fullDataset([fullResource('a1')]), 'passed', reachable)
  for (const mode of ['portal', 'proportional'] as const) {
    t.equal(r[mode].score, 405, mode)
    t.equal(r[mode].band, 'excellent', mode)
    t.ok(
      r[mode].indicators.every((i) => i.status === 'earned'),
      `${mode}: every indicator earned`,
    )
  }
})

t.test('each indicator is worth its official points: removing what it checks costs exactly that', async (t) => {
  const base = (res: Record<string, unknown> = {}, ds: Partial<PackageDict> = {}) =>
    recorder.score(fullDataset([fullResource('a1', res)], ds), 'passed', reachable)
  const full = base()
  const cases: Array<[string, QualityResult, string[]]> = [
    ['no tags', base({}, { tags: [] }), ['keywordAvailability']],
    ['no groups', base({}, { groups: [] }), ['categoryAvailability']],
    [
      'no spatial',
      base(
        {},
        {
          extras: [
            { key: 'temporal_start', value: '2020-01-01' },
            { key: 'access_rights', value: 'http://publications.europa.eu/resource/authority/access-right/PUBLIC' },
          ],
        },
      ),
      ['spatialAvailability'],
    ],
    [
      'no temporal',
      base(
        {},
        {
          extras: [
            { key: 'spatial_uri', value: 'http://dcat-ap.de/def/politicalGeocoding/regionalKey/064120000000' },
            { key: 'access_rights', value: 'http://publications.europa.eu/resource/authority/access-right/PUBLIC' },
          ],
        },
      ),
      ['temporalAvailability'],
    ],
    [
      'access rights as text',
      base(
        {},
        {
          extras: [
            { key: 'spatial_uri', value: 'http://dcat-ap.de/def/politicalGeocoding/regionalKey/064120000000' },
            { key: 'temporal_start', value: '2020-01-01' },
            { key: 'access_rights', value: 'öffentlich' },
          ],
        },
      ),
      ['accessRightsVocabularyAlignment'],
    ],
    ['no download URL', base({ download_url: undefined }), ['downloadUrlAvailability', 'downloadUrlStatusCode']],
    ['no media type', base({ mimetype: undefined }), ['mediaTypeAvailability']],
    [
      'PDF',
      base({
        format: 'http://publications.europa.eu/resource/authority/file-type/PDF',
        mimetype: 'https://www.iana.org/assignments/media-types/application/pdf',
      }),
      ['formatMediaTypeMachineInterpretable', 'formatMediaTypeNonProprietary'],
    ],
    [
      'HTML',
      base({
        format: 'http://publications.europa.eu/resource/authority/file-type/HTML',
        mimetype: 'https://www.iana.org/assignments/media-types/text/html',
      }),
      ['formatMediaTypeMachineInterpretable'],
    ],
    [
      'XLSX',
      base({ format: 'http://publications.europa.eu/resource/authority/file-type/XLSX', mimetype: undefined }),
      ['mediaTypeAvailability', 'formatMediaTypeNonProprietary'],
    ],
    ['no rights', base({ rights: undefined }), ['rightsAvailability']],
    ['no size', base({ size: undefined }), ['byteSizeAvailability']],
    ['unknown licence', base({ license: 'http://example.org/my-licence' }, { license_id: null }), ['knownLicence']],
    ['no licence', base({ license: undefined }, { license_id: null }), ['licenceAvailability', 'knownLicence']],
  ]
  const fullPoints = points(full, 'portal')
  for (const [label, r, lost] of cases) {
    const p = points(r, 'portal')
    const changed = Object.keys(p)
      .filter((k) => p[k] !== fullPoints[k])
      .sort()
    t.same(changed, [...lost].sort(), `${label}: loses ${lost.join(', ')}`)
    const expected = 405 - lost.reduce((s, id) => s + INDICATORS.find((i) => i.id === id)!.points, 0)
    t.equal(r.portal.score, expected, `${label}: ${expected}`)
  }
  t.equal(
    recorder.score(fullDataset([fullResource('a1')]), 'unchecked', reachable).portal.score,
    375,
    'compliance unchecked: -30',
  )
  t.equal(
    recorder.score(fullDataset([fullResource('a1')]), 'failed', reachable).portal.score,
    375,
    'compliance failed: -30',
  )
})

t.test('dates fall back to the dataset; publisher and contact come from the Kommune', async (t) => {
  const r = recorder.score(
    fullDataset([fullResource('a1', { issued: undefined, modified: undefined })], {
      maintainer: null,
      maintainer_email: null,
    }),
    'passed',
    reachable,
  )
  const p = points(r, 'portal')
  t.equal(p.dateIssuedAvailability, 5)
  t.equal(p.dateModifiedAvailability, 5)
  t.equal(p.publisherAvailability, 10)
})

t.test('link health: unknown is neither earned nor failed', async (t) => {
  const unknown = recorder.score(fullDataset([fullResource('a1')]), 'passed', new Map())
  const access = unknown.portal.indicators.find((i) => i.id === 'accessUrlStatusCode')!
  t.equal(access.status, 'unknown')
  t.equal(access.points, 0)
  t.equal(unknown.portal.score, 405 - 80)
  const failed = recorder.score(
    fullDataset([fullResource('a1')]),
    'passed',
    new Map([
      [ACCESS, 'unreachable'],
      [DOWNLOAD, 'unreachable'],
    ]),
  )
  t.equal(failed.portal.indicators.find((i) => i.id === 'accessUrlStatusCode')!.status, 'missed')
  const viaDefault = await unknownLinkHealth.lookup([ACCESS])
  t.equal(viaDefault.get(ACCESS), 'unknown')
  const e = explain('x', { version: 1, ...unknown }, '2024-01-01T00:00:00.000000', 'portal', 'en')
  const shown = e.indicators.find((i) => i.id === 'accessUrlStatusCode')!
  t.equal(shown.status, 'unknown')
  t.notOk(shown.fix, 'no fix offered for what is not known to be broken')
  t.match(shown.note, /Not checked yet/)
})

t.test('portal mode counts the best distribution; proportional the share', async (t) => {
  // One full distribution and one bare one (a PDF without anything else).
  const bare = {
    id: 'b1',
    url: 'https://data.example.org/report.pdf',
    format: 'http://publications.europa.eu/resource/authority/file-type/PDF',
  }
  const r = recorder.score(fullDataset([bare, fullResource('a1')]), 'passed', reachable)
  t.equal(r.portal.score, 405, 'portal: the full distribution counts')
  const p = points(r, 'proportional')
  // Distribution indicators: the bare PDF has an access URL (unknown health), a format from the vocabulary, and
  // the dates (dataset fallback) and the licence of the dataset.
  t.equal(p.formatAvailability, 20, 'both have a format')
  t.equal(p.downloadUrlAvailability, 10, 'half have a download URL')
  t.equal(p.mediaTypeAvailability, 5)
  t.equal(p.formatMediaTypeMachineInterpretable, 10)
  t.equal(p.formatMediaTypeNonProprietary, 10, 'PDF is not in the EDP non-proprietary list')
  t.equal(p.rightsAvailability, 2.5)
  t.equal(p.licenceAvailability, 20, 'the dataset licence applies to both')
  const access = r.proportional.indicators.find((i) => i.id === 'accessUrlStatusCode')!
  t.same(access.distributions, { total: 2, met: 1, unknown: 1 })
  t.equal(access.status, 'unknown')
  const sum = r.proportional.indicators.reduce((s, i) => s + i.points, 0)
  t.equal(r.proportional.score, Math.round(sum * 100) / 100)
  t.ok(r.proportional.score < 405 && r.proportional.score > 300, `proportional ${r.proportional.score}`)
  // Three distributions, one meeting: 1/3 of the points, two decimals.
  const three = recorder.score(fullDataset([bare, { ...bare, id: 'b2' }, fullResource('a1')]), 'passed', reachable)
  t.equal(points(three, 'proportional').rightsAvailability, 1.67)
})

t.test('no distribution: no distribution points in either mode', async (t) => {
  const r = recorder.score(fullDataset([]), 'passed', reachable)
  t.equal(r.portal.score, 30 + 30 + 20 + 20 + 30 + 10 + 5 + 20 + 10)
  t.equal(r.proportional.score, r.portal.score)
  const e = explain('x', { version: 1, ...r }, 'now', 'portal', 'de')
  t.match(e.indicators.find((i) => i.id === 'formatAvailability')!.note, /keine Distribution/)
})

t.test('explanations in German and English, one fix per miss with its worth', async (t) => {
  const r = recorder.score(
    fullDataset([fullResource('a1', { license: undefined })], { license_id: null, tags: [] }),
    'passed',
    reachable,
  )
  const de = explain('x', { version: 1, ...r }, 'now', 'portal', 'de')
  const en = explain('x', { version: 1, ...r }, 'now', 'portal', 'en')
  t.equal(de.score, 405 - 30 - 30)
  t.equal(de.band, 'good')
  t.equal(de.band_label, 'gut')
  t.equal(en.band_label, 'good')
  const licenceFix = de.fixes.find((f) => f.id === 'add-licence')!
  t.equal(licenceFix.summary, 'Lizenz aus der dcat-ap.de-Liste angeben: +30 Punkte')
  t.equal(en.fixes.find((f) => f.id === 'add-licence')!.summary, 'Give a licence from the dcat-ap.de list: +30 points')
  t.equal(
    de.indicators.find((i) => i.id === 'knownLicence')!.fix!.id,
    'add-licence',
    'the missing licence is the one fix of both licence indicators',
  )
  t.equal(de.fixes.length, 2, 'each fix once')
  t.same(
    de.fixes.map((f) => f.worth),
    [30, 30],
  )
  for (const i of de.indicators) {
    if (i.status === 'missed' || i.status === 'partial') t.ok(i.fix && i.fix.worth > 0, `${i.id} has a fix`)
    else t.notOk(i.fix, `${i.id} has none`)
    t.equal(i.earned + i.missed, i.max)
  }
  t.equal(
    de.dimensions.reduce((s, d) => s + d.score, 0),
    de.score,
  )
  t.equal(worthText(2.5, 'de'), '+2,5 Punkte')
  t.equal(worthText(1, 'en'), '+1 point')
})

t.test('hostile values do not break scoring', async (t) => {
  const hostile = '<script>"\'&\u0000\ud800'
  const r = recorder.score(
    fullDataset(
      [
        {
          id: 'h1',
          url: hostile,
          download_url: 'javascript:alert(1)',
          format: hostile,
          mimetype: hostile,
          license: hostile,
          rights: hostile,
          size: 'NaN',
        },
      ],
      {
        tags: [{ name: hostile }],
        extras: [
          { key: 'spatial_uri', value: hostile },
          { key: 'access_rights', value: hostile },
          { key: 'temporal_start', value: hostile },
        ],
      },
    ),
    'passed',
    new Map([[hostile, 'reachable']]),
  )
  t.ok(r.portal.score >= 0 && r.portal.score <= 405)
  t.equal(
    r.portal.indicators.find((i) => i.id === 'accessUrlStatusCode')!.status,
    'missed',
    'an invalid URL is not an access URL',
  )
  t.equal(r.portal.indicators.find((i) => i.id === 'knownLicence')!.points, 0)
  // Many distributions: bounded work, and the proportional score stays within bounds.
  const many = Array.from({ length: 2000 }, (_, i) => fullResource(`m${i}`, i % 2 ? { rights: undefined } : {}))
  const big = recorder.score(fullDataset(many), 'passed', reachable)
  t.equal(big.portal.score, 405)
  t.equal(points(big, 'proportional').rightsAvailability, 2.5)
})
