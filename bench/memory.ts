/**
 * Resident memory (VmRSS) of the processes that serve: the primary and each worker of a service started
 * as `npm start` starts it, sampled every SAMPLE_MS from /proc/<pid>/status (else `ps`). The processes are
 * looked up again at every sample, so that a worker restarted during a run is counted too.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { get } from 'node:http'
import { formatNumber } from './lib.js'
import type { ServiceHandle } from './service.js'

export const SAMPLE_MS = 100

/** VmRSS of a process in MB, or null when it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    if (kb) return Number(kb) / 1024
  } catch {
    // not Linux, or gone: ps below
  }
  try {
    const kb = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim())
    return Number.isFinite(kb) && kb > 0 ? kb / 1024 : null
  } catch {
    return null
  }
}

export interface ProcessMemory {
  role: 'primary' | 'worker'
  pid: number
  /** RSS at the first sample (MB). */
  before: number
  /** Highest RSS sampled (MB). */
  peak: number
  /** RSS at the last sample (MB). */
  last: number
  samples: number
}

export interface MemoryRecording {
  /** The primary first, then the workers by pid. */
  processes: ProcessMemory[]
  /** Highest peak of any worker. */
  workerPeak: number
}

/** Starts sampling the service's processes now; stop() returns what was seen. */
export function recordMemory(service: Pick<ServiceHandle, 'processes'>): { stop(): MemoryRecording } {
  const seen = new Map<number, ProcessMemory>()
  const sample = () => {
    const { primary, workers } = service.processes()
    const all: Array<[number, ProcessMemory['role']]> = [...(primary ? [[primary, 'primary'] as [number, 'primary']] : []), ...workers.map((w) => [w, 'worker'] as [number, 'worker'])]
    for (const [pid, role] of all) {
      const mb = rssMb(pid)
      if (mb === null) continue
      const entry = seen.get(pid)
      if (!entry) seen.set(pid, { role, pid, before: mb, peak: mb, last: mb, samples: 1 })
      else {
        entry.peak = Math.max(entry.peak, mb)
        entry.last = mb
        entry.samples++
      }
    }
  }
  sample()
  const timer = setInterval(sample, SAMPLE_MS)
  return {
    stop() {
      clearInterval(timer)
      sample()
      const processes = [...seen.values()].sort((a, b) => (a.role === b.role ? a.pid - b.pid : a.role === 'primary' ? -1 : 1))
      return { processes, workerPeak: Math.max(0, ...processes.filter((p) => p.role === 'worker').map((p) => p.peak)) }
    },
  }
}

export function mb(value: number): string {
  // Math.round(-0.3) is -0: shown as 0.
  return `${formatNumber(Math.round(value) || 0)} MB`
}

/** "primary 80 → 81 MB; worker 1 (pid 123) 250 → 310 MB; …" */
export function formatMemory(recording: MemoryRecording): string {
  let worker = 0
  return recording.processes
    .map((p) => `${p.role === 'primary' ? 'primary' : `worker ${++worker}`} (pid ${p.pid}) ${mb(p.before)} → ${mb(p.peak)}`)
    .join('; ')
}

/** The current RSS of each process of the service (one sample). */
export function memoryNow(service: Pick<ServiceHandle, 'processes'>): MemoryRecording {
  return recordMemory(service).stop()
}

export interface IndexEstimate {
  /** Each worker's RSS without the index (SEARCH_MEMORY_INDEX=0) and with it, smallest to largest (MB). */
  workers: Array<{ pid: number; before: number; after: number }>
  /** Largest worker RSS with the index less the largest without (MB): the index's share of a worker's RSS. */
  indexMb: number
  /** Largest worker RSS after the index is loaded (MB). */
  loadedMb: number
}

/** GET on a connection of its own (closed afterwards); the status. */
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      response.resume()
      response.once('end', () => resolve(response.statusCode ?? 0))
      response.once('error', reject)
    }).once('error', reject)
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** How long the index estimate waits for the workers to be ready (their index loaded). */
const READY_WAIT_MS = 300_000

/**
 * Estimates the in-memory search index's share of a worker's RSS: the workers of `service` (which loads the index
 * in the background after its start) against those of `withoutIndex`, the same service started with
 * SEARCH_MEMORY_INDEX=0, both idle after /readyz (which waits for the index) has been asked on each worker. The
 * connections are closed after each request, so that the cluster's round robin hands each worker one.
 */
export async function estimateIndex(
  service: Pick<ServiceHandle, 'processes' | 'url' | 'workers'>,
  withoutIndex: Pick<ServiceHandle, 'processes' | 'url' | 'workers'>,
): Promise<IndexEstimate> {
  // /readyz answers 503 while a worker's index is loading (its check gives up after 5 s): asked again until
  // every worker has answered 200 (round robin), for at most READY_WAIT_MS.
  const deadline = Date.now() + READY_WAIT_MS
  for (const s of [service, withoutIndex]) {
    let ready = 0
    while (ready < s.workers * 2) {
      const status = await getOnNewConnection(`${s.url}/readyz`)
      if (status === 200) ready++
      else if (Date.now() > deadline) throw new Error(`/readyz (index estimate): HTTP ${status} after ${READY_WAIT_MS} ms`)
      else await sleep(500)
    }
  }
  await sleep(1000)
  const rss = (s: Pick<ServiceHandle, 'processes'>) =>
    memoryNow(s)
      .processes.filter((p) => p.role === 'worker')
      .map((p) => p.before)
      .sort((a, b) => a - b)
  const without = rss(withoutIndex)
  const withIndex = rss(service)
  const workers = withIndex.map((after, i) => ({ pid: i + 1, before: without[i] ?? Number.NaN, after }))
  return {
    workers,
    indexMb: Math.max(0, Math.max(...withIndex) - Math.max(...without)),
    loadedMb: Math.max(0, ...withIndex),
  }
}

export function formatIndexEstimate(estimate: IndexEstimate): string {
  return estimate.workers.map((w, i) => `worker ${i + 1}: ${mb(w.before)} without the index, ${mb(w.after)} with it`).join('; ')
}
