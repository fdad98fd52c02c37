import type { EntityDefinition, ReferenceDefinition } from './entity-definition.interface.js';
import { EntityMetadataException } from './entity-metadata.exception.js';

/**
 * The class a reference's function returns, whatever it is (checked where the app's entities
 * are known); start-up fails naming the field when the function throws (an import cycle, say).
 */
export function referenceTarget(source: EntityDefinition, reference: ReferenceDefinition): unknown {
  try {
    return reference.target();
  } catch (error) {
    throw new EntityMetadataException(
      source.target.name,
      reference.field,
      `@Reference's function failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
