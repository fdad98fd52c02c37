import type { Type } from '@nestjs/common';
import type { EntityDefinition, FieldDefinition } from '../metadata/entity-definition.interface.js';
import { EntityMetadataException } from '../metadata/entity-metadata.exception.js';
import { propertyProblems } from './compiled-body-validator.util.js';

/**
 * Fails start-up when a field's `@Field({ default })` breaks the field's own class-validator
 * rules (`@IsIn`, `@Length`, ...), which the create body `dto` carries: a create leaving the field
 * out would store a value that the same create sending it gets 400 for, and the OpenAPI document
 * would show a default its own schema refuses. Rules the compiled body check does not reproduce
 * (class-transformer's, `@ValidateIf`, constraint classes of the app's own, which may need its
 * container) are left to the requests: they cannot be judged before the app runs.
 */
export function checkDefaultsKeepRules(definition: EntityDefinition, dto: Type<object>, fields: readonly FieldDefinition[]): void {
  for (const field of fields) {
    if (field.default === undefined) continue;
    // As a body sends it: a date as its ISO string.
    const value = field.default instanceof Date ? field.default.toISOString() : field.default;
    const problems = propertyProblems(dto, field.name, value);
    if (problems !== undefined && problems.length > 0) {
      throw new EntityMetadataException(
        definition.target.name,
        field.name,
        `default ${JSON.stringify(value)} breaks the field's own rules: ${problems.join('; ')}`,
      );
    }
  }
}
