import type { CompositeOptions } from '../metadata/decorator-options.interface.js';
import { recordComposite } from '../metadata/metadata.reflector.js';

/**
 * A composite index over `fields` in that order. Repeatable. Queries whose equality
 * filters form a prefix of `fields` are answered from it by a range scan.
 */
export function Composite(fields: readonly string[], options: CompositeOptions = {}): ClassDecorator {
  return (target) => recordComposite(target, { ...options, fields: [...fields] });
}
