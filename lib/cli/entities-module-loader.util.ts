import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Type } from '@nestjs/common';
import { createEntityDefinition } from '../metadata/entity-definition.factory.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { EntityMetadataException } from '../metadata/entity-metadata.exception.js';
import { entityReflector } from '../metadata/metadata.reflector.js';
import { CliFailure } from './cli-failure.exception.js';
import { EXIT_CODES } from './exit-code.constants.js';

/**
 * The entity definitions of the classes a compiled module exports (named exports, or a
 * default export that is one class or an array of them): how the command line gets the
 * migration steps, which are code and so not in the store's catalog.
 */
export async function loadEntityDefinitions(file: string): Promise<EntityDefinition[]> {
  let exported: Record<string, unknown>;
  try {
    exported = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CliFailure(`cannot load --entities ${file}: ${(error as Error).message}`, EXIT_CODES.usage);
  }
  const candidates = Object.values(exported).flatMap((value) => (Array.isArray(value) ? value : [value]));
  const classes = [...new Set(candidates)].filter((value): value is Type<object> => typeof value === 'function' && entityReflector.get(value) !== undefined);
  if (classes.length === 0) {
    throw new CliFailure(`--entities ${file} exports no @Entity() class (export the classes, or an array of them as default)`, EXIT_CODES.usage);
  }
  try {
    return classes.map((target) => createEntityDefinition(target));
  } catch (error) {
    if (error instanceof EntityMetadataException) throw new CliFailure(error.message, EXIT_CODES.usage);
    throw error;
  }
}
