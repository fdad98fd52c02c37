import type { Type } from '@nestjs/common';
import { validateSync } from 'class-validator';
import type { EntityDefinition, FieldDefinition } from '../metadata/entity-definition.interface.js';
import { EntityMetadataException } from '../metadata/entity-metadata.exception.js';

/**
 * Fails start-up when a field's `@Field({ default })` breaks the field's own class-validator
 * rules (`@IsIn`, `@Length`, ...), which the create body `dto` carries: a create leaving the field
 * out would store a value that the same create sending it gets 400 for, and the OpenAPI document
 * would show a default its own schema refuses.
 */
export function checkDefaultsKeepRules(definition: EntityDefinition, dto: Type<object>, fields: readonly FieldDefinition[]): void {
  for (const field of fields) {
    if (field.default === undefined) continue;
    // As a body sends it: a date as its ISO string.
    const value = field.default instanceof Date ? field.default.toISOString() : field.default;
    // No constructor runs: the class's own field initializers are no part of a body.
    const probe = Object.assign(Object.create(dto.prototype) as object, { [field.name]: value });
    const problems = validateSync(probe, { skipMissingProperties: true, forbidUnknownValues: false })
      .filter((error) => error.property === field.name)
      .flatMap((error) => Object.values(error.constraints ?? {}));
    if (problems.length > 0) {
      throw new EntityMetadataException(
        definition.target.name,
        field.name,
        `default ${JSON.stringify(value)} breaks the field's own rules: ${problems.join('; ')}`,
      );
    }
  }
}
