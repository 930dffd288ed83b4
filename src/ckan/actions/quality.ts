import { Type } from '@sinclair/typebox'
import { validationError } from '../../errors.js'
import { defineAction } from '../action.js'
import { IdOrName } from '../schemas.js'
import { showQuality } from '../../quality/show.js'

export const QualityMode = Type.Union([Type.Literal('portal'), Type.Literal('proportional')], {
  description:
    'portal: as data.europa.eu scores (the best distribution counts); proportional: each distribution indicator by the share of distributions meeting it',
})
export const QualityLang = Type.Union([Type.Literal('de'), Type.Literal('en')], {
  description: 'Language of labels and fixes',
})

const Fix = Type.Object({
  id: Type.String(),
  text: Type.String(),
  worth: Type.Number(),
  summary: Type.String(),
  indicators: Type.Array(Type.String()),
})

export const QualityExplanation = Type.Object(
  {
    id: Type.String(),
    mode: QualityMode,
    lang: QualityLang,
    score: Type.Number({ description: 'MQA points, 0 to 405' }),
    max_score: Type.Integer(),
    band: Type.String({ enum: ['excellent', 'good', 'sufficient', 'bad'] }),
    band_label: Type.String(),
    computed_at: Type.String({ description: 'The write that computed the score (CKAN timestamp)' }),
    dcat_ap_compliance: Type.String({ enum: ['passed', 'failed', 'unchecked'] }),
    dimensions: Type.Array(Type.Object({ dimension: Type.String(), score: Type.Number(), max: Type.Integer() })),
    indicators: Type.Array(
      Type.Object({
        id: Type.String(),
        dimension: Type.String(),
        level: Type.String({ enum: ['dataset', 'distribution'] }),
        property: Type.String(),
        label: Type.String(),
        max: Type.Integer(),
        earned: Type.Number(),
        missed: Type.Number(),
        status: Type.String({ enum: ['earned', 'partial', 'missed', 'unknown'] }),
        note: Type.Optional(Type.String()),
        distributions: Type.Optional(
          Type.Object({ total: Type.Integer(), met: Type.Integer(), unknown: Type.Integer() }),
        ),
        fix: Type.Optional(Fix),
      }),
    ),
    fixes: Type.Array(Fix),
    other_mode: Type.Object({ mode: QualityMode, score: Type.Number(), band: Type.String() }),
  },
  { description: 'The MQA score of a dataset explained per indicator, with the fix and its worth for every miss' },
)

export const packageQualityShow = defineAction({
  name: 'package_quality_show',
  sideEffectFree: true,
  summary: 'The MQA quality score of a dataset, explained',
  description:
    'The data.europa.eu MQA score (max 405) the last write of the dataset stored, per indicator earned or missed, with the one fix per miss and its worth ' +
    '("Lizenz aus der dcat-ap.de-Liste angeben: +30 Punkte"). Link indicators are `unknown` until the link checker has checked the URL. Visible exactly as package_show.',
  tags: ['datasets'],
  input: Type.Object({
    id: Type.Optional(IdOrName('The id or name of the dataset')),
    mode: Type.Optional(QualityMode),
    lang: Type.Optional(QualityLang),
  }),
  result: QualityExplanation,
  handler: async ({ service, viewer }, input) => {
    if (!input.id) throw validationError({ id: ['Missing value'] })
    return showQuality(service, input.id, viewer, input.mode ?? 'portal', input.lang ?? 'de')
  },
})
