/**
 * The static baseline, run as a child process by bench/lib.ts (startStaticServer): a bare Fastify
 * answering every GET with the constant JSON body read from BENCH_STATIC_BODY_FILE, logger off — what
 * Node + Fastify can serve at all. It runs on BENCH_STATIC_WORKERS cluster workers sharing one port (as
 * many as the service under test has, so that both get the same number of processes), with the V8
 * flags the service gives its workers. Listens on 127.0.0.1 on a free port, reports {port} to the
 * parent over IPC and stops on SIGTERM or when the parent disconnects.
 */
import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import { SERVER_NODE_FLAGS } from '../src/server.js'

async function worker(): Promise<void> {
  const file = process.env.BENCH_STATIC_BODY_FILE
  if (!file) throw new Error('BENCH_STATIC_BODY_FILE is not set')
  const body = readFileSync(file, 'utf8')
  const fastify = Fastify({ logger: false })
  fastify.get('/*', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body))
  await fastify.listen({ host: '127.0.0.1', port: 0 })
  const address = fastify.server.address()
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 })
  process.once('disconnect', () => {
    fastify.close().finally(() => process.exit(0))
  })
}

async function primary(): Promise<void> {
  const count = Number(process.env.BENCH_STATIC_WORKERS ?? '1')
  if (!Number.isInteger(count) || count < 1) throw new Error(`BENCH_STATIC_WORKERS="${process.env.BENCH_STATIC_WORKERS}" must be a whole number >= 1`)
  cluster.setupPrimary({ execArgv: [...process.execArgv, ...SERVER_NODE_FLAGS] })
  const ports: number[] = []
  for (let i = 0; i < count; i++) {
    const w = cluster.fork()
    w.once('message', (message: { port?: number; error?: string }) => {
      if (message.error || !message.port) return fail(new Error(message.error ?? 'a static worker reported no port'))
      ports.push(message.port)
      // Workers listening on port 0 share one port the primary picked.
      if (ports.length === count) process.send?.({ port: ports[0] })
    })
    w.once('exit', (code) => {
      if (ports.length < count) fail(new Error(`a static worker exited (code ${code}) before listening`))
    })
  }
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.disconnect()
    setTimeout(() => process.exit(0), 2000).unref()
  }
  process.once('SIGTERM', stop)
  process.once('disconnect', stop)
}

function fail(err: unknown): void {
  const message = { error: (err as Error)?.stack ?? String(err) }
  if (process.send) process.send(message, () => process.exit(1))
  else process.exit(1)
}

if (process.argv[2] !== 'static' && cluster.isPrimary) fail(new Error(`unknown server kind "${process.argv[2]}"`))
else (cluster.isPrimary ? primary() : worker()).catch(fail)
