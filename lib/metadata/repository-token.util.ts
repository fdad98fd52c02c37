import type { Type } from '@nestjs/common';
import { repositoryTokenReflector } from './metadata.reflector.js';

/**
 * The injection token of an entity's `EntityRepository`: the same for every call with one
 * class. One per class, not per class name: two entity classes may share a name (declared in
 * different files), and a shared token made the last one's repository serve both. Kept on the
 * class itself, so it lives and goes with it.
 */
export function getRepositoryToken(entity: Type<object>): symbol {
  let token = repositoryTokenReflector.getOwn(entity);
  if (!token) {
    token = Symbol(`nestjs-declarative-entities:repository:${entity.name}`);
    repositoryTokenReflector.set(entity, token);
  }
  return token;
}
