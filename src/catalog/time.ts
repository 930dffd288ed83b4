/**
 * CKAN's timestamp form: naive UTC, `YYYY-MM-DDTHH:MM:SS.ffffff` (26 chars). Harvesters compare these as
 * strings, so every write gets a distinct, strictly increasing value within the process.
 */
let lastMicros = 0

export function ckanTimestamp(date: Date): string {
  return date.toISOString().slice(0, 23) + '000'
}

/** The CKAN timestamp `seconds` from now (token expiry). */
export function ckanTimestampIn(seconds: number): string {
  return ckanTimestamp(new Date(Date.now() + seconds * 1000))
}

export function ckanNow(): string {
  let micros = Date.now() * 1000
  if (micros <= lastMicros) micros = lastMicros + 1
  lastMicros = micros
  return fromMicros(micros)
}

export function fromMicros(micros: number): string {
  const ms = Math.floor(micros / 1000)
  const rest = String(micros % 1000).padStart(3, '0')
  return new Date(ms).toISOString().slice(0, 23) + rest
}

/** Microseconds since the epoch of a CKAN timestamp (the inverse of fromMicros). */
export function toMicros(ckanTimestamp: string): number {
  return Date.parse(`${ckanTimestamp.slice(0, 23)}Z`) * 1000 + Number(ckanTimestamp.slice(23, 26) || 0)
}

const CKAN_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/
export function isCkanTimestamp(value: string): boolean {
  return CKAN_TS.test(value)
}
