import { sql, type RawBuilder, type SqlBool } from 'kysely'
import type { DialectName } from '../db/connect.js'
import { FIELD_BITS, indexTerm } from './text.js'
import { balancedJoin } from './sql-tree.js'

/** One full-text leaf after folding: words that must appear (as a phrase when several), last one maybe a prefix. */
export interface TextMatch {
  column: 'all' | 'title' | 'tags' | 'body'
  words: string[]
  prefix: boolean
}

/** Full text behind one interface; words are folded [letters/digits] runs, always bound parameters. */
export interface FullTextAdapter {
  /** Condition on `p.id`: the dataset's text matches. */
  matches(match: TextMatch): RawBuilder<SqlBool>
  /** A relevance expression source: rows (package_id, score) for the positive words of `q`. */
  scores(words: TextMatch[]): RawBuilder<unknown>
}

const FTS5_COLUMNS: Record<TextMatch['column'], string> = { all: '', title: 'title : ', tags: 'tags : ', body: 'body : ' }

function fts5Expression(match: TextMatch): string {
  const phrase = `"${match.words.join(' ')}"`
  return `${FTS5_COLUMNS[match.column]}${phrase}${match.prefix ? ' *' : ''}`
}

/** SQLite: FTS5 over `package_text` (migration 0002), ranked by bm25 with the same column weights. */
class Fts5Adapter implements FullTextAdapter {
  matches(match: TextMatch): RawBuilder<SqlBool> {
    return sql<SqlBool>`p.id in (select t.package_id from package_fts f join package_text t on t.text_id = f.rowid where package_fts match ${fts5Expression(match)})`
  }

  scores(words: TextMatch[]): RawBuilder<unknown> {
    const expression = words.map(fts5Expression).join(' OR ')
    // bm25 is lower for better matches; columns weighted title 4, tags 2, body 1.
    return sql`(select t.package_id as package_id, -bm25(package_fts, 4.0, 2.0, 1.0) as score from package_fts f join package_text t on t.text_id = f.rowid where package_fts match ${expression})`
  }
}

/** Above every character a folded term can hold: `term < prefix + TOP` bounds a prefix's range. */
const TOP = String.fromCodePoint(0x10ffff)

/** The rows of `search_term t` for a word, or for the words beginning so (a range of the key). */
export function termCondition(word: string, prefix: boolean): RawBuilder<SqlBool> {
  const term = indexTerm(word)
  return prefix ? sql<SqlBool>`(t.term >= ${term} and t.term < ${term + TOP})` : sql<SqlBool>`t.term = ${term}`
}

const PHRASE_COLUMNS: Record<TextMatch['column'], Array<'title' | 'tags' | 'body'>> = {
  all: ['title', 'tags', 'body'],
  title: ['title'],
  tags: ['tags'],
  body: ['body'],
}

/**
 * MySQL: full text over our inverted index, `search_term` (migration 0007), designed for InnoDB:
 * each word is a lookup (a prefix a range) of the term key; a phrase is its words, all present, and
 * then found in that order in the stored text (its tokens joined by single spaces).
 */
class TermIndexAdapter implements FullTextAdapter {
  matches(match: TextMatch): RawBuilder<SqlBool> {
    const bit = match.column === 'all' ? null : FIELD_BITS[match.column]
    const conditions = match.words.map((word, i) => {
      const inField = bit === null ? sql`` : sql` and (t.weight & ${bit}) <> 0`
      return sql<SqlBool>`p.id in (select t.package_id from search_term t where ${termCondition(word, match.prefix && i === match.words.length - 1)}${inField})`
    })
    if (match.words.length > 1) {
      const pattern = `% ${match.words.join(' ')}${match.prefix ? '%' : ' %'}`
      const inText = PHRASE_COLUMNS[match.column].map((column) => sql<SqlBool>`concat(' ', ${sql.ref(`x.${column}`)}, ' ') like ${pattern}`)
      conditions.push(sql<SqlBool>`exists (select 1 from package_text x where x.package_id = p.id and ${balancedJoin(inText, 'or')})`)
    }
    return balancedJoin(conditions, 'and')
  }

  scores(words: TextMatch[]): RawBuilder<unknown> {
    const terms = words.flatMap((m) => m.words.map((word, i) => termCondition(word, m.prefix && i === m.words.length - 1)))
    // The weight is the sum of the field bits: a title match (4) ranks above tags (2) above the description (1).
    return sql`(select t.package_id as package_id, sum(t.weight) as score from search_term t where ${balancedJoin(terms, 'or')} group by t.package_id)`
  }
}

export function fullTextAdapter(dialect: DialectName): FullTextAdapter {
  return dialect === 'mysql' ? new TermIndexAdapter() : new Fts5Adapter()
}
