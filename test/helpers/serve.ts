/**
 * `godonu serve` as a child process for the CLI tests: started with the given arguments and environment,
 * stopped (and gone) at the test's teardown, before tempDir's teardown removes its database.
 */
import { spawn } from 'node:child_process'

/** What a tap test offers for cleanup (tap's own Test type is not exported in a stable place). */
interface Teardown {
  teardown(fn: () => Promise<void>): void
}

/**
 * Spawns `node ARGS serve` with PORT=0 and `env`, waits until its output matches `listening` (whose first
 * group is the base URL) and returns that base and the output so far (stdout and stderr, as it grows).
 */
export async function startServe(
  t: Teardown,
  args: string[],
  env: Record<string, string>,
  listening: RegExp,
  timeoutMs = 120_000,
): Promise<{ base: string; output: () => string }> {
  const child = spawn(process.execPath, [...args, 'serve'], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  })
  let output = ''
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening within ${timeoutMs} ms: ${output}`)), timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (${code}): ${output}`))
    })
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = listening.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
  })
  return { base, output: () => output }
}

/** The listen line of a single-process `serve` at LOG_LEVEL=info (JSON logs). */
export const LISTENING_JSON = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/

/**
 * /readyz until it answers 200 (503 while the search index loads, which starts after the listen line);
 * gives up after `attempts` and returns the last answer.
 */
export async function readyz(base: string, attempts = 200): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${base}/readyz`)
    if (response.status !== 503 || attempt >= attempts) return response
    await response.arrayBuffer()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
