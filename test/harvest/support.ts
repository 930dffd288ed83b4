import { join } from 'node:path'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig, type AppConfig } from '../../src/config.js'
import { Harvester, type JobResult } from '../../src/harvest/harvester.js'
import type { SourceFields } from '../../src/harvest/jobs.js'
import { makeTempDir, removeTempDir } from '../helpers/temp.js'

/** A second instance of this service on its own SQLite file, listening on loopback: a CKAN source. */
export async function sourceService(t: Test): Promise<{ app: App; url: string }> {
  const dir = makeTempDir('godonu-harvest-source-')
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'source.sqlite')}`,
    LOG_LEVEL: 'silent',
    BASE_URL: 'http://quelle.example.org',
  })
  const app = await buildApp(config, { logger: false })
  await app.fastify.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => {
    await app.fastify.close()
    removeTempDir(dir)
  })
  const { port } = app.fastify.server.address() as AddressInfo
  return { app, url: `http://127.0.0.1:${port}` }
}

/** A plain HTTP server on loopback; closed (with its open connections) at the end of the test. */
export async function localServer(
  t: Test,
  handler: (req: IncomingMessage, res: ServerResponse, base: string) => void,
): Promise<{ server: Server; base: string }> {
  let base = ''
  const server = createServer((req, res) => handler(req, res, base))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return { server, base }
}

/** Harvest settings for tests: short timeouts and backoff, small limits. */
export function testHarvestConfig(config: AppConfig, overrides: Partial<AppConfig['harvest']> = {}): AppConfig {
  return {
    ...config,
    harvest: {
      ...config.harvest,
      requestTimeoutMs: 5000,
      retries: 1,
      leaseMs: 5000,
      maxPages: 50,
      maxBytes: 20 * 1024 * 1024,
      // The sources of the tests listen on loopback: the test config allows it explicitly (deny by default).
      allowPrivateAddresses: true,
      ...overrides,
    },
  }
}

/** Adds a source and runs one job of it in this process; returns the job's result. */
export async function harvestNow(
  harvester: Harvester,
  sourceIdOrName: string,
  opts: { full?: boolean; confirmWithdrawals?: boolean } = {},
): Promise<JobResult> {
  const source = await harvester.jobs.requireSource(sourceIdOrName)
  const job = await harvester.jobs.createJob(source.id, opts)
  const result = await harvester.claimAndRun(job.id)
  if (!result) throw new Error('the job could not be claimed')
  return result
}

export async function addSource(
  harvester: Harvester,
  app: App,
  fields: Omit<SourceFields, 'owner_org'> & { owner_org: string },
) {
  const org = app.service.reference.organization(fields.owner_org)
  if (!org) throw new Error(`unknown organization ${fields.owner_org}`)
  return harvester.jobs.createSource({ ...fields, owner_org: org.id })
}
