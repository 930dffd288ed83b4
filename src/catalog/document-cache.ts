import type { StoredDocument } from './repository.js'

/**
 * Recently shown dataset documents, by id and by name. Coherence rule: every change this process applies
 * drops the changed datasets' entries (its own writes at once, every other process's from the change feed
 * within one poll); a document loaded while a change was applied is not kept (see `generation`). The TTL
 * only bounds how long an entry lives. Authorization still runs on every read.
 */
export class DocumentCache {
  /** By id, and by name: apart, because an older dataset's name may equal another's id (an id wins, as in loadDocument). */
  private readonly entries = new Map<string, { doc: StoredDocument; expires: number }>()
  private readonly byName = new Map<string, { doc: StoredDocument; expires: number }>()
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
    for (const map of [this.entries, this.byName]) {
      const entry = map.get(key)
      if (!entry) continue
      if (entry.expires < Date.now()) {
        map.delete(key)
        return undefined
      }
      return entry.doc
    }
    return undefined
  }

  set(doc: StoredDocument, loadedAtGeneration = this.generation): void {
    if (this.ttlMs <= 0 || loadedAtGeneration !== this.generation) return
    for (const map of [this.entries, this.byName]) {
      if (map.size < this.maxEntries) continue
      // Maps iterate in insertion order: drop the oldest tenth.
      let drop = Math.ceil(this.maxEntries / 10)
      for (const key of map.keys()) {
        map.delete(key)
        if (--drop === 0) break
      }
    }
    const entry = { doc, expires: Date.now() + this.ttlMs }
    this.entries.set(doc.id, entry)
    this.byName.set(doc.name, entry)
  }

  invalidate(...keys: Array<string | null | undefined>): void {
    this.generation++
    for (const key of keys) {
      if (!key) continue
      this.entries.delete(key)
      this.byName.delete(key)
    }
  }

  clear(): void {
    this.generation++
    this.entries.clear()
    this.byName.clear()
  }
}
