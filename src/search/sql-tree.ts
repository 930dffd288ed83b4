import { sql, type RawBuilder, type SqlBool } from 'kysely'

/**
 * Conditions joined by `and` / `or` as a balanced tree of parentheses. Databases parse `a and b and c …`
 * into a left-deep chain, one level per operand: SQLite refuses more than 1000 levels ("Expression tree
 * is too large") and MySQL's parser runs out of stack. Halving keeps the depth at log2 of the number of
 * operands, whatever a query holds.
 */
export function balancedJoin(parts: RawBuilder<SqlBool>[], op: 'and' | 'or'): RawBuilder<SqlBool> {
  if (parts.length === 0) return op === 'and' ? sql<SqlBool>`1 = 1` : sql<SqlBool>`1 = 0`
  if (parts.length === 1) return sql<SqlBool>`(${parts[0]!})`
  if (parts.length === 2) return sql<SqlBool>`(${parts[0]!} ${sql.raw(op)} ${parts[1]!})`
  const middle = Math.ceil(parts.length / 2)
  return sql<SqlBool>`(${balancedJoin(parts.slice(0, middle), op)} ${sql.raw(op)} ${balancedJoin(parts.slice(middle), op)})`
}
