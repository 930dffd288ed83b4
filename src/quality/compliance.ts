/**
 * The DCAT-AP.de compliance of a write, as the write's own validation found it (never validated again for the
 * score). The action layer validates a dataset input once (ctx.datasetRules); that result is attached to the
 * input under a symbol key, which survives the object spreads between the action and the catalog service
 * (`{ ...input, creator_user_id }`), and the quality hook reads it there. An input nobody validated (a draft, a
 * seed or any other direct service write) is `unchecked`: the indicator is then missed and says so.
 */
export type Compliance = 'passed' | 'failed' | 'unchecked'

const COMPLIANCE = Symbol.for('godonu.quality.dcatApCompliance')

/** Records what the validation of `input` found: its violations (warnings and hints do not fail compliance). */
export function markCompliance<T extends readonly unknown[]>(input: object, violations: T): T {
  Object.defineProperty(input, COMPLIANCE, {
    value: violations.length === 0 ? 'passed' : 'failed',
    enumerable: true,
    configurable: true,
    writable: true,
  })
  return violations
}

export function complianceOf(input: object): Compliance {
  const value = (input as Record<symbol, unknown>)[COMPLIANCE]
  return value === 'passed' || value === 'failed' ? value : 'unchecked'
}
