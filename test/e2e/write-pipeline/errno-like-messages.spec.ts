import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Entity, Field, getRepositoryToken, InvalidRecordException, RecordNotFoundException, type EntityRepository } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';
import { http } from '../support/e2e.util.js';

@Entity('errno-notes')
class ErrnoNote {
  @Field() title!: string;
}

/**
 * An error thrown inside a write (the package's own, or a transaction callback's) is a storage
 * failure only when lmdb raised it. The package's errors quote ids, keys and field names, which
 * anyone may choose to read like an errno (`EIO`, `ENOSPC`) or an LMDB error (`MDB_PANIC`):
 * taken for disk failures, they answered 503 or 507 and, among concurrent writes, stopped the store.
 */
describe('errors whose messages read like disk failures', () => {
  let t: TestApp;
  let notes: EntityRepository<ErrnoNote>;
  beforeEach(async () => {
    t = await createTestApp({ entities: [ErrnoNote] });
    notes = t.app.get<EntityRepository<ErrnoNote>>(getRepositoryToken(ErrnoNote));
    await notes.create({ title: 'warm-up' });
  });
  afterEach(async () => t.close());

  it('keeps their own class', async () => {
    await expect(notes.update('EIO', { title: 'x' })).rejects.toBeInstanceOf(RecordNotFoundException);
    await expect(notes.delete('MDB_NOTFOUND')).rejects.toBeInstanceOf(RecordNotFoundException);
    await expect(notes.create({ title: 'x', ENOSPC: 1 } as never)).rejects.toBeInstanceOf(InvalidRecordException);
    const soldOut = new Error('No space left on this flight');
    await expect(
      notes.transaction(() => {
        throw soldOut;
      }),
    ).rejects.toBe(soldOut);
  });

  it('answers their own status over HTTP', async () => {
    expect((await http(t).delete('/errno-notes/EIO')).status).toBe(404);
    expect((await http(t).patch('/errno-notes/ENOSPC').send({ title: 'x' })).status).toBe(404);
    expect((await http(t).post('/errno-notes').send({ title: 'x', MDB_PANIC: 1 })).status).toBe(400);
  });

  it('fails neither the writes committed beside them nor the store', async () => {
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 20 }, (_, i) => notes.create({ title: `before ${i}` })),
      notes.delete('MDB_PANIC'),
      ...Array.from({ length: 20 }, (_, i) => notes.create({ title: `after ${i}` })),
    ]);
    expect(outcomes.filter((outcome, i) => i !== 20 && outcome.status === 'rejected')).toEqual([]);
    expect((outcomes[20] as PromiseRejectedResult).reason).toBeInstanceOf(RecordNotFoundException);
    expect(t.app.get(EntityStorage).environment.stoppedBy).toBeUndefined();
  });

  it('leave the store writing when a DELETE of /errno-notes/EIO runs among many POSTs', async () => {
    const server = t.server() as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/errno-notes`;
    const post = (title: string) => fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title }) });
    const statuses = await Promise.all(
      Array.from({ length: 150 }, (_, i) => (i % 3 === 1 ? fetch(`${base}/EIO`, { method: 'DELETE' }) : post(`p${i}`)).then((response) => response.status)),
    );
    expect(new Set(statuses)).toEqual(new Set([201, 404]));
    expect(t.app.get(EntityStorage).environment.stoppedBy).toBeUndefined();
    expect((await post('later')).status).toBe(201);
  });
});
