import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Entity, Field } from '../../../lib/index.js';
import { openStore } from './write-pipeline/store-harness.util.js';

@Entity('reopen-sub-notes')
class ReopenSubNote {
  @Field() title!: string;
}

describe('EntityStorage opened again after close: subscriptions', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'reopen-sub-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a subscription made after the reopen sees the next write', async () => {
    const store = await openStore(dir, [ReopenSubNote]);
    await store.close();
    await store.storage.open();
    try {
      expect(store.storage.subscriptions.ended).toBe(false);
      const changes = store.repo(ReopenSubNote).subscribe();
      const next = changes.next();
      await store.repo(ReopenSubNote).create({ title: 'after reopen' });
      const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 2_000).unref());
      const first = (await Promise.race([next, timeout])) as IteratorResult<unknown> | 'timeout';
      expect(first).not.toBe('timeout');
      expect((first as IteratorResult<unknown>).done).toBe(false);
      await changes.return?.(undefined);
    } finally {
      await store.close();
    }
  });
});
