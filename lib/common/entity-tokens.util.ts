import type { Type } from '@nestjs/common';

/** The injection token of the options given to `EntitiesModule.forRoot()` (or returned by `forRootAsync`'s factory). */
export const ENTITIES_MODULE_OPTIONS = 'nestjs-declarative-entities:options';

const REPOSITORY_TOKEN = 'nestjs-declarative-entities:repository-token';

/**
 * The injection token of an entity's `EntityRepository`: the same for every call with one
 * class. One per class, not per class name: two entity classes may share a name (declared in
 * different files), and a shared token made the last one's repository serve both. Kept on the
 * class itself, so it lives and goes with it.
 */
export function getRepositoryToken(entity: Type<object>): symbol {
  let token = Reflect.getOwnMetadata(REPOSITORY_TOKEN, entity) as symbol | undefined;
  if (!token) {
    token = Symbol(`nestjs-declarative-entities:repository:${entity.name}`);
    Reflect.defineMetadata(REPOSITORY_TOKEN, token, entity);
  }
  return token;
}
