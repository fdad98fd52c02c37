import type { Principal } from '../common/principal.interface.js';

/** On behalf of whom a repository call runs. */
export interface PrincipalContext {
  /**
   * When this key is present (a principal, or `null` for an anonymous caller) the call is
   * checked like an HTTP request: entity rules, the owner rule, grants, field rules, and the
   * records it returns are shaped as the generated routes answer (see `EntityRepository.view`).
   * Leave it out for trusted code of your own: its records keep hidden fields.
   */
  principal?: Principal | null;
}
