import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'

const live = new Set<string>()
let removeOnExit = false

/**
 * A new directory under the OS temp dir. Remove it with removeTempDir(); should the test process end first
 * (an uncaught error, process.exit), it goes on exit. A process killed by a signal (tap's timeout) keeps it.
 */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  live.add(dir)
  if (!removeOnExit) {
    removeOnExit = true
    process.once('exit', () => {
      for (const left of live) rmSync(left, { recursive: true, force: true })
    })
  }
  return dir
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  live.delete(dir)
}

/**
 * A new directory under the OS temp dir, removed when `t` ends. Teardowns run last-registered first, so what
 * a test registers after this (a child process to stop, a store to close) is done before the directory goes.
 */
export function tempDir(t: Test, prefix: string): string {
  const dir = makeTempDir(prefix)
  t.teardown(() => removeTempDir(dir))
  return dir
}
