import { fileURLToPath } from 'node:url'
import { buildApp } from '../app.js'
import { loadConfig } from '../config.js'

export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url))

/**
 * The OpenAPI document of the running service, from an in-memory instance with a fixed public URL
 * so that the committed file does not depend on the machine.
 */
export async function renderOpenApi(): Promise<string> {
  const config = loadConfig({ DATABASE_URL: 'sqlite::memory:', BASE_URL: 'http://localhost:3000', LOG_LEVEL: 'silent' })
  const app = await buildApp(config, { logger: false })
  try {
    await app.fastify.ready()
    return `${JSON.stringify(app.fastify.swagger(), null, 2)}\n`
  } finally {
    await app.fastify.close()
  }
}
