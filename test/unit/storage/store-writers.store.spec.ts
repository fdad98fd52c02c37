import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Database } from 'lmdb';
import type { IndexKey } from '../../../lib/storage/index-key.util.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { META_DB } from '../../../lib/storage/store-layout.util.js';
import { StoreWriters, type StoreWriter } from '../../../lib/storage/store-writers.store.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

const MINUTE = 60_000;

describe('StoreWriters', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let environment: LmdbEnvironment;
  let meta: Database<unknown, IndexKey>;

  beforeEach(() => {
    dir = makeTempDir('nde-writers-');
    environment = new LmdbEnvironment(dir.path);
    environment.open(8);
    meta = environment.database<unknown, IndexKey>(META_DB);
  });
  afterEach(async () => {
    await environment.close();
    dir.remove();
  });

  /** An entry as a process on another host (a container with a hostname of its own) lists itself. */
  function elsewhere(token: string, renewedAgo: number | undefined): StoreWriter {
    const since = new Date(Date.now() - 60 * MINUTE).toISOString();
    return {
      host: 'another-container.invalid',
      pid: 1,
      path: realpathSync(environment.path),
      role: 'app',
      since,
      token,
      format: 6,
      ...(renewedAgo !== undefined && { renewed: new Date(Date.now() - renewedAgo).toISOString() }),
    };
  }

  function list(...writers: StoreWriter[]): Promise<void> {
    return environment.write(() => {
      for (const writer of writers) meta.putSync(['writers', writer.host, writer.pid, writer.token], writer);
    });
  }

  it('counts a writer on another host as running while it renews its entry, and as gone once unrenewed for five minutes', async () => {
    const renewing = elsewhere('renewing', 20_000);
    const killed = elsewhere('killed', 6 * MINUTE);
    const olderVersion = elsewhere('older', undefined);
    await list(renewing, killed, olderVersion);
    const writers = new StoreWriters(environment, META_DB);
    expect(
      writers
        .others()
        .map((writer) => writer.token)
        .sort(),
    ).toEqual(['older', 'renewing']);
  });

  it('counts a renewing writer on another host whatever path it mounts the store at; an unrenewed entry of an earlier version only at this path', async () => {
    const mountedElsewhere = { ...elsewhere('mounted-elsewhere', 20_000), path: '/srv/app/data' };
    const olderElsewhere = { ...elsewhere('older-elsewhere', undefined), path: '/srv/app/data' };
    await list(mountedElsewhere, olderElsewhere, elsewhere('older-here', undefined));
    const writers = new StoreWriters(environment, META_DB);
    await writers.enroll('cli compact');
    expect(
      writers
        .others()
        .map((writer) => writer.token)
        .sort(),
    ).toEqual(['mounted-elsewhere', 'older-here']);
    await writers.withdraw();
  });

  it('drops the entry of a writer gone from another host as it enrolls, and withdraws its own on close', async () => {
    await list(elsewhere('renewing', 20_000), elsewhere('killed', 6 * MINUTE));
    const writers = new StoreWriters(environment, META_DB);
    await writers.enroll('cli import');
    expect(
      writers
        .list()
        .map((writer) => writer.token)
        .sort(),
    ).toEqual(['renewing', expect.any(String)].sort());
    const own = writers.list().find((writer) => writer.host === hostname() && writer.pid === process.pid)!;
    expect(own).toMatchObject({ role: 'cli import', renewed: own.since });
    await writers.withdraw();
    expect(writers.list().map((writer) => writer.token)).toEqual(['renewing']);
  });

  it('renews its own entry while it has the store open, and stops renewing once withdrawn', async () => {
    const writers = new StoreWriters(environment, META_DB, 20);
    await writers.enroll('app');
    const [enrolled] = writers.list();
    await new Promise((resolve) => setTimeout(resolve, 150));
    environment.renewSnapshot();
    const [renewed] = writers.list();
    expect(renewed!.token).toBe(enrolled!.token);
    expect(Date.parse(renewed!.renewed!)).toBeGreaterThan(Date.parse(enrolled!.renewed!));
    await writers.withdraw();
    await new Promise((resolve) => setTimeout(resolve, 100));
    environment.renewSnapshot();
    expect(writers.list()).toEqual([]);
  });
});
