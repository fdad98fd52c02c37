import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Entity, Field } from '../../../lib/index.js';
import { openStore } from './write-pipeline/store-harness.util.js';

@Entity('reopen-notes')
class ReopenNote {
  @Field() title!: string;
}

/** `open()` is documented idempotent and `close()` resets `opening`: the same EntityStorage may be opened again. */
describe('EntityStorage opened again after close', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'review-reopen-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes again', async () => {
    const store = await openStore(dir, [ReopenNote]);
    await store.repo(ReopenNote).create({ title: 'first' });
    await store.close();
    await store.storage.open();
    try {
      await expect(store.repo(ReopenNote).create({ title: 'second' })).resolves.toMatchObject({ title: 'second' });
    } finally {
      await store.close();
    }
  });
});
