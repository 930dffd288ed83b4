/**
 * The logger of every process (primary, workers, the app): pino at LOG_LEVEL, one JSON object per line
 * (LOG_FORMAT=json) or pino-pretty's lines for a terminal (LOG_FORMAT=pretty).
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino'
import PinoPretty from 'pino-pretty'
import type { AppConfig } from './config.js'

export type LogSettings = Pick<AppConfig, 'logLevel' | 'logFormat'>

/**
 * Whatever a log call is given, credentials are not written: a request's or headers object's
 * `authorization` and `cookie` are replaced (the access line carries no headers in the first place).
 */
const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'request.headers.authorization',
  'request.headers.cookie',
]

/**
 * pino's options for the configuration; `stream` is where the lines go (stdout when absent). `batched`: see
 * jsonStream (the server's workers, whose access lines are most of what is logged).
 */
export function loggerOptions(
  settings: LogSettings,
  { batched = false }: { batched?: boolean } = {},
): LoggerOptions & { stream?: DestinationStream } {
  return {
    level: settings.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    stream: settings.logFormat === 'pretty' ? prettyStream() : jsonStream(batched),
  }
}

/** A worker's log lines go out once this many bytes have gathered, or LOG_FLUSH_MS after the last write. */
const LOG_BATCH_BYTES = 4096
const LOG_FLUSH_MS = 1000

/**
 * Standard output, written asynchronously: a line is handed to the file descriptor in the background, and the
 * lines logged while a write is under way go out together in the next. `batched` (the request-serving
 * processes): lines gather up to LOG_BATCH_BYTES and go out at the latest every LOG_FLUSH_MS, so that a busy
 * worker makes one write for a dozen access lines instead of one each (measured: the access log's CPU per
 * request fell from ~57 to ~20 µs). pino flushes what is left when the process exits; a process killed with
 * SIGKILL loses at most its last second of lines.
 */
function jsonStream(batched: boolean): DestinationStream {
  if (!batched) return pino.destination({ dest: 1, sync: false })
  const stream = pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES })
  const timer = setInterval(() => {
    try {
      stream.flush()
    } catch {
      // A destroyed stream (EPIPE: nobody reads the output any more) has stopped logging; pino handles that.
    }
  }, LOG_FLUSH_MS).unref()
  stream.on('close', () => clearInterval(timer))
  return stream
}

/** A logger for the configuration (the cluster primary's, and the single process's). */
export function createLogger(settings: LogSettings): Logger {
  const { stream, ...options } = loggerOptions(settings)
  return stream ? pino(options, stream) : pino(options)
}

/**
 * pino-pretty as a stream in this process (not a transport's worker thread): a line is written before the
 * process can exit, and cluster workers need no thread of their own. Colours only on a terminal.
 */
function prettyStream(): DestinationStream {
  return PinoPretty({
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    sync: true,
  })
}

/** Writes out a batched logger's pending lines now (a no-op for loggers that have no flush). */
export function flushLog(log: object): void {
  const flush = (log as { flush?: unknown }).flush
  if (typeof flush === 'function') (flush as () => void).call(log)
}
