import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument, createSampleApp } from '../../../sample/app.factory.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

const GOLDEN = fileURLToPath(new URL('../../golden/sample-openapi.json', import.meta.url));

/**
 * The sample's OpenAPI document is committed; any change to the generated routes or
 * schemas shows up as a diff. `UPDATE_GOLDEN=1 npm test -- test/sample` rewrites it.
 */
describe('the sample OpenAPI document', () => {
  it('matches the committed golden document', async () => {
    const dir = makeTempDir();
    const app = await createSampleApp({ path: dir.path, logger: false });
    try {
      await app.init();
      const document = JSON.parse(JSON.stringify(buildOpenApiDocument(app)));
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(GOLDEN)) {
        if (process.env.CI) throw new Error(`${GOLDEN} is missing; run UPDATE_GOLDEN=1 npm test -- test/sample and commit it`);
        writeFileSync(GOLDEN, `${JSON.stringify(document, null, 2)}\n`);
      }
      expect(document).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));
    } finally {
      await app.close();
      dir.remove();
    }
  });

  it('documents every generated route of both entities, tagged by entity', () => {
    const document = JSON.parse(readFileSync(GOLDEN, 'utf8')) as { paths: Record<string, Record<string, { tags: string[] }>> };
    const routes = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => `${method.toUpperCase()} ${path} [${operation.tags.join(',')}]`),
    );
    for (const entity of ['permits', 'inspections']) {
      expect(routes).toEqual(
        expect.arrayContaining([
          `POST /${entity} [${entity}]`,
          `GET /${entity} [${entity}]`,
          `POST /${entity}/batch [${entity}]`,
          `GET /${entity}/{id} [${entity}]`,
          `PUT /${entity}/{id} [${entity}]`,
          `PATCH /${entity}/{id} [${entity}]`,
          `DELETE /${entity}/{id} [${entity}]`,
          `GET /${entity}/{id}/history [${entity}]`,
        ]),
      );
    }
    expect(routes).toContain('GET /permits/{id}/audit [permits]');
    expect(routes.some((route) => route.startsWith('GET /inspections/{id}/audit'))).toBe(false);
  });
});
