import type { CompositeOptions } from '../metadata/decorator-options.interface.js';
import { recordComposite } from '../metadata/metadata.reflector.js';

/**
 * A composite index over `fields` in that order. Repeatable. Queries whose equality
 * filters form a prefix of `fields` are answered from it by a range scan.
 */
export function Composite(fields: readonly string[], options: CompositeOptions = {}): ClassDecorator {
  // Not spread when not an array: `@Composite('ab')` would name fields "a" and "b".
  return (target) => recordComposite(target, { ...options, fields: Array.isArray(fields) ? [...fields] : fields });
}
