import type { Type } from '@nestjs/common';

/** The injection token of an entity's `EntityRepository`. */
export function getRepositoryToken(entity: Type<object>): string {
  return `nestjs-declarative-entities:repository:${entity.name}`;
}
