/**
 * JSON text that is already serialized (a stored package document): embedded into a response as it is,
 * so hot read paths never parse and re-serialize it.
 */
export class RawJson {
  constructor(readonly json: string) {}
}

const MARK = '\u0000raw'

/** JSON.stringify that splices RawJson values in verbatim. */
export function serializeJson(value: unknown): string {
  const raws: string[] = []
  const text = JSON.stringify(value, (_key, v) => {
    if (v instanceof RawJson) {
      raws.push(v.json)
      return `${MARK}${raws.length - 1}`
    }
    return v
  })
  if (raws.length === 0) return text
  return text.replace(/"\\u0000raw(\d+)"/g, (_match, index: string) => raws[Number(index)]!)
}
