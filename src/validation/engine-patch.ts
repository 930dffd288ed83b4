/**
 * Work-around for a caching bug in shacl-engine 1.1.x.
 *
 * Shape.validate() remembers which (shape, focus node, value path) combinations it has checked
 * and, when asked again, re-reports only the results that were stored under exactly that id.
 * Results of a node shape's nested property shapes are stored under the nested shape's id, so a
 * second check of the same node shape on the same value "passes". Example: our contributor-ID
 * rules use gs:InContributorScheme three times (qualifiedMin, qualifiedMax, node); without this
 * patch the second rule counted a foreign contributor IRI as one from the GovData list.
 *
 * The patch stores every result a shape validation added to its report under the shape's id, so
 * a repeated check reports them all again. It keeps the engine's cycle protection.
 */
import Shape from 'shacl-engine/lib/Shape.js'

interface PatchedContext {
  id(opts: { shape: unknown }): string
  processed: Set<string>
  results: Map<string, Set<unknown>>
  report: { results: unknown[] }
}

interface ShapeLike {
  shapeValidator: { validate(context: PatchedContext): Promise<PatchedContext> }
}

const MARK = Symbol.for('godonu.shacl-engine.patched')
const proto = Shape.prototype as unknown as Record<PropertyKey, unknown> & ShapeLike

if (!proto[MARK]) {
  proto[MARK] = true
  proto.validate = async function validate(this: ShapeLike, context: PatchedContext) {
    const id = context.id({ shape: this })
    if (context.processed.has(id)) {
      const cached = context.results.get(id)
      if (cached) for (const result of cached) context.report.results.push(result)
      return context
    }
    context.processed.add(id)
    const before = context.report.results.length
    const out = await this.shapeValidator.validate(context)
    const added = context.report.results.slice(before)
    if (added.length > 0) {
      const set = context.results.get(id) ?? new Set()
      for (const result of added) set.add(result)
      context.results.set(id, set)
    }
    return out
  }
}

export const SHACL_ENGINE_PATCHED = true
