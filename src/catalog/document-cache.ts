import type { StoredDocument } from './repository.js'

/**
 * Recently shown dataset documents, by id and by name. Writes through this process invalidate their
 * entries at once; the TTL bounds how stale an entry can be when another process (a second server,
 * the seeder) writes to the same database. Authorization still runs on every read.
 */
export class DocumentCache {
  private readonly entries = new Map<string, { doc: StoredDocument; expires: number }>()
  /**
   * Counts invalidations. A reader notes it before loading a document and caches the document only
   * if nothing was invalidated meanwhile: a load that raced a write must not be kept as current.
   */
  generation = 0

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string): StoredDocument | undefined {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    if (entry.expires < Date.now()) {
      this.entries.delete(key)
      return undefined
    }
    return entry.doc
  }

  set(doc: StoredDocument, loadedAtGeneration = this.generation): void {
    if (this.ttlMs <= 0 || loadedAtGeneration !== this.generation) return
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest tenth.
      let drop = Math.ceil(this.maxEntries / 10)
      for (const key of this.entries.keys()) {
        this.entries.delete(key)
        if (--drop === 0) break
      }
    }
    const entry = { doc, expires: Date.now() + this.ttlMs }
    this.entries.set(doc.id, entry)
    this.entries.set(doc.name, entry)
  }

  invalidate(...keys: Array<string | null | undefined>): void {
    this.generation++
    for (const key of keys) if (key) this.entries.delete(key)
  }

  clear(): void {
    this.generation++
    this.entries.clear()
  }
}
