import type { AccessDecision } from './access-policy.interface.js';
import type { PrincipalContext } from './principal-context.interface.js';

/**
 * A call whose access a generated route has already decided: the repository applies the
 * decision instead of deciding again. Set only by the package's controllers; a decision
 * for another entity, action or principal is ignored and the call decided afresh.
 */
export interface DecidedContext extends PrincipalContext {
  decision?: AccessDecision;
}
