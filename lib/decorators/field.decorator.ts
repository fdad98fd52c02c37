import type { FieldOptions } from '../metadata/decorator-options.interface.js';
import { recordPropertyFacts } from '../metadata/metadata.reflector.js';

/**
 * A persisted, exposed field. Its type comes from the TypeScript type; class-validator
 * decorators on the same property validate it.
 */
export function Field(options: FieldOptions = {}): PropertyDecorator {
  return (prototype, property) => recordPropertyFacts(prototype.constructor, String(property), { field: { ...options } });
}
