import type { EntityDefinition, ReferenceDefinition } from './entity-definition.interface.js';

/**
 * The references callers may name (in `include` and in filters through a reference): those
 * with a name. For a principal, one through a hidden field is as unknown as the field;
 * trusted code may name it.
 */
export function nameableReferences(definition: EntityDefinition, forPrincipal = true): ReferenceDefinition[] {
  return definition.references.filter((reference) => reference.as !== undefined && !(forPrincipal && definition.fieldsByName.get(reference.field)?.hidden));
}

/** The reference named `name` that a caller may name, if any. */
export function referenceNamed(definition: EntityDefinition, name: string, forPrincipal = true): ReferenceDefinition | undefined {
  return nameableReferences(definition, forPrincipal).find((reference) => reference.as === name);
}
