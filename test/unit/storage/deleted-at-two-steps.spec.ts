import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Entity, Field } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { openStore, type OpenStore } from './write-pipeline/store-harness.util.js';

@Entity('two-step-tasks')
class TaskV1 {
  @Field() title!: string;
  @Field({ required: false }) deletedAt?: Date;
}
/** The app's own soft delete removed first (its values stay in the records until drop-fields)... */
@Entity('two-step-tasks')
class TaskV2 {
  @Field() title!: string;
}
/** ...and the package's softDelete turned on at a later start. */
@Entity({ name: 'two-step-tasks', softDelete: true })
class TaskV3 {
  @Field() title!: string;
}

describe('CHANGELOG: "a start that turns softDelete on over such records warns how many still hold it"', () => {
  let store: OpenStore | undefined;
  const dir = makeTempDir('review-two-step-');
  afterAll(async () => {
    await store?.close();
    dir.remove();
  });

  it('warns when the field was removed one start before softDelete was turned on', async () => {
    store = await openStore(dir.path, [TaskV1]);
    await store.repo(TaskV1).create({ title: 'gone', deletedAt: '2020-01-01T00:00:00.000Z' });
    await store.close();
    store = await openStore(dir.path, [TaskV2]);
    await store.close();
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      store = await openStore(dir.path, [TaskV3]);
      const found = (await store.repo(TaskV3).find({})).items;
      const warnings = warn.mock.calls.map(([message]) => String(message)).filter((message) => message.includes('softDelete reserves'));
      // The live record holding the old value is shown with a deletedAt (it reads as deleted) ...
      expect(found.map((task) => (task as { deletedAt?: string }).deletedAt)).toEqual(['2020-01-01T00:00:00.000Z']);
      // ... and yet the start that turned softDelete on said nothing.
      expect(warnings).toHaveLength(1);
    } finally {
      warn.mockRestore();
    }
  });
});
