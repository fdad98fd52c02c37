import { jest } from '@jest/globals';
import { Entity, Field, Historize } from '../../../lib/index.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { FieldHistory, type FieldHistoryEntry } from '../../../lib/storage/field-history.store.js';
import { HistoryTrimmer } from '../../../lib/storage/history-trimmer.service.js';
import type { IndexKey } from '../../../lib/storage/index-key.util.js';
import { readCatalog } from '../../../lib/storage/store-catalog.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { openStore } from './write-pipeline/store-harness.util.js';

@Entity('trim-mark-notes')
class V1 {
  @Field() @Historize('full') status!: string;
}
@Entity('trim-mark-notes')
class V2 {
  @Field() @Historize({ versions: 1 }) status!: string;
}

/** Two replicated instances at one point: one start is cut short mid-trim (a crash) and trims the rest at its next start. */
/** A start cut short while trimming leaves the mark the next start gives: the same as a start that was not. */
it('marks a trim alike on an instance whose trimming start was cut short', async () => {
  const marks = [];
  for (const crash of [false, true]) {
    const dir = makeTempDir();
    const store = await openStore(dir.path, [V1]);
    try {
      for (let r = 0; r < 3; r++) {
        const p = await store.repo(V1).create({ status: 's0' });
        await store.repo(V1).update(p.id, { status: 's1' });
      }
      const previous = readCatalog(store.environment.database('_meta'));
      const v2 = createEntityDefinition(V2);
      const tables = {
        ...store.storage.tablesOf(store.storage.definitionOf(V1)),
        definition: v2,
        history: new FieldHistory(v2, store.environment.database<FieldHistoryEntry, IndexKey>('_log.by-record')),
      };
      if (crash) {
        const real = store.environment.write.bind(store.environment);
        let trimmedSome = false;
        // Dies in the write after the first one that removed entries.
        const spy = jest.spyOn(store.environment, 'write').mockImplementation((async (fn: () => unknown) => {
          if (trimmedSome) throw new Error('process died');
          const result = (await real(fn as never)) as { removed: number };
          trimmedSome = result.removed > 0;
          return result;
        }) as never);
        // replicated: movesMark = false
        await expect(new HistoryTrimmer(store.environment, 1, false).reconcile([tables], previous)).rejects.toThrow('process died');
        spy.mockRestore();
      }
      // The (next) start: the catalog still holds the wider policy.
      await new HistoryTrimmer(store.environment, 1, false).reconcile([tables], previous);
      const { lastEventId: _id, ...mark } = store.storage.changeMark(v2);
      marks.push(mark);
    } finally {
      await store.close();
      dir.remove();
    }
  }
  expect(marks[1]).toEqual(marks[0]);
});
