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

/** pino's options for the configuration; `stream` is where the lines go (stdout when absent). */
export function loggerOptions(settings: LogSettings): LoggerOptions & { stream?: DestinationStream } {
  return {
    level: settings.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    stream: settings.logFormat === 'pretty' ? prettyStream() : jsonStream(),
  }
}

/**
 * Standard output, written asynchronously: a line is handed to the file descriptor in the background, and the
 * lines logged while a write is under way go out together in the next (one write per request, the access line,
 * was a good part of a small request's cost). pino flushes what is left when the process exits.
 */
function jsonStream(): DestinationStream {
  return pino.destination({ dest: 1, sync: false })
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
