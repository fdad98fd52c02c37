import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { IsIn, IsInt, Matches } from 'class-validator';
import { Entity, Field, Historize, Permission } from '../../../lib/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('schema-tickets')
@Permission({ read: null, create: null, update: null, delete: null, admin: 'tickets:admin' })
class Ticket {
  @Field() @Historize('full') title!: string;
  @Field({ default: 'open' }) status!: string;
  @Field({ required: false }) note?: string;
  @Field({ required: false }) @IsIn(['low', 'high']) priority?: string;
  @Field() @Permission({ read: 'tickets:cost' }) cost!: number;
  @Field({ required: false }) @IsInt() seats?: number;
  @Field({ required: false }) @Matches(/^[A-Z]{2}-\d+$/) code?: string;
  @Field({ required: false }) @Matches(/^[a-z]+$/i) tag?: string;
}

type Schema = { properties: Record<string, Record<string, unknown>>; required?: string[] };
type Operation = { parameters?: Array<{ name: string; schema?: { type?: string } }>; responses: Record<string, { headers?: Record<string, unknown> }> };

/** What the OpenAPI document says of the answers and bodies, checked against what the routes do (see their own specs). */
describe('the OpenAPI document of an entity', () => {
  let t: TestApp;
  let document: OpenAPIObject;
  const schema = (name: string) => document.components!.schemas![name] as Schema;
  const operation = (path: string, method: string) => (document.paths[path] as Record<string, Operation>)[method]!;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Ticket] });
    document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
  });
  afterAll(async () => {
    await t?.close();
  });

  it('gives PATCH no defaults, which it never applies, and marks null where a body may send it', () => {
    const create = schema('CreateTicketDto').properties;
    const update = schema('UpdateTicketDto').properties;
    expect(create['status']).toEqual(expect.objectContaining({ default: 'open', nullable: true }));
    expect(create['note']).toEqual(expect.objectContaining({ nullable: true }));
    expect(create['title']).not.toHaveProperty('nullable');
    expect(update['status']).not.toHaveProperty('default');
    // A PATCH clears an optional field with null; a defaulted one cannot be cleared.
    expect(update['note']).toEqual(expect.objectContaining({ nullable: true }));
    expect(update['status']).not.toHaveProperty('nullable');
    expect(update['title']).not.toHaveProperty('nullable');
    // A strict validator checks the enum before nullable.
    expect(update['priority']).toEqual(expect.objectContaining({ nullable: true, enum: ['low', 'high', null] }));
  });

  it('requires in a record only the fields every caller gets: not one with a read rule', () => {
    expect(schema('TicketRecord').required).toEqual(expect.arrayContaining(['id', 'version', 'title', 'status']));
    expect(schema('TicketRecord').required).not.toContain('cost');
    expect(schema('CreateTicketDto').required).toContain('cost');
  });

  it('types @IsInt fields and record versions as integers, and gives @Matches patterns without flags', () => {
    expect(schema('CreateTicketDto').properties['seats']).toEqual(expect.objectContaining({ type: 'integer' }));
    expect(schema('CreateTicketDto').properties['cost']).toEqual(expect.objectContaining({ type: 'number' }));
    expect(schema('TicketRecord').properties['version']).toEqual(expect.objectContaining({ type: 'integer' }));
    expect(schema('CreateTicketDto').properties['code']).toEqual(expect.objectContaining({ pattern: '^[A-Z]{2}-\\d+$' }));
    expect(schema('CreateTicketDto').properties['tag']).not.toHaveProperty('pattern');
  });

  it('names the store failures and the request id on every route', () => {
    for (const [path, method] of [
      ['/schema-tickets', 'get'],
      ['/schema-tickets/{id}', 'patch'],
      ['/schema-tickets/{id}/grants', 'post'],
    ] as const) {
      const described = operation(path, method);
      expect({ path, method, statuses: Object.keys(described.responses).filter((status) => status >= '500') }).toEqual({
        path,
        method,
        statuses: ['503', '507'],
      });
      expect(described.parameters?.map((parameter) => parameter.name)).toContain('X-Request-Id');
    }
  });

  it('names the ETag header of every answer holding the record as it now is', () => {
    for (const [path, method, status] of [
      ['/schema-tickets', 'post', '201'],
      ['/schema-tickets/{id}', 'put', '200'],
      ['/schema-tickets/{id}', 'patch', '200'],
      ['/schema-tickets/{id}/revert', 'post', '200'],
      ['/schema-tickets/{id}', 'get', '200'],
    ] as const) {
      expect({ path, method, headers: Object.keys(operation(path, method).responses[status]!.headers ?? {}) }).toEqual({ path, method, headers: ['ETag'] });
    }
  });

  it('types whole-number parameters as integers', () => {
    const typeOf = (path: string, name: string) => operation(path, 'get').parameters!.find((parameter) => parameter.name === name)!.schema!.type;
    expect(typeOf('/schema-tickets', 'limit')).toBe('integer');
    expect(typeOf('/schema-tickets/{id}/history', 'limit')).toBe('integer');
    expect(typeOf('/schema-tickets/{id}/history', 'before')).toBe('integer');
  });

  it('describes history values as scalars, and each field of a history answer as optional', () => {
    const value = schema('FieldHistoryEntry').properties['value']!;
    expect(value).not.toHaveProperty('type');
    expect(value['oneOf']).toEqual([{ type: 'string', nullable: true }, { type: 'number' }, { type: 'boolean' }]);
    expect(schema('TicketHistoryFields').required ?? []).toEqual([]);
  });

  it("states the grant body's rules", () => {
    const grant = schema('RecordGrant').properties;
    expect(grant['rights']).toEqual(expect.objectContaining({ minItems: 1, uniqueItems: true }));
    expect(grant['subject']).toEqual(expect.objectContaining({ minLength: 1, maxLength: 206, pattern: '^\\S+$' }));
  });
});
