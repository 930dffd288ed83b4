import type { StoredDocument } from './repository.js'

/** What the cache may hold by default: documents' JSON text, in characters (a worker's share of memory). */
const DEFAULT_MAX_CHARS = 32 * 1024 * 1024

interface Entry {
  doc: StoredDocument
  expires: number
}

/**
 * Recently shown dataset documents, by id and by name. Coherence rule: every change this process applies
 * drops the changed datasets' entries (its own writes at once, every other process's from the change feed
 * within one poll); a document loaded while a change was applied is not kept (see `generation`). The TTL
 * and the size bounds (entries, characters of document text) only bound memory: freshness never depends
 * on them. Authorization still runs on every read.
 */
export class DocumentCache {
  /** By id, and by name: apart, because an older dataset's name may equal another's id (an id wins, as in loadDocument). */
  private readonly entries = new Map<string, Entry>()
  private readonly byName = new Map<string, Entry>()
  /** Characters of document text held (each entry counted once, under its id). */
  private chars = 0
  /**
   * Counts invalidations. A reader notes it before loading a document and caches the document only
   * if nothing was invalidated meanwhile: a load that raced a write must not be kept as current.
   */
  generation = 0

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly maxChars = DEFAULT_MAX_CHARS,
  ) {}

  /** Characters of document text held: for tests. */
  get size(): { entries: number; chars: number } {
    return { entries: this.entries.size, chars: this.chars }
  }

  get(key: string): StoredDocument | undefined {
    const entry = this.entries.get(key) ?? this.byName.get(key)
    if (!entry) return undefined
    if (entry.expires < Date.now()) {
      this.drop(entry)
      return undefined
    }
    return entry.doc
  }

  set(doc: StoredDocument, loadedAtGeneration = this.generation): void {
    if (this.ttlMs <= 0 || loadedAtGeneration !== this.generation) return
    const chars = doc.document.length
    // A document larger than a tenth of the budget would push out many others for one reader.
    if (chars > this.maxChars / 10) return
    const previous = this.entries.get(doc.id)
    if (previous) this.drop(previous)
    const stale = this.byName.get(doc.name)
    if (stale) this.drop(stale)
    if (this.entries.size >= this.maxEntries || this.chars + chars > this.maxChars) this.evictOldest()
    const entry = { doc, expires: Date.now() + this.ttlMs }
    this.entries.set(doc.id, entry)
    this.byName.set(doc.name, entry)
    this.chars += chars
  }

  invalidate(...keys: Array<string | null | undefined>): void {
    this.generation++
    for (const key of keys) {
      if (!key) continue
      const byId = this.entries.get(key)
      if (byId) this.drop(byId)
      const byName = this.byName.get(key)
      if (byName) this.drop(byName)
    }
  }

  clear(): void {
    this.generation++
    this.entries.clear()
    this.byName.clear()
    this.chars = 0
  }

  /** Removes an entry from both maps (each only where it still maps to this entry). */
  private drop(entry: Entry): void {
    if (this.entries.get(entry.doc.id) === entry) {
      this.entries.delete(entry.doc.id)
      this.chars -= entry.doc.document.length
    }
    if (this.byName.get(entry.doc.name) === entry) this.byName.delete(entry.doc.name)
  }

  /** Maps iterate in insertion order: drops the oldest tenth of the entries, and more until a tenth of the text budget is free. */
  private evictOldest(): void {
    let drop = Math.ceil(this.maxEntries / 10)
    for (const entry of this.entries.values()) {
      if (drop <= 0 && this.chars <= this.maxChars * 0.9) break
      this.drop(entry)
      drop--
    }
  }
}
