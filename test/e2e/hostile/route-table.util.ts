import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { EntityDefinition } from '../../../lib/index.js';

/** What a route does to its entity, in the terms of `@Permission` rules. */
export type RouteAction = 'create' | 'read' | 'update' | 'delete' | 'history' | 'audit' | 'admin';

/** One operation of the app, as its OpenAPI document lists it. */
export interface AppRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI template: `/permits/{id}/history`. */
  template: string;
  definition: EntityDefinition;
  action: RouteAction;
  /** Whether it names one record (`{id}`). */
  onRecord: boolean;
  /** Not one of the package's generated routes: its action is inferred from the method. */
  handWritten: boolean;
  /** The change feed: an event stream, not a list (no filters, sorts or pages). */
  stream: boolean;
  /**
   * A reference's nested route (`GET /permits/{id}/inspections`): the entity whose records it
   * lists. It needs read on that entity, then the record at `{id}` as `GET /permits/{id}` does.
   */
  lists?: EntityDefinition;
}

const GENERATED: Record<string, RouteAction> = {
  'POST ': 'create',
  'POST /batch': 'create',
  'GET ': 'read',
  'GET /{id}': 'read',
  'PUT /{id}': 'update',
  'PATCH /{id}': 'update',
  'DELETE /{id}': 'delete',
  'GET /changes': 'read',
  'GET /{id}/history': 'history',
  'GET /{id}/diff': 'history',
  'POST /{id}/revert': 'update',
  'POST /{id}/restore': 'delete',
  'GET /{id}/audit': 'audit',
  'GET /{id}/grants': 'admin',
  'POST /{id}/grants': 'admin',
  'DELETE /{id}/grants/{subject}': 'admin',
};

/**
 * Every operation of the app, read from the OpenAPI document `SwaggerModule` builds from
 * the app's controllers, each tied to the entity whose path it lives under. Routes the
 * package did not generate (the sample's `/permits/{id}/summary`) read with GET and
 * change with any other method. An operation under no entity fails: it would go untested.
 */
export function appRoutes(app: INestApplication, definitions: readonly EntityDefinition[]): AppRoute[] {
  const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
  const routes: AppRoute[] = [];
  for (const [template, operations] of Object.entries(document.paths)) {
    for (const method of Object.keys(operations).filter((key) => ['get', 'post', 'put', 'patch', 'delete'].includes(key))) {
      const upper = method.toUpperCase() as AppRoute['method'];
      const definition = [...definitions]
        .sort((a, b) => b.path.length - a.path.length)
        .find((candidate) => template === `/${candidate.path}` || template.startsWith(`/${candidate.path}/`));
      if (!definition) throw new Error(`${upper} ${template} belongs to no entity of this suite; teach the access suite about it`);
      const rest = template.slice(definition.path.length + 1);
      const lists = upper === 'GET' ? referringEntity(definitions, definition, rest) : undefined;
      const generated = lists ? 'read' : GENERATED[`${upper} ${rest}`];
      routes.push({
        method: upper,
        template,
        definition,
        action: generated ?? (upper === 'GET' ? 'read' : 'update'),
        onRecord: rest.startsWith('/{id}'),
        handWritten: generated === undefined,
        stream: generated !== undefined && rest === '/changes',
        ...(lists && { lists }),
      });
    }
  }
  return routes;
}

/** The entity a nested route `/{id}/<name>` below `target` lists: one whose @Reference points to `target`. */
function referringEntity(definitions: readonly EntityDefinition[], target: EntityDefinition, rest: string): EntityDefinition | undefined {
  const segment = /^\/\{id\}\/([^/]+)$/.exec(rest)?.[1];
  return definitions.find((candidate) => candidate.name === segment && candidate.references.some((reference) => reference.target() === target.target));
}
