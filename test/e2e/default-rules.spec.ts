import 'reflect-metadata';
import request from 'supertest';
import { IsIn, Length } from 'class-validator';
import { Entity, EntityMetadataException, Field } from '../../lib/index.js';
import { createTestApp } from '../support/test-app.util.js';

@Entity('default-tickets')
class Ticket {
  @Field() title!: string;
  @Field({ default: 'zzz' }) @IsIn(['open', 'closed']) status!: string;
}

@Entity('default-codes')
class Code {
  @Field() title!: string;
  @Field({ default: 'x' }) @Length(3, 10) code!: string;
}

@Entity('default-orders')
class Order {
  @Field() title!: string;
  @Field({ default: 'open' }) @IsIn(['open', 'closed']) status!: string;
}

/**
 * A `@Field` default is given to creates that leave the field out, after the body's rules ran:
 * one that breaks the property's own class-validator rules would be stored where the same
 * value sent gets 400, and the OpenAPI document would show a default its schema refuses.
 */
describe("a @Field default and the property's own class-validator rules", () => {
  it.each([
    [Ticket, 'Ticket.status: default "zzz" breaks the field\'s own rules: status must be one of the following values: open, closed'],
    [Code, 'Code.code: default "x" breaks the field\'s own rules: code must be longer than or equal to 3 characters'],
  ])('fails start-up naming the field when the default breaks them (%p)', async (entity, message) => {
    const failure = await createTestApp({ entities: [entity] }).then(
      async (t) => {
        await t.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(EntityMetadataException);
    expect((failure as Error).message).toBe(message);
  });

  it('starts and stores a default that keeps them', async () => {
    const t = await createTestApp({ entities: [Order] });
    try {
      const created = await request(t.server()).post('/default-orders').send({ title: 't' }).expect(201);
      expect(created.body.status).toBe('open');
    } finally {
      await t.close();
    }
  });
});
