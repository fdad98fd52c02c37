import type { IndexOptions } from '../metadata/decorator-options.interface.js';
import { recordPropertyFacts } from '../metadata/metadata.reflector.js';

/** A secondary, ordered index on this field; `{ unique: true }` rejects duplicates with 409. */
export function Index(options: IndexOptions = {}): PropertyDecorator {
  return (prototype, property) => recordPropertyFacts(prototype.constructor, String(property), { index: { ...options } });
}
