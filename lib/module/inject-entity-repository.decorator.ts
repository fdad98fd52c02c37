import { Inject, type Type } from '@nestjs/common';
import { getRepositoryToken } from '../metadata/repository-token.util.js';

/** Injects the `EntityRepository` of an entity listed in some `EntitiesModule.forFeature()`. */
export function InjectEntityRepository(entity: Type<object>): PropertyDecorator & ParameterDecorator {
  return Inject(getRepositoryToken(entity));
}
