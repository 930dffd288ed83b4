/**
 * Reference reloads may overlap (a local write's and the change feed's): the rows of one started earlier must
 * not replace those of one started later, or a Kommune created a moment ago vanishes from this process until
 * the next reference change (organization_create answered "Organization was not found" after its own commit).
 */
import t from 'tap'
import type { Kysely } from 'kysely'
import { ReferenceCache } from '../../src/catalog/reference.js'
import type { Database } from '../../src/db/types.js'

/** The rows each table answers when read, and a way to hold the answers of a read until released. */
function controlledDatabase() {
  const tables: Record<string, unknown[]> = { organization: [], theme: [], license: [] }
  let hold: Promise<void> | undefined
  const db = {
    selectFrom: (table: string) => ({
      selectAll: () => ({
        execute: async () => {
          const rows = [...tables[table]!] // read now, answered when released
          if (hold) await hold
          return rows
        },
      }),
    }),
  }
  return {
    db: db as unknown as Kysely<Database>,
    tables,
    holdReads(): () => void {
      let release!: () => void
      hold = new Promise<void>((resolve) => (release = resolve))
      return () => {
        hold = undefined
        release()
      }
    },
  }
}

const org = (id: string, name: string) => ({ id, name, title: name, state: 'active', extras: '{}' })

t.test('an earlier reload finishing last does not put back older rows', async (t) => {
  const control = controlledDatabase()
  const cache = new ReferenceCache(control.db)
  control.tables.organization = [org('1', 'marburg')]
  await cache.reload()
  t.ok(cache.organization('marburg'))

  const release = control.holdReads()
  const earlier = cache.reload() // reads the rows before the commit, answered late
  control.tables.organization = [org('1', 'marburg'), org('2', 'gemeinde-neu')] // the commit
  release()
  const later = cache.reload()
  await later
  t.ok(cache.organization('gemeinde-neu'), 'the later reload holds the new Kommune')
  await earlier
  t.ok(cache.organization('gemeinde-neu'), 'still there after the earlier reload finished')
})

t.test('reloads one after the other each take their rows', async (t) => {
  const control = controlledDatabase()
  const cache = new ReferenceCache(control.db)
  control.tables.organization = [org('1', 'marburg')]
  await cache.reload()
  control.tables.organization = []
  await cache.reload()
  t.notOk(cache.organization('marburg'), 'a removed Kommune is gone')
})
