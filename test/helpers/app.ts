import type { Test } from 'tap'
import { buildApp, type App } from '../../src/app.js'
import { insertPackageRecords } from '../../src/catalog/repository.js'
import { buildPackageRecord, type PackageInput } from '../../src/catalog/package.js'
import { ckanNow } from '../../src/catalog/time.js'
import { appendChange } from '../../src/catalog/change-feed.js'
import type { Backend } from './backends.js'
import { openStore } from '../../src/db/connect.js'

/** A running app (no socket: fastify.inject) over the backend's store. */
export async function startApp(t: Test, backend: Backend): Promise<App> {
  const app = await buildApp(backend.config, { store: backend.store, logger: false })
  t.teardown(() => app.fastify.close())
  await app.fastify.ready()
  return app
}

/** Stores datasets the way the service writes them (owner_org and themes given by name). */
export async function insertDatasets(
  app: App,
  datasets: Array<Omit<PackageInput, 'owner_org' | 'themeIds'> & { owner_org?: string; groups?: string[] }>,
): Promise<string[]> {
  const records = datasets.map((input) => {
    const org = input.owner_org ? app.service.reference.organization(input.owner_org) : undefined
    if (input.owner_org && !org) throw new Error(`unknown organization ${input.owner_org}`)
    const themeIds = (input.groups ?? []).map((g) => {
      const theme = app.service.reference.theme(g)
      if (!theme) throw new Error(`unknown group ${g}`)
      return theme.id
    })
    return buildPackageRecord({ ...input, owner_org: org?.id ?? null, themeIds }, { vocab: app.service.vocab, now: ckanNow(), previousRevision: 0 })
  })
  await app.store.db.transaction().execute(async (trx) => {
    await insertPackageRecords(trx, records)
    await appendChange(trx, { kind: 'datasets', keys: records.flatMap((r) => [r.row.id, r.row.name]) }).execute()
  })
  // As a write through the service would: this app's caches and index know of the datasets at once.
  await app.service.catchUpChangeFeed()
  return records.map((r) => r.row.id)
}

export async function api(app: App, action: string, params: Record<string, unknown> = {}, method: 'GET' | 'POST' = 'GET') {
  const response =
    method === 'GET'
      ? await app.fastify.inject({ method, url: `/api/3/action/${action}`, query: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) })
      : await app.fastify.inject({ method, url: `/api/3/action/${action}`, payload: params })
  return { status: response.statusCode, body: response.json(), headers: response.headers }
}

/**
 * Two services on one database, each with its own connection, caches and search index, as two servers are.
 * `config` overrides the backend's (e.g. an hour's CHANGE_POLL_MS, so that the feed is read only when a
 * test says so).
 */
export async function startTwoServices(t: Test, backend: Backend, config: Partial<Backend['config']> = {}): Promise<[App, App]> {
  const merged = { ...backend.config, ...config }
  const a = await buildApp(merged, { store: backend.store, logger: false })
  const otherStore = await openStore(backend.config.database)
  const b = await buildApp(merged, { store: otherStore, logger: false })
  t.teardown(async () => {
    await a.fastify.close()
    await b.fastify.close()
    await otherStore.close()
  })
  return [a, b]
}
