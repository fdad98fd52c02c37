import type { Type } from '@nestjs/common';

/** The injection token of the options given to `EntitiesModule.forRoot()` (or returned by `forRootAsync`'s factory). */
export const ENTITIES_MODULE_OPTIONS = 'nestjs-declarative-entities:options';

// One token per class, not per class name: two entity classes may share a name (declared in
// different files or functions), and a shared token made the last one's repository serve both.
const repositoryTokens = new WeakMap<Type<object>, symbol>();

/** The injection token of an entity's `EntityRepository`: the same for every call with one class. */
export function getRepositoryToken(entity: Type<object>): symbol {
  let token = repositoryTokens.get(entity);
  if (!token) {
    token = Symbol(`nestjs-declarative-entities:repository:${entity.name}`);
    repositoryTokens.set(entity, token);
  }
  return token;
}
