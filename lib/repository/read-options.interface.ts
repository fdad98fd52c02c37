import type { PrincipalContext } from './principal-context.interface.js';

/** Options of a read beyond the query itself. */
export interface ReadOptions extends PrincipalContext {
  /**
   * References to add to each record, by name (`@Reference`'s `as`: `['permit']`), each as the
   * record it points to, shaped for the principal like a read of that entity, or `null`.
   */
  include?: readonly string[];
}

/** Options of `find` beyond the query itself. */
export type FindOptions = ReadOptions;
