import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Entity, Field } from '../../../lib/index.js';
import { openStore } from './write-pipeline/store-harness.util.js';

@Entity('double-close-notes')
class DoubleCloseNote {
  @Field() title!: string;
}

/**
 * Two shutdowns at once (app.close() from the app's own SIGTERM handler while enableShutdownHooks
 * runs onApplicationShutdown too): each close() must settle once the writes begun before it did.
 */
describe('EntityStorage.close() called twice while writes are in flight', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'review-double-close-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('settles both closes', async () => {
    const store = await openStore(dir, [DoubleCloseNote]);
    const writes = Array.from({ length: 50 }, (_, i) =>
      store
        .repo(DoubleCloseNote)
        .create({ title: `n${i}` })
        .catch(() => undefined),
    );
    const first = store.close().then(() => 'closed');
    const second = store.close().then(() => 'closed');
    const timeout = new Promise((resolve) => setTimeout(() => resolve('hung'), 5_000).unref());
    await Promise.all(writes);
    expect(await Promise.race([first, timeout])).toBe('closed');
    expect(await Promise.race([second, timeout])).toBe('closed');
  }, 20_000);
});
