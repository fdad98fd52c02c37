import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import type { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { readCatalogAt } from '../../../lib/storage/store-catalog.util.js';
import { createStoreParts } from '../../../lib/wiring/store-parts.factory.js';
import { setLastTxnBack } from '../../support/lmdb-shared-txn-id.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('catch-up-permits')
class Permit {
  @Field() number!: string;
}

@Entity('catch-up-licenses')
class License {
  @Field() number!: string;
}

/**
 * A process that opens the store while another commits can set LMDB's shared record of the
 * last commit back (ITS#9496); every read snapshot then starts before that commit until
 * something sets it right. These opens must set it right before their first read, or they
 * read the store as it was: an entity missing from the catalog, a record not there.
 * `holder` keeps the store open in this process, as the app that committed would, so the
 * lock file (and the id set back in it) outlives the opens under test.
 */
describe('opening a store whose last commit LMDB set back', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let holder: EntityStorage;
  const permits = createEntityDefinition(Permit);
  const warn = jest.spyOn(Logger.prototype, 'warn');

  beforeEach(async () => {
    warn.mockImplementation(() => undefined);
    dir = makeTempDir();
    holder = createStoreParts(new LmdbEnvironment(dir.path)).storage;
    holder.register(permits);
    await holder.open();
  });

  afterEach(async () => {
    try {
      await holder.close();
    } finally {
      dir.remove();
      warn.mockReset();
    }
  });

  afterAll(() => warn.mockRestore());

  it('reads the catalog of the newest commit (the command line reads it first)', async () => {
    await holder.write(() => holder.environment.database('_meta').putSync(['catalog', 'entity', 'catch-up-licenses'], { name: 'catch-up-licenses' }));
    setLastTxnBack(dir.path);
    const catalog = await readCatalogAt(dir.path);
    expect(catalog?.entities.map((entity) => entity.name).sort()).toEqual(['catch-up-licenses', 'catch-up-permits']);
  });

  it('reads the newest commit once a read-only tool has attached', async () => {
    const created = await holder.write((tx) => tx.create(permits, { number: 'BP-1' }));
    setLastTxnBack(dir.path);
    const tool = createStoreParts(new LmdbEnvironment(dir.path, {}, true)).storage;
    tool.register(createEntityDefinition(Permit));
    try {
      await tool.attach();
      expect(tool.tablesOf(tool.definitionOf(Permit)).records.get(created.id)).toEqual(expect.objectContaining({ number: 'BP-1' }));
    } finally {
      await tool.close();
    }
  });

  // lmdb creates a database in a write transaction of its own: started behind, it replaced the
  // newest commit, and the record written there was gone for every process.
  it('keeps the newest commit when a second app in the process creates the databases of a new entity', async () => {
    const created = await holder.write((tx) => tx.create(permits, { number: 'BP-2' }));
    setLastTxnBack(dir.path);
    const app = createStoreParts(new LmdbEnvironment(dir.path)).storage;
    app.register(createEntityDefinition(Permit));
    app.register(createEntityDefinition(License));
    try {
      await app.open();
      // Set right by the first database the app opened, before any of the new entity's was created.
      expect(warn.mock.calls.map(([message]) => String(message))).toContainEqual(
        expect.stringMatching(/^opening database \S+ of .* set it right before opening it again$/),
      );
      for (const storage of [app, holder]) {
        storage.renewSnapshot();
        expect(storage.tablesOf(storage.definitionOf(Permit)).records.get(created.id)).toEqual(expect.objectContaining({ number: 'BP-2' }));
      }
    } finally {
      await app.close();
    }
  });
});
