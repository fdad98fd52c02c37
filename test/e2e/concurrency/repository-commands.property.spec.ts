import 'reflect-metadata';
import fc from 'fast-check';
import { EntityRepository } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { UniqueConstraintException } from '../../../lib/storage/unique-constraint.exception.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { scaled } from './concurrency.util.js';
import { repositoryCommands, transactionCommands } from './item-commands.util.js';
import { GHOST_ID, historyWithoutTimes, Item, ItemModel, withoutTimes } from './item-model.util.js';

const RUNS = scaled(100);

/** A fresh store for one generated run, closed and removed afterwards. */
async function withRepository(fn: (repo: EntityRepository<Item>, storage: EntityStorage) => Promise<void>): Promise<void> {
  const dir = makeTempDir('nde-commands-');
  const storage = new EntityStorage(new LmdbEnvironment(dir.path));
  const definition = createEntityDefinition(Item);
  storage.register(definition);
  await storage.open();
  try {
    await fn(new EntityRepository(definition, storage), storage);
  } finally {
    await storage.close();
    dir.remove();
  }
}

/** The whole store equals the model: every live record, every history, and a clean verify(). */
async function expectStoreToBe(model: ItemModel, repo: EntityRepository<Item>, storage: EntityStorage): Promise<void> {
  expect((await repo.find({ limit: 1000 })).items.map(withoutTimes)).toEqual(model.matching({}, 'id'));
  for (const id of [...model.ids, GHOST_ID]) expect(historyWithoutTimes(await repo.history(id))).toEqual(model.historyOf(id));
  expect(storage.verify().problems).toEqual([]);
}

describe('EntityRepository against a model, command by command', () => {
  it(
    'keeps writes, reads, history and cursor walks held across writes in line with the model (fc.asyncModelRun)',
    async () => {
      await fc.assert(
        fc.asyncProperty(repositoryCommands, (commands) =>
          withRepository(async (repo, storage) => {
            const model = new ItemModel();
            await fc.asyncModelRun(() => ({ model, real: { repo } }), commands);
            await expectStoreToBe(model, repo, storage);
          }),
        ),
        { numRuns: RUNS },
      );
    },
    60_000 + RUNS * 300,
  );

  it(
    'sees its own writes inside one transaction and commits exactly the model, or nothing when it throws (fc.modelRun)',
    async () => {
      await fc.assert(
        fc.asyncProperty(transactionCommands, fc.boolean(), (commands, abort) =>
          withRepository(async (repo, storage) => {
            const model = new ItemModel();
            const aborted = new Error('the callback gives up');
            const committed = repo.transaction((tx) => {
              fc.modelRun(() => ({ model, real: tx }), commands);
              if (abort) throw aborted;
            });
            if (abort) {
              await expect(committed).rejects.toBe(aborted);
              await expectStoreToBe(new ItemModel(), repo, storage);
              expect(storage.events(0, 10)).toEqual([]);
              return;
            }
            await committed;
            await expectStoreToBe(model, repo, storage);
          }),
        ),
        { numRuns: RUNS },
      );
    },
    60_000 + RUNS * 300,
  );

  it('keeps nothing of a create whose unique conflict the transaction callback caught', async () => {
    await withRepository(async (repo, storage) => {
      await repo.create({ code: 'a1', group: 'g1' });
      const second = await repo.transaction((tx) => {
        expect(() => tx.create(Item, { code: 'a1', group: 'g2' })).toThrow(UniqueConstraintException);
        return tx.create(Item, { code: 'b1', group: 'g2' });
      });
      expect((await repo.find({})).items.map((item) => item.code)).toEqual(['a1', 'b1']);
      expect(storage.events(0, 10).map((event) => event.id)).toEqual([expect.any(String), second.id]);
      expect(storage.verify().problems).toEqual([]);
    });
  });
});
