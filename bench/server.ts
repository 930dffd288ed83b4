/**
 * A server under test, run as a child process by bench/lib.ts (startServer):
 *   app     the GoDonu service as `godonu serve` runs it (a primary and WORKERS worker processes,
 *           src/server.ts) over DATABASE_URL, logger off
 *   static  a bare Fastify answering every GET with the constant JSON body read from
 *           BENCH_STATIC_BODY_FILE: the baseline of what Node + Fastify can serve at all
 * Listens on 127.0.0.1 on a free port, reports {port} to the parent over IPC and stops on SIGTERM.
 */
import { readFileSync } from 'node:fs'
import Fastify, { type FastifyInstance } from 'fastify'
import { runServer } from '../src/server.js'
import { loadConfig } from '../src/config.js'

async function runApp(): Promise<void> {
  const config = loadConfig({ ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' })
  const server = await runServer(config, { logger: false })
  // A worker process (the primary re-runs this script for each): it serves until the primary disconnects it.
  if (!server) return
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', stop)
  process.once('disconnect', stop)
  process.send?.({ port: server.address.port })
}

async function create(kind: string): Promise<FastifyInstance> {
  if (kind === 'static') {
    const file = process.env.BENCH_STATIC_BODY_FILE
    if (!file) throw new Error('BENCH_STATIC_BODY_FILE is not set')
    const body = readFileSync(file, 'utf8')
    const fastify = Fastify({ logger: false })
    fastify.get('/*', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body))
    return fastify
  }
  throw new Error(`unknown server kind "${kind}"`)
}

async function main(): Promise<void> {
  if (process.argv[2] === 'app') return runApp()
  const fastify = await create(process.argv[2] ?? '')
  await fastify.listen({ host: '127.0.0.1', port: 0 })
  const address = fastify.server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const stop = () => {
    fastify.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', stop)
  process.once('disconnect', stop)
  process.send?.({ port })
}

main().catch((err: unknown) => {
  const message = { error: (err as Error)?.stack ?? String(err) }
  if (process.send) process.send(message, () => process.exit(1))
  else process.exit(1)
})
