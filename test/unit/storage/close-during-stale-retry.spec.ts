import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Entity, Field } from '../../../lib/index.js';
import { openStore } from './write-pipeline/store-harness.util.js';

@Entity('stale-retry-notes')
class StaleRetryNote {
  @Field() title!: string;
}

/** A write that started behind the last commit waits for the shared id to be set right, then tries again. */
describe('close() while a write waits to retry a stale start', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'stale-retry-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the write begun before close still finishes', async () => {
    const store = await openStore(dir, [StaleRetryNote]);
    const env = store.environment as unknown as {
      checkStart: (...args: unknown[]) => { behind: boolean; repaired: boolean };
      lastTxn: { reset: () => Promise<void> };
    };
    const realCheck = env.checkStart.bind(env);
    let first = true;
    env.checkStart = (...args) => {
      if (first) {
        first = false;
        return { behind: true, repaired: false };
      }
      return realCheck(...args);
    };
    env.lastTxn.reset = () => new Promise((resolve) => setTimeout(resolve, 300));
    const write = store.repo(StaleRetryNote).create({ title: 'begun before close' });
    const closed = store.close();
    await expect(write).resolves.toMatchObject({ title: 'begun before close' });
    await closed;
  });
});
