import { Type, type TSchema } from '@sinclair/typebox'

/** Building blocks of action input schemas, with CKAN's accepted spellings. */

/**
 * The largest count, offset or page any action accepts: every database takes it as LIMIT/OFFSET, and a
 * JavaScript number holds it exactly (`offset=1e22` is an integer to JSON Schema, and a 500 to SQL).
 */
export const MAX_INTEGER_PARAM = 2_147_483_647

export const Natural = (description: string, extra: { maximum?: number; default?: number } = {}) =>
  Type.Integer({ minimum: 0, maximum: MAX_INTEGER_PARAM, description, ...extra })

/** A whole number within the bounds any action accepts (see MAX_INTEGER_PARAM). */
export const BoundedInteger = (description: string, extra: { minimum?: number; maximum?: number } = {}) =>
  Type.Integer({ minimum: -MAX_INTEGER_PARAM, maximum: MAX_INTEGER_PARAM, description, ...extra })

export const Bool = (description: string, defaultValue?: boolean) =>
  Type.Boolean(defaultValue === undefined ? { description } : { description, default: defaultValue })

export const IdOrName = (description = 'The id or name') => Type.String({ minLength: 1, maxLength: 200, description })

export const Envelope = (name: string, result: TSchema) =>
  Type.Object(
    {
      help: Type.String({ format: 'uri', description: 'Link to the documentation of this action' }),
      success: Type.Literal(true),
      result,
    },
    { $id: undefined, title: `${name} response` },
  )

export const ErrorEnvelope = Type.Object(
  {
    help: Type.String(),
    success: Type.Literal(false),
    error: Type.Object(
      {
        __type: Type.String({
          description: 'The kind of error: `Bad Request`, `Search Query Error`, `Authorization Error`, `Not Found Error`, `Validation Error`, `Conflict`, `Request Entity Too Large`, `Rate Limit Error`, `Internal Server Error`',
        }),
        message: Type.Optional(Type.String()),
      },
      { additionalProperties: true, description: 'For validation errors the field messages sit beside `__type`: `{"name": ["Missing value"]}`' },
    ),
  },
  { title: 'CKAN error envelope' },
)

/** A loose object: CKAN dicts carry open-ended keys (extras flattened into resources). */
export const LooseObject = (title: string, properties: Record<string, TSchema>) =>
  Type.Object(properties, { additionalProperties: true, title })

export const TagDict = LooseObject('Tag', {
  id: Type.String(),
  name: Type.String(),
  display_name: Type.String(),
  state: Type.Optional(Type.String()),
  vocabulary_id: Type.Union([Type.String(), Type.Null()]),
})

export const ResourceDict = LooseObject('Resource', {
  id: Type.String(),
  package_id: Type.String(),
  url: Type.String(),
  name: Type.String(),
  description: Type.String(),
  format: Type.String(),
  mimetype: Type.Union([Type.String(), Type.Null()]),
  hash: Type.String(),
  size: Type.Union([Type.Integer(), Type.Null()]),
  position: Type.Integer(),
  state: Type.String(),
  created: Type.String(),
  last_modified: Type.Union([Type.String(), Type.Null()]),
  metadata_modified: Type.String(),
})

export const GroupRef = LooseObject('Group reference', {
  id: Type.String(),
  name: Type.String(),
  title: Type.String(),
  display_name: Type.String(),
  description: Type.String(),
  image_display_url: Type.String(),
})

export const OrganizationRef = LooseObject('Organization reference', {
  id: Type.String(),
  name: Type.String(),
  title: Type.String(),
  type: Type.Literal('organization'),
  is_organization: Type.Literal(true),
})

const nullableString = Type.Union([Type.String(), Type.Null()])

export const PackageDict = LooseObject('Package', {
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  title: Type.String(),
  type: Type.String(),
  state: Type.String({ enum: ['active', 'draft', 'deleted'] }),
  private: Type.Boolean(),
  author: nullableString,
  author_email: nullableString,
  maintainer: nullableString,
  maintainer_email: nullableString,
  notes: nullableString,
  url: nullableString,
  version: nullableString,
  license_id: nullableString,
  license_title: nullableString,
  license_url: Type.Optional(Type.String()),
  isopen: Type.Boolean(),
  owner_org: nullableString,
  creator_user_id: nullableString,
  metadata_created: Type.String({ description: 'naive UTC, YYYY-MM-DDTHH:MM:SS.ffffff' }),
  metadata_modified: Type.String({ description: 'naive UTC, YYYY-MM-DDTHH:MM:SS.ffffff' }),
  num_resources: Type.Integer(),
  num_tags: Type.Integer(),
  organization: Type.Union([OrganizationRef, Type.Null()]),
  groups: Type.Array(GroupRef),
  tags: Type.Array(TagDict),
  extras: Type.Array(Type.Object({ key: Type.String(), value: Type.String() })),
  resources: Type.Array(ResourceDict),
})

export const GroupDictSchema = LooseObject('Organization or group', {
  id: Type.String(),
  name: Type.String(),
  title: Type.String(),
  display_name: Type.String(),
  description: Type.String(),
  image_url: Type.String(),
  image_display_url: Type.String(),
  created: Type.String(),
  type: Type.String({ enum: ['organization', 'group'] }),
  is_organization: Type.Boolean(),
  approval_status: Type.String(),
  state: Type.String(),
  num_followers: Type.Integer(),
  package_count: Type.Optional(Type.Integer()),
})

export const LicenseDict = LooseObject('License', {
  id: Type.String(),
  title: Type.String(),
  url: Type.String(),
  status: Type.String(),
  od_conformance: Type.String(),
  osd_conformance: Type.String(),
})
