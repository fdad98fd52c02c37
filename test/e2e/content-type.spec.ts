import 'reflect-metadata';
import { Module, type INestApplication } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import type { Test as Request } from 'supertest';
import { AclService, EntitiesModule, Entity, EntityRepository, Field, getRepositoryToken, Permission, type Principal } from '../../lib/index.js';
import { makeTempDir } from '../support/temp-dir.util.js';
import { PLATFORMS, type Platform, type TestApp } from '../support/test-app.util.js';
import { expectErrorStatus, expectNestError, http, principalFromHeader, PRINCIPAL_HEADER, unique } from './support/e2e.util.js';

@Entity({ name: 'typed-notes', softDelete: true })
@Permission({ read: 'typed-notes:read', create: 'typed-notes:create', update: 'typed-notes:update', admin: 'typed-notes:admin' })
class TypedNote {
  @Field() title!: string;
}

/** Signed in, as the victim of a cross-site form would be, and allowed everything. */
const ADMIN: Principal = { id: 'admin', permissions: ['typed-notes:*'] };

/**
 * `default`: the body parsers each platform comes with under Nest (JSON and form-urlencoded on
 * both; fastify also parses text/plain). `added`: what an app may add on top: a text parser on
 * Express, a multipart parser, a parser for `application/*+json`.
 */
type Parsers = 'default' | 'added';

/** The fields of a multipart body, as a multipart parser (multer, @fastify/multipart) gives them. */
function multipartFields(text: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [, name, value] of text.matchAll(/name="([^"]+)"\r\n\r\n([^\r]*)\r\n/g)) {
    const previous = fields[name!];
    fields[name!] = previous === undefined ? value! : [...(Array.isArray(previous) ? previous : [previous]), value!];
  }
  return fields;
}

/** An app with the platform's own body parsers, unlike `createTestApp`, which keeps Express to JSON. */
async function createParsersApp(platform: Platform, parsers: Parsers): Promise<TestApp> {
  const temp = makeTempDir();

  @Module({
    imports: [EntitiesModule.forRoot({ path: temp.path, getPrincipal: principalFromHeader }), EntitiesModule.forFeature([TypedNote])],
  })
  class ParsersAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [ParsersAppModule] }).compile();
  let app: INestApplication;
  if (platform === 'fastify') {
    const adapter = new FastifyAdapter();
    if (parsers === 'added') {
      const fastify = adapter.getInstance();
      fastify.addContentTypeParser('multipart/form-data', { parseAs: 'string' }, (_request, body, done) => done(null, multipartFields(body as string)));
      fastify.addContentTypeParser(/^application\/[\w.-]+\+json$/, { parseAs: 'string' }, fastify.getDefaultJsonParser('error', 'error'));
    }
    app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, { logger: false });
  } else {
    const express = moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), { logger: false });
    if (parsers === 'added') {
      express.useBodyParser('json', { type: ['application/json', 'application/*+json'] });
      express.useBodyParser('text');
      express.use((request: any, _response: unknown, next: () => void) => {
        if (!String(request.headers['content-type']).startsWith('multipart/form-data')) return next();
        let text = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => (text += chunk));
        request.on('end', () => {
          request.body = multipartFields(text);
          next();
        });
      });
    }
    app = express;
  }
  await app.init();
  if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return {
    app,
    server: () => app.getHttpServer(),
    path: temp.path,
    close: async () => {
      await app.close();
      temp.remove();
    },
  };
}

type Send = (request: Request) => Request;

/** What a cross-site HTML form (or a `fetch` without a preflight) can send. */
const KINDS = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain', 'no Content-Type, with a body', 'no Content-Type, no body'] as const;
type Kind = (typeof KINDS)[number];

/** Sends `fields` as a body of that kind. */
function sendAs(kind: Kind, fields: Record<string, string | string[]>): Send {
  const entries = Object.entries(fields).flatMap(([name, value]) => [value].flat().map((item): [string, string] => [name, item]));
  switch (kind) {
    case 'application/x-www-form-urlencoded':
      return (request) => request.type('form').send(new URLSearchParams(entries).toString());
    case 'multipart/form-data':
      return (request) => entries.reduce((built, [name, item]) => built.field(name, item), request);
    case 'text/plain':
      return (request) => request.set('Content-Type', 'text/plain').send(JSON.stringify(fields));
    case 'no Content-Type, with a body':
      // A Buffer makes supertest send no Content-Type.
      return (request) => request.send(Buffer.from(JSON.stringify(fields)));
    case 'no Content-Type, no body':
      return (request) => request;
  }
}

/** Fastify answers these itself, before any route runs: it has no parser for them. */
function platformRefuses(platform: Platform, parsers: Parsers, kind: Kind): boolean {
  return platform === 'fastify' && (kind === 'no Content-Type, with a body' || (kind === 'multipart/form-data' && parsers === 'default'));
}

describe.each(PLATFORMS.flatMap((platform) => (['default', 'added'] as const).map((parsers) => [platform, parsers] as const)))(
  'content types on %s with the %s body parsers',
  (platform, parsers) => {
    let t: TestApp;
    let notes: EntityRepository<TypedNote>;
    let acl: AclService;

    beforeAll(async () => {
      t = await createParsersApp(platform, parsers);
      notes = t.app.get(getRepositoryToken(TypedNote));
      acl = t.app.get(AclService);
    });

    afterAll(async () => {
      await t?.close();
    });

    const admin = { [PRINCIPAL_HEADER]: JSON.stringify(ADMIN) };
    const call = (method: 'post' | 'put' | 'patch', path: string) => http(t)[method](path).set(admin);

    async function titled(title: string): Promise<number> {
      return (await notes.find({ where: { title }, limit: 1000 })).items.length;
    }

    function expectUnsupported(response: Parameters<typeof expectNestError>[0], kind: Kind): void {
      if (platformRefuses(platform, parsers, kind)) {
        // README: the platform's own answers carry `{ statusCode, message }` only.
        expectErrorStatus(response, 415);
      } else {
        expect(expectNestError(response, 415)).toContain('application/json');
      }
    }

    describe.each(KINDS)('a body sent as %s', (kind) => {
      it('is refused with 415 on POST /P and POST /P/batch, creating nothing', async () => {
        const title = unique('form');
        expectUnsupported(await sendAs(kind, { title })(call('post', '/typed-notes')), kind);
        expectUnsupported(await sendAs(kind, { '0[title]': title })(call('post', '/typed-notes/batch')), kind);
        expect(await titled(title)).toBe(0);
      });

      it('is refused with 415 on PUT and PATCH, changing nothing', async () => {
        const note = await notes.create({ title: 'seed' });
        expectUnsupported(await sendAs(kind, { title: 'from a form' })(call('put', `/typed-notes/${note.id}`)), kind);
        expectUnsupported(await sendAs(kind, { title: 'from a form' })(call('patch', `/typed-notes/${note.id}`)), kind);
        expect(await notes.findById(note.id)).toEqual(expect.objectContaining({ title: 'seed', version: 1 }));
      });

      it('is refused with 415 on POST /P/:id/revert and /restore, changing nothing', async () => {
        const note = await notes.create({ title: 'seed' });
        await notes.update(note.id, { title: 'second' });
        expectUnsupported(await sendAs(kind, { toVersion: '1' })(call('post', `/typed-notes/${note.id}/revert`)), kind);
        expect(await notes.findById(note.id)).toEqual(expect.objectContaining({ title: 'second', version: 2 }));
        await notes.delete(note.id);
        expectUnsupported(await sendAs(kind, {})(call('post', `/typed-notes/${note.id}/restore`)), kind);
        expect(await notes.findById(note.id)).toBeNull();
      });

      it('is refused with 415 on POST /P/:id/grants, granting nothing', async () => {
        const note = await notes.create({ title: 'seed' });
        const grant = sendAs(kind, { subject: 'eve', rights: ['read', 'update'] });
        expectUnsupported(await grant(call('post', `/typed-notes/${note.id}/grants`)), kind);
        expect(acl.grantsOn('typed-notes', note.id)).toEqual([]);
      });
    });

    it('accepts application/json with a charset on every body route', async () => {
      const json = (request: Request) => request.set('Content-Type', 'application/json; charset=utf-8');
      const created = await json(call('post', '/typed-notes')).send(JSON.stringify({ title: 'json' }));
      expect(created.status).toBe(201);
      expect((await json(call('post', '/typed-notes/batch')).send(JSON.stringify([{ title: 'json' }]))).status).toBe(201);
      expect((await json(call('put', `/typed-notes/${created.body.id}`)).send(JSON.stringify({ title: 'put' }))).status).toBe(200);
      expect((await json(call('patch', `/typed-notes/${created.body.id}`)).send(JSON.stringify({ title: 'patch' }))).status).toBe(200);
      const granted = await json(call('post', `/typed-notes/${created.body.id}/grants`)).send(JSON.stringify({ subject: 'eve', rights: ['read'] }));
      expect(granted.status).toBe(201);
    });

    if (parsers === 'added') {
      it('accepts an application/*+json body that the app parses', async () => {
        const response = await call('post', '/typed-notes')
          .set('Content-Type', 'application/merge-patch+json')
          .send(JSON.stringify({ title: 'plus json' }));
        expect(response.status).toBe(201);
        expect(response.body).toEqual(expect.objectContaining({ title: 'plus json' }));
      });
    } else {
      it('refuses an application/*+json body that the app does not parse with 415, as it does on every platform', async () => {
        const response = await call('post', '/typed-notes')
          .set('Content-Type', 'application/merge-patch+json')
          .send(JSON.stringify({ title: 'plus json' }));
        expect(response.status).toBe(415);
        if (platform === 'express') {
          expect(response.body.message).toBe(
            'Content-Type application/merge-patch+json is not one this app parses: send the body as JSON (Content-Type: application/json)',
          );
        }
      });
    }

    it('refuses other JSON-looking types such as text/json and application/jsonp with 415', async () => {
      for (const type of ['text/json', 'application/jsonp', 'application/json-seq']) {
        const response = await call('post', '/typed-notes')
          .set('Content-Type', type)
          .send(JSON.stringify({ title: 'json-ish' }));
        expect(response.status).toBe(415);
      }
    });

    it('still answers 401 before 415 to an anonymous grant', async () => {
      const note = await notes.create({ title: 'seed' });
      expectNestError(await http(t).post(`/typed-notes/${note.id}/grants`).type('form').send('subject=eve&rights=read&rights=update'), 401);
    });
  },
);

describe('the OpenAPI document', () => {
  it('documents 415 on the routes that take a body, and only on those', async () => {
    const t = await createParsersApp('express', 'default');
    try {
      const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
      const documented: string[] = [];
      for (const [path, operations] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(operations as Record<string, { responses?: Record<string, unknown> }>)) {
          if (operation.responses?.['415']) documented.push(`${method.toUpperCase()} ${path}`);
        }
      }
      expect(documented.sort()).toEqual(
        [
          'POST /typed-notes',
          'POST /typed-notes/batch',
          'PUT /typed-notes/{id}',
          'PATCH /typed-notes/{id}',
          'POST /typed-notes/{id}/grants',
          'POST /typed-notes/{id}/revert',
          'POST /typed-notes/{id}/restore',
        ].sort(),
      );
    } finally {
      await t.close();
    }
  });
});
