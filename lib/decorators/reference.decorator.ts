import type { Type } from '@nestjs/common';
import type { ReferenceOptions } from '../metadata/decorator-options.interface.js';
import { recordPropertyFacts } from '../metadata/metadata.reflector.js';

/**
 * The field holds the id of a record of another entity: `() => Permit`, a function so that
 * entities may refer to each other whichever file loads first. Each write checks in its
 * transaction that the record exists (409 otherwise), and deleting that record follows
 * `onDelete` in the delete's transaction. The field is indexed.
 */
export function Reference(target: () => Type<object>, options: ReferenceOptions = {}): PropertyDecorator {
  return (prototype, property) => recordPropertyFacts(prototype.constructor, String(property), { reference: { ...options, target } });
}
