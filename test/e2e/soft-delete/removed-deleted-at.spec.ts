import request from 'supertest';
import { Entity, Field } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp } from '../../support/test-app.util.js';

/*
 * README, Changing an entity: "A field removed: its values stay in the records stored before
 * but are never returned". OpenAPI for softDelete entities: deletedAt is "only on deleted records".
 * A class that had its own `deletedAt` field (a hand-rolled soft delete, the usual pattern before
 * switching to `softDelete: true`) leaves that value in live records, and every read returns it.
 */
@Entity('deleted-at')
class HandRolled {
  @Field() name!: string;
  @Field({ required: false }) deletedAt?: Date;
}

@Entity('deleted-at')
class FieldRemoved {
  @Field() name!: string;
}

describe('a removed field named deletedAt', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let id: string;

  beforeEach(async () => {
    dir = makeTempDir();
    const first = await createTestApp({ entities: [HandRolled], path: dir.path });
    try {
      id = (await request(first.server()).post('/deleted-at').send({ name: 'a', deletedAt: '2020-01-01T00:00:00.000Z' }).expect(201)).body.id;
    } finally {
      await first.close();
    }
  });
  afterEach(() => dir.remove());

  it('is not returned once the class no longer declares it', async () => {
    const t = await createTestApp({ entities: [FieldRemoved], path: dir.path });
    try {
      const read = await request(t.server()).get(`/deleted-at/${id}`).expect(200);
      expect(read.body).not.toHaveProperty('deletedAt');
      const list = await request(t.server()).get('/deleted-at').expect(200);
      expect(list.body.items[0]).not.toHaveProperty('deletedAt');
    } finally {
      await t.close();
    }
  });
});
