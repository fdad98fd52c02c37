import type { EntityOptions } from '../metadata/decorator-options.interface.js';
import { entityReflector } from '../metadata/metadata.reflector.js';

/**
 * Marks a class as a stored collection. `name` is its storage name and, unless `path`
 * is given, its route path: `@Entity('permits')` serves `/permits`.
 */
export function Entity(nameOrOptions: string | EntityOptions): ClassDecorator {
  const options = typeof nameOrOptions === 'string' ? { name: nameOrOptions } : { ...nameOrOptions };
  return (target) => entityReflector.set(target, options);
}
