import 'reflect-metadata';
import { Entity, Field, getRepositoryToken, type EntityRepository } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('code-notes')
class CodeNote {
  @Field() title!: string;
}

/** An app's own error carrying a numeric `code` (a common pattern: { code: 402 }, gRPC status codes, MongoServerError 11000). */
class AppError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

describe('a user error with a numeric code thrown in a transaction callback', () => {
  let t: TestApp;
  let notes: EntityRepository<CodeNote>;
  beforeEach(async () => {
    t = await createTestApp({ entities: [CodeNote] });
    notes = t.app.get<EntityRepository<CodeNote>>(getRepositoryToken(CodeNote));
    await notes.create({ title: 'warm-up' });
  });
  afterEach(async () => t.close());

  it('passes through unchanged and leaves the store writing', async () => {
    const refused = new AppError('insufficient funds', 402);
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 5 }, (_, i) => notes.create({ title: `before ${i}` })),
      notes.transaction(() => {
        throw refused;
      }),
      ...Array.from({ length: 5 }, (_, i) => notes.create({ title: `after ${i}` })),
    ]);
    expect((outcomes[5] as PromiseRejectedResult).reason).toBe(refused);
    expect(outcomes.filter((o, i) => i !== 5 && o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    expect(t.app.get(EntityStorage).environment.stoppedBy).toBeUndefined();
    await expect(notes.create({ title: 'later' })).resolves.toBeDefined();
  });
});

describe('an app error with a numeric code reaching the HTTP error mapping', () => {
  it('is not answered as an unreadable store (503)', async () => {
    const t = await createTestApp({
      entities: [CodeNote],
      module: {
        getPrincipal: () => {
          // e.g. a gRPC auth service's UNAUTHENTICATED (code 16), or an app's { code: 401 }
          throw new AppError('token service unavailable', 16);
        },
      },
    });
    try {
      const { default: request } = await import('supertest');
      const response = await request(t.server()).get('/code-notes');
      expect(response.body.message).not.toBe('the store cannot be read right now');
      expect(response.status).not.toBe(503);
    } finally {
      await t.close();
    }
  });
});
