import { sql, type RawBuilder, type SqlBool } from 'kysely'
import type { DialectName } from '../db/connect.js'

/** One full-text leaf after folding: words that must appear (as a phrase when several), last one maybe a prefix. */
export interface TextMatch {
  column: 'all' | 'title' | 'tags' | 'body'
  words: string[]
  prefix: boolean
}

/**
 * Full text behind one interface: SQLite FTS5 or InnoDB FULLTEXT over the same `package_text` rows.
 * Words are folded [letters/digits] runs, so the engines' own query syntax never sees user punctuation;
 * the match string is still sent as a bound parameter.
 */
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

/** InnoDB ignores words shorter than innodb_ft_min_token_size (3 by default): those fall back to LIKE. */
const MYSQL_MIN_TOKEN = 3

const MYSQL_COLUMNS: Record<TextMatch['column'], RawBuilder<unknown>> = {
  all: sql`title, tags, body`,
  title: sql`title`,
  tags: sql`tags`,
  body: sql`title, tags, body`,
}

function mysqlBoolean(match: TextMatch): string {
  if (match.words.length === 1) return `+${match.words[0]}${match.prefix ? '*' : ''}`
  return `+"${match.words.join(' ')}"`
}

class InnoDbAdapter implements FullTextAdapter {
  matches(match: TextMatch): RawBuilder<SqlBool> {
    if (match.words.some((w) => w.length < MYSQL_MIN_TOKEN)) {
      const text = match.column === 'title' || match.column === 'tags' ? sql.ref(match.column) : sql`concat_ws(' ', title, tags, body)`
      const pattern = `% ${match.words.join(' ')}${match.prefix ? '%' : ' %'}`
      return sql<SqlBool>`p.id in (select package_id from package_text where concat(' ', ${text}, ' ') like ${pattern})`
    }
    return sql<SqlBool>`p.id in (select package_id from package_text where match(${MYSQL_COLUMNS[match.column]}) against (${mysqlBoolean(match)} in boolean mode))`
  }

  scores(words: TextMatch[]): RawBuilder<unknown> {
    const text = words.map((w) => w.words.join(' ')).join(' ')
    return sql`(select package_id, match(title) against (${text}) * 4 + match(tags) against (${text}) * 2 + match(title, tags, body) against (${text}) as score from package_text where match(title, tags, body) against (${text}))`
  }
}

export function fullTextAdapter(dialect: DialectName): FullTextAdapter {
  return dialect === 'mysql' ? new InnoDbAdapter() : new Fts5Adapter()
}
