import { Entity, Field, IdempotencyConflictException, Index } from '../../../../lib/index.js';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { openStore, sleep, type OpenStore } from './store-harness.util.js';

@Entity('idem-permits')
class Permit {
  @Field() @Index({ unique: true }) number!: string;
  @Field({ required: false }) note?: string;
}

@Entity('idem-notes')
class Note {
  @Field() text!: string;
}

describe('idempotent repository writes', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore | undefined;

  beforeEach(() => {
    dir = makeTempDir();
  });

  afterEach(async () => {
    await store?.close();
    store = undefined;
    dir.remove();
  });

  async function open(idempotencyTtl?: number): Promise<OpenStore> {
    store = await openStore(dir.path, [Permit, Note], idempotencyTtl === undefined ? {} : { idempotencyTtl });
    return store;
  }

  async function count(s: OpenStore): Promise<number> {
    return (await s.repo(Permit).find({ limit: 1000 })).items.length;
  }

  it('returns the first result for the same key and data, and creates nothing new', async () => {
    const s = await open();
    const first = await s.repo(Permit).create({ number: 'P-1' }, { idempotencyKey: 'k1', actor: 'alice' });
    const again = await s.repo(Permit).create({ number: 'P-1' }, { idempotencyKey: 'k1', actor: 'alice' });

    expect(again).toEqual(first);
    expect(await count(s)).toBe(1);
    expect(s.storage.events(0, 100)).toHaveLength(1);
    expect(s.storage.events(0, 100)[0]).toEqual(expect.objectContaining({ type: 'created', id: first.id, idempotencyKey: 'k1' }));
  });

  it('treats the same data with its keys in another order as the same request', async () => {
    const s = await open();
    const first = await s.repo(Permit).create({ number: 'P-1', note: 'n' }, { idempotencyKey: 'k1' });
    const again = await s.repo(Permit).create({ note: 'n', number: 'P-1' }, { idempotencyKey: 'k1' });
    expect(again.id).toBe(first.id);
    expect(await count(s)).toBe(1);
  });

  it('rejects the same key with other data with IdempotencyConflictException and changes nothing', async () => {
    const s = await open();
    await s.repo(Permit).create({ number: 'P-1' }, { idempotencyKey: 'k1' });
    await expect(s.repo(Permit).create({ number: 'P-2' }, { idempotencyKey: 'k1' })).rejects.toBeInstanceOf(IdempotencyConflictException);
    expect(await count(s)).toBe(1);
    expect(s.storage.events(0, 100)).toHaveLength(1);
  });

  it('keeps keys of different actors and different entities apart', async () => {
    const s = await open();
    const alice = await s.repo(Permit).create({ number: 'P-1' }, { idempotencyKey: 'k', actor: 'alice' });
    const bob = await s.repo(Permit).create({ number: 'P-2' }, { idempotencyKey: 'k', actor: 'bob' });
    const anonymous = await s.repo(Permit).create({ number: 'P-3' }, { idempotencyKey: 'k' });
    const note = await s.repo(Note).create({ text: 'x' }, { idempotencyKey: 'k', actor: 'alice' });

    expect(new Set([alice.id, bob.id, anonymous.id, note.id]).size).toBe(4);
    expect(await s.repo(Permit).create({ number: 'P-2' }, { idempotencyKey: 'k', actor: 'bob' })).toEqual(bob);
    expect(await count(s)).toBe(3);
  });

  it('treats an expired key as new', async () => {
    const s = await open(50);
    const first = await s.repo(Permit).create({ number: 'P-1' }, { idempotencyKey: 'k1' });
    await sleep(100);
    const second = await s.repo(Permit).create({ number: 'P-2' }, { idempotencyKey: 'k1' });
    expect(second.id).not.toBe(first.id);
    expect(await count(s)).toBe(2);
    // The key is remembered again, now for the second result.
    expect((await s.repo(Permit).create({ number: 'P-2' }, { idempotencyKey: 'k1' })).id).toBe(second.id);
  });

  it('purges expired keys in runMaintenance and keeps the live ones', async () => {
    const s = await open(50);
    await s.repo(Permit).create({ number: 'P-1' }, { idempotencyKey: 'old-1' });
    await s.repo(Note).create({ text: 'x' }, { idempotencyKey: 'old-2', actor: 'bob' });
    await sleep(100);
    const results = s.environment.database('_idempotency');
    expect(results.getKeysCount()).toBe(2);

    expect(await s.storage.runMaintenance()).toEqual({ idempotencyKeys: 2, events: 0 });
    expect(results.getKeysCount()).toBe(0);
    expect(s.environment.database('_idempotency.expiry').getKeysCount()).toBe(0);
    expect(await s.storage.runMaintenance()).toEqual({ idempotencyKeys: 0, events: 0 });
    expect(await count(s)).toBe(1);
  });

  it('keeps a key that has not expired through runMaintenance', async () => {
    const s = await open();
    const first = await s.repo(Permit).create({ number: 'P-1' }, { idempotencyKey: 'k1' });
    expect(await s.storage.runMaintenance()).toEqual({ idempotencyKeys: 0, events: 0 });
    expect((await s.repo(Permit).create({ number: 'P-1' }, { idempotencyKey: 'k1' })).id).toBe(first.id);
  });

  it('remembers nothing for a create that failed, so a corrected retry with the same key succeeds', async () => {
    const s = await open();
    await s.repo(Permit).create({ number: 'taken' });
    await expect(s.repo(Permit).create({ number: 'taken' }, { idempotencyKey: 'k1' })).rejects.toThrow();
    expect(s.environment.database('_idempotency').getKeysCount()).toBe(0);
    await expect(s.repo(Permit).create({ number: 'free' }, { idempotencyKey: 'k1' })).resolves.toEqual(expect.objectContaining({ number: 'free' }));
  });

  it('covers a whole createMany with one key', async () => {
    const s = await open();
    const items = [{ number: 'B-1' }, { number: 'B-2' }];
    const first = await s.repo(Permit).createMany(items, { idempotencyKey: 'batch-1' });
    const again = await s.repo(Permit).createMany(items, { idempotencyKey: 'batch-1' });
    expect(again.map((record) => record.id)).toEqual(first.map((record) => record.id));
    await expect(s.repo(Permit).createMany([{ number: 'B-3' }], { idempotencyKey: 'batch-1' })).rejects.toBeInstanceOf(IdempotencyConflictException);
    expect(await count(s)).toBe(2);
    expect(s.storage.events(0, 100)).toHaveLength(2);
  });

  it('makes a create inside a transaction idempotent too', async () => {
    const s = await open();
    const run = () => s.repo(Permit).transaction((tx) => tx.create(Permit, { number: 'T-1' }, { idempotencyKey: 'tx-key' }));
    const first = await run();
    const again = await run();
    expect(again.id).toBe(first.id);
    expect(await count(s)).toBe(1);
    expect(s.storage.verify().problems).toEqual([]);
  });
});
