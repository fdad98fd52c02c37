import type { Type } from '@nestjs/common';

/** The injection token of the options given to `EntitiesModule.forRoot()` (or returned by `forRootAsync`'s factory). */
export const ENTITIES_MODULE_OPTIONS = 'nestjs-declarative-entities:options';

/** The injection token of an entity's `EntityRepository`. */
export function getRepositoryToken(entity: Type<object>): string {
  return `nestjs-declarative-entities:repository:${entity.name}`;
}
