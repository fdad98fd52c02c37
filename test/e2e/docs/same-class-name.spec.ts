import { Controller, Get } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { Type } from '@nestjs/common';
import { Entity, Field } from '../../../lib/index.js';
import { createTestApp } from '../../support/test-app.util.js';

/*
 * test/e2e/start-up-errors.spec.ts "serves two entity classes that share a class name" shows the
 * package supports it (repository tokens were made per class for that reason), but every generated
 * schema is named after the class (CreateItemDto, ItemRecord, ...), so the second entity's
 * schemas overwrite the first's and both entities' routes point at the same schema.
 */
const Alpha: Type<object> = (() => {
  @Entity('alpha-items')
  class Item {
    @Field() alpha!: string;
  }
  return Item;
})();
const Beta: Type<object> = (() => {
  @Entity('beta-items')
  class Item {
    @Field() beta!: number;
  }
  return Item;
})();

function resolve(document: OpenAPIObject, schema: { $ref?: string }): { properties?: Record<string, unknown> } {
  return schema.$ref
    ? (document.components!.schemas![schema.$ref.split('/').at(-1)!] as { properties?: Record<string, unknown> })
    : (schema as { properties?: Record<string, unknown> });
}

describe('two entity classes sharing a class name', () => {
  it('each get an OpenAPI body and record schema of their own', async () => {
    const t = await createTestApp({ entities: [Alpha, Beta] });
    try {
      const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
      const body = (path: string) =>
        resolve(
          document,
          (document.paths[path]!.post!.requestBody as { content: Record<string, { schema: { $ref?: string } }> }).content['application/json']!.schema,
        );
      expect(Object.keys(body('/alpha-items').properties ?? {})).toEqual(['alpha']);
      expect(Object.keys(body('/beta-items').properties ?? {})).toEqual(['beta']);

      const operationIds = Object.values(document.paths).flatMap((item) =>
        Object.values(item as Record<string, { operationId?: string }>).map((operation) => operation.operationId),
      );
      expect(new Set(operationIds).size).toBe(operationIds.length);
      // Both are named after their entities, whichever was declared first: neither takes the shared name.
      const schemas = Object.keys(document.components!.schemas!);
      expect(schemas).toEqual(expect.arrayContaining(['CreateAlphaItemsDto', 'CreateBetaItemsDto', 'AlphaItemsRecord', 'BetaItemsRecord']));
      expect(schemas).not.toContain('CreateItemDto');
      expect(operationIds).toEqual(expect.arrayContaining(['AlphaItemsEntityController_create', 'BetaItemsEntityController_create']));
    } finally {
      await t.close();
    }
  });
});

@Entity('named-permits')
class Permit {
  @Field() number!: string;
}

/** The natural name of an app's own controller of routes about permits. */
@Controller('reports/named-permits')
class PermitController {
  @Get()
  list(): string[] {
    return [];
  }
}

describe("an app's own controller named after an entity", () => {
  it('shares no operation id with the generated routes', async () => {
    const t = await createTestApp({ entities: [Permit], controllers: [PermitController] });
    try {
      const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
      const operationIds = Object.values(document.paths).flatMap((item) =>
        Object.values(item as Record<string, { operationId?: string }>).map((operation) => operation.operationId),
      );
      expect(operationIds).toEqual(expect.arrayContaining(['PermitController_list', 'PermitEntityController_list']));
      expect(new Set(operationIds).size).toBe(operationIds.length);
    } finally {
      await t.close();
    }
  });
});
