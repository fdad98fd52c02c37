import 'reflect-metadata';
import request from 'supertest';
import { Transform } from 'class-transformer';
import { IsIn, ValidateIf } from 'class-validator';
import { Entity, EntityMetadataException, Field } from '../../lib/index.js';
import { createTestApp } from '../support/test-app.util.js';

/** Validation runs on the class-transformer copy (ValidationPipe): the sent 'DRAFT' is checked as 'draft', and stored as sent. */
@Entity('transform-tickets')
class TransformTicket {
  @Field() title!: string;
  @Field({ default: 'DRAFT' })
  @Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : value))
  @IsIn(['draft', 'open'])
  status!: string;
}

/** A rule that applies only beside another field's value: the default is fine for every create that can omit it. */
@Entity('conditional-tickets')
class ConditionalTicket {
  @Field() @IsIn(['internal', 'external']) kind!: string;
  @Field({ default: 'n/a' })
  @ValidateIf((o: { kind?: string }) => o.kind !== 'internal')
  @IsIn(['email', 'phone'])
  contact!: string;
}

describe('a default the body rules accept when sent', () => {
  it('starts, and the same value sent is accepted (class-transformer rules)', async () => {
    const t = await createTestApp({ entities: [TransformTicket] });
    try {
      expect((await request(t.server()).post('/transform-tickets').send({ title: 'a', status: 'DRAFT' })).status).toBe(201);
      expect((await request(t.server()).post('/transform-tickets').send({ title: 'b' })).body.status).toBe('DRAFT');
    } finally {
      await t.close();
    }
  });

  it('starts when the rule is conditional on another field (@ValidateIf)', async () => {
    const t = await createTestApp({ entities: [ConditionalTicket] });
    try {
      expect((await request(t.server()).post('/conditional-tickets').send({ kind: 'internal', contact: 'n/a' })).status).toBe(201);
    } finally {
      await t.close();
    }
  });
});

@Entity('other-transform-tickets')
class OtherTransformTicket {
  @Field() @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value)) title!: string;
  @Field({ default: 'closed' }) @IsIn(['draft', 'open']) status!: string;
}

describe("a default breaking its own field's rule, beside a class-transformer rule on another field", () => {
  it('fails start-up naming the field', async () => {
    const failure = await createTestApp({ entities: [OtherTransformTicket] }).then(
      async (t) => {
        await t.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(EntityMetadataException);
    expect((failure as Error).message).toMatch(/^OtherTransformTicket\.status: default "closed"/);
  });
});
