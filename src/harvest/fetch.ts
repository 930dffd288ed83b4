/**
 * Fetching from a harvest source, bounded in every way a source can misbehave: a timeout per request (headers
 * and body), a byte limit per fetch (counted while reading, so a 200 MB body costs at most the limit), a limit
 * of redirects (a loop ends), and retries with exponential backoff and full jitter on 5xx, 429 (honouring
 * Retry-After, capped) and network errors. Every wait also ends when the job's signal aborts. Requests go
 * through the guarded fetcher (src/net/guarded-fetch.ts): unless HARVEST_PRIVATE_ADDRESSES=allow, no request,
 * redirect hop included, reaches a private address. Such a fetch, and one whose host does not resolve, fails
 * at once, unretried, with the one message HOST_REFUSED ("host not found or address not allowed"): the job log
 * is public, and a difference in text or in timing (retries) would tell which internal names exist.
 */
import type { IncomingMessage } from 'node:http'
import { HOST_REFUSED, guardedRequest, isHostRefused } from '../net/guarded-fetch.js'

export interface FetchLimits {
  timeoutMs: number
  maxBytes: number
  retries: number
  /** HARVEST_PRIVATE_ADDRESSES=allow: requests may reach loopback and private addresses (tests only). */
  allowPrivateAddresses: boolean
  maxRedirects?: number
  /** The first backoff step (ms); doubled per attempt, then jittered. */
  backoffMs?: number
  /** The longest wait for one retry, Retry-After included. */
  maxBackoffMs?: number
  /** The job's signal: aborting it ends the fetch and every wait. */
  signal?: AbortSignal
  /** Told of each attempt (0 first, then each retry) before it is made. */
  onAttempt?: (attempt: number) => void
}

export class HarvestFetchError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
    /** EHOSTREFUSED: the host does not resolve or its address is refused (which, is not said). */
    readonly code?: string,
  ) {
    super(message)
    this.name = 'HarvestFetchError'
  }
}

export interface FetchedBody {
  url: string
  status: number
  contentType: string
  /** Chunks of the body as read (use bodyText or stream them into a parser). */
  body: AsyncIterable<Uint8Array>
}

const RETRYABLE_STATUS = (status: number) => status === 429 || status >= 500

/** Retry-After as seconds or an HTTP date, in ms (undefined when absent or unreadable). */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason as Error)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * GETs `url` and hands the body over as a bounded stream: reading it past `maxBytes` or beyond the request's
 * deadline throws. Redirects are followed by hand (at most `maxRedirects`, http(s) only).
 */
export async function harvestFetch(url: string, accept: string, limits: FetchLimits): Promise<FetchedBody> {
  const maxRedirects = limits.maxRedirects ?? 5
  const backoff = limits.backoffMs ?? 500
  const maxBackoff = limits.maxBackoffMs ?? 30_000
  for (let attempt = 0; ; attempt++) {
    const deadline = AbortSignal.timeout(limits.timeoutMs)
    const signal = limits.signal ? AbortSignal.any([deadline, limits.signal]) : deadline
    let retryWait: number | undefined
    let failure: HarvestFetchError
    limits.onAttempt?.(attempt)
    try {
      let current = url
      for (let hops = 0; ; hops++) {
        const response = await guardedRequest(new URL(current), {
          headers: { accept, 'user-agent': 'GoDonu-Harvester/1' },
          signal,
          allowPrivateAddresses: limits.allowPrivateAddresses,
          unifyHostRefusals: true,
        })
        const status = response.statusCode ?? 0
        const location = response.headers.location
        if (status >= 300 && status < 400 && location) {
          response.destroy()
          if (hops >= maxRedirects)
            throw new HarvestFetchError(`more than ${maxRedirects} redirects (a redirect loop?)`, url, status)
          let next: URL
          try {
            next = new URL(location, current)
          } catch {
            throw new HarvestFetchError('a redirect to an invalid URL', current)
          }
          if (next.protocol !== 'http:' && next.protocol !== 'https:')
            throw new HarvestFetchError(`redirect to a ${next.protocol} URL`, current)
          current = next.href
          continue
        }
        if (status < 200 || status >= 300) {
          response.destroy()
          const error = new HarvestFetchError(`HTTP ${status} from ${current}`, current, status)
          if (!RETRYABLE_STATUS(status)) throw error
          const retryAfter = response.headers['retry-after']
          retryWait = retryAfterMs(typeof retryAfter === 'string' ? retryAfter : null)
          throw error
        }
        const declared = Number(response.headers['content-length'])
        if (declared > limits.maxBytes) {
          response.destroy()
          throw new HarvestFetchError(
            `the body is ${declared} bytes, more than the limit of ${limits.maxBytes} (HARVEST_MAX_BYTES)`,
            current,
          )
        }
        return {
          url: current,
          status,
          contentType: response.headers['content-type'] ?? '',
          body: boundedBody(response, limits.maxBytes, current, deadline, limits.signal),
        }
      }
    } catch (err) {
      if (limits.signal?.aborted) throw limits.signal.reason as Error
      // A host that does not resolve or a refused address: not retried, and nothing said of which it was.
      if (isHostRefused(err)) throw new HarvestFetchError(HOST_REFUSED, url, undefined, 'EHOSTREFUSED')
      if (err instanceof HarvestFetchError) {
        if (err.status === undefined || !RETRYABLE_STATUS(err.status)) throw err
        failure = err
      } else if (deadline.aborted) {
        failure = new HarvestFetchError(`no answer within ${limits.timeoutMs} ms`, url)
      } else {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause
        failure = new HarvestFetchError(
          `network error: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
          url,
        )
      }
    }
    if (attempt >= limits.retries) throw failure
    // Exponential backoff with full jitter; a server's Retry-After is honoured (within maxBackoff).
    const exponential = Math.min(maxBackoff, backoff * 2 ** attempt)
    const wait = retryWait !== undefined ? Math.min(maxBackoff, retryWait) : Math.random() * exponential
    await sleep(wait, limits.signal)
  }
}

async function* boundedBody(
  response: IncomingMessage,
  maxBytes: number,
  url: string,
  deadline: AbortSignal,
  jobSignal?: AbortSignal,
): AsyncIterable<Uint8Array> {
  let bytes = 0
  try {
    const chunks = response[Symbol.asyncIterator]() as AsyncIterator<Buffer>
    for (;;) {
      let chunk: IteratorResult<Buffer>
      try {
        chunk = await chunks.next()
      } catch (err) {
        if (jobSignal?.aborted) throw jobSignal.reason as Error
        if (deadline.aborted) throw new HarvestFetchError(`the body did not arrive within the request timeout`, url)
        throw new HarvestFetchError(`the body broke off: ${(err as Error).message}`, url)
      }
      if (chunk.done) {
        if (!response.complete) throw new HarvestFetchError('the body broke off before its end', url)
        return
      }
      bytes += chunk.value.byteLength
      if (bytes > maxBytes)
        throw new HarvestFetchError(`the body exceeds the limit of ${maxBytes} bytes (HARVEST_MAX_BYTES)`, url)
      yield chunk.value
    }
  } finally {
    if (!response.complete) response.destroy()
  }
}

/** The whole body as UTF-8 text (bounded by the fetch's byte limit). */
export async function bodyText(fetched: FetchedBody): Promise<string> {
  const decoder = new TextDecoder('utf-8')
  let text = ''
  for await (const chunk of fetched.body) text += decoder.decode(chunk, { stream: true })
  return text + decoder.decode()
}
