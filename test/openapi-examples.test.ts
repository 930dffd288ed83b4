import t from 'tap'
import { forEachBackend } from './helpers/backends.js'
import { startApp } from './helpers/app.js'
import { call, userWithToken, type Caller } from './helpers/users.js'
import { allActions } from '../src/ckan/registry.js'
import { ACTION_EXAMPLES, EXAMPLE_TOKEN_ID, EXAMPLE_USER } from '../src/ckan/openapi-examples.js'
import { TOKEN_REQUIRED_READS, VALIDATE_CONTENT_TYPES } from '../src/ckan/openapi-docs.js'
import { ckanNow } from '../src/catalog/time.js'

/** The order in which the examples tell their story (openapi-examples.ts): each builds on the ones before. */
const STORY = [
  'package_create',
  'package_update',
  'package_patch',
  'resource_create',
  'resource_update',
  'resource_patch',
  'package_resource_reorder',
  'resource_delete',
  'package_delete',
  'dataset_purge',
  'organization_create',
  'organization_update',
  'organization_patch',
  'organization_member_create',
  'organization_member_delete',
  'organization_delete',
  'group_create',
  'group_update',
  'api_token_create',
  'api_token_revoke',
  'harvest_source_create',
  'harvest_source_update',
  'harvest_source_patch',
  'harvest_job_create',
  'harvest_job_abort',
  'harvest_source_delete',
]

/** A made-up revision: actions that read If-Match refuse it, the others ignore it. */
const FOREIGN_IF_MATCH = '"not-this-dataset.1"'

type DocumentedExample = { summary: string; value: Record<string, unknown> }

t.test('every write action has examples, and the story runs all of them', async (t) => {
  const writes = allActions()
    .filter((a) => !a.sideEffectFree)
    .map((a) => a.name)
    .sort()
  t.same([...STORY].sort(), writes)
  t.same(Object.keys(ACTION_EXAMPLES).sort(), writes)
})

await forEachBackend(t, async (t, backend) => {
  const app = await startApp(t, backend)
  const doc = (await app.fastify.inject({ url: '/docs/json' })).json()
  const editor = await userWithToken(app, 'fachdienst-finanzen', { org: 'marburg', role: 'editor' })
  const sysadmin = await userWithToken(app, 'plattformbetrieb', { sysadmin: true })
  // What the examples take for granted: the user they name, with the token api_token_revoke revokes.
  const exampleUser = await app.users.addUser({ name: EXAMPLE_USER, fullname: 'Erika Mustermann' })
  await app.store.db
    .insertInto('api_token')
    .values({
      id: EXAMPLE_TOKEN_ID,
      user_id: exampleUser.id,
      name: 'Altes Fachverfahren',
      secret_hash: '0'.repeat(64),
      created: ckanNow(),
      expires_at: null,
      last_access: null,
      revoked: 0,
    })
    .execute()

  await t.test('each example, as the document shows it, does what it says', async (t) => {
    for (const name of STORY) {
      const operation = doc.paths[`/api/3/action/${name}`].post
      const examples = operation.requestBody.content['application/json'].examples as Record<string, DocumentedExample>
      const readsIfMatch = (operation.parameters ?? []).some((p: { name: string }) => p.name === 'If-Match')
      const caller: Caller = operation.tags.includes('datasets (write)') && name !== 'dataset_purge' ? editor : sysadmin
      for (const [key, example] of Object.entries(examples)) {
        const expected = ACTION_EXAMPLES[name]![key]!.status ?? 200
        const label = `${name} "${example.summary}"`
        const anonymous = await call(app, null, name, example.value)
        t.equal(anonymous.status, 403, `${label}: refused without a token, as its security says`)
        if (readsIfMatch) {
          const refused = await call(app, caller, name, example.value, { 'if-match': FOREIGN_IF_MATCH })
          t.equal(refused.status, 409, `${label}: a foreign If-Match is refused`)
          t.equal(refused.body.error?.__type, 'Conflict')
        }
        // Actions that do not read If-Match ignore it: the example is sent with it.
        const answer = await call(
          app,
          caller,
          name,
          example.value,
          readsIfMatch ? {} : { 'if-match': FOREIGN_IF_MATCH },
        )
        t.equal(answer.status, expected, `${label} answers ${expected}`, { body: answer.body })
        if (answer.status === 200) {
          t.equal(
            Boolean(answer.headers.etag),
            Boolean(operation.responses['200'].headers?.ETag),
            `${label}: the ETag header is as documented`,
          )
        }
        if (name === 'package_create' && key === 'complete') {
          const report = await app.fastify.inject({
            url: `/dataset/${example.value.name as string}/validation`,
            headers: { authorization: editor.token! },
          })
          t.equal(report.statusCode, 200)
          t.equal(report.json().counts.violation, 0, 'the complete dataset meets DCAT-AP.de', {
            findings: report.json().findings,
          })
        }
        if (expected === 409) {
          t.equal(answer.body.error.__type, 'Validation Error')
          if (name === 'package_create')
            t.ok(
              answer.body.error.dcat_ap_de && answer.body.error.resources,
              'CKAN field errors and DCAT-AP.de findings in one answer',
            )
        }
      }
    }
    const shown = await call(app, sysadmin, 'package_show', { id: 'haushaltsplan-marburg-2025' })
    t.equal(shown.status, 404, 'the story ends with the dataset purged')
    const revoked = await app.store.db
      .selectFrom('api_token')
      .select('revoked')
      .where('id', '=', EXAMPLE_TOKEN_ID)
      .executeTakeFirstOrThrow()
    t.equal(Number(revoked.revoked), 1, 'and the named token revoked')
  })

  await t.test('reads: the token is optional except where the document says it is required', async (t) => {
    for (const action of allActions().filter((a) => a.sideEffectFree)) {
      const anonymous = await app.fastify.inject({ url: `/api/3/action/${action.name}` })
      if (TOKEN_REQUIRED_READS.has(action.name))
        t.equal(anonymous.statusCode, 403, `${action.name} refuses anonymous callers`)
      else t.not(anonymous.statusCode, 403, `${action.name} answers anonymous callers`)
    }
  })

  await t.test('POST /api/validate reads each documented body', async (t) => {
    const content = doc.paths['/api/validate'].post.requestBody.content
    for (const type of VALIDATE_CONTENT_TYPES) {
      const example = content[type].example
      const answer = await app.fastify.inject({
        method: 'POST',
        url: '/api/validate',
        headers: { 'content-type': type },
        payload: typeof example === 'string' ? example : JSON.stringify(example),
      })
      t.equal(answer.statusCode, 200, `${type} is validated`, { body: answer.body })
      t.type(answer.json().conforms, 'boolean')
    }
  })
})
