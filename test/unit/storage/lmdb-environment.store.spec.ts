import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

describe('LmdbEnvironment.write', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let environment: LmdbEnvironment;

  beforeEach(() => {
    dir = makeTempDir();
    environment = new LmdbEnvironment(dir.path);
    environment.open(4);
  });

  afterEach(async () => {
    await environment.close();
    dir.remove();
  });

  it('resolves with what the transaction returned, once it is durable', async () => {
    const db = environment.database<{ n: number }, string>('things');
    await expect(environment.write(() => (db.putSync('a', { n: 1 }), 'done'))).resolves.toBe('done');
    expect(db.get('a')).toEqual({ n: 1 });
  });

  // Writes once raced against a promise that only settles when the store stops; each race left
  // its reaction, holding the write's result, on that promise for the life of the process.
  it('keeps nothing of a finished write: its result can be collected', async () => {
    const results = await weaklyHeldResults(environment, 50);
    // Weak references are kept alive until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(results.flatMap((ref, i) => (ref.deref() ? [i] : []))).toEqual([]);
  });
});

/** Makes `count` writes and keeps their results only weakly; in its own frame, so no register of the test holds one. */
async function weaklyHeldResults(environment: LmdbEnvironment, count: number): Promise<WeakRef<object>[]> {
  const db = environment.database<{ n: number }, string>('things');
  const results: WeakRef<object>[] = [];
  for (let i = 0; i < count; i++) {
    const result = await environment.write(() => {
      db.putSync(`k${i}`, { n: i });
      return { payload: 'x'.repeat(1000), i };
    });
    results.push(new WeakRef(result));
  }
  return results;
}
