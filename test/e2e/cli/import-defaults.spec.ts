import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Entity, Field } from '../../../lib/index.js';
import { createTestApp } from '../../support/test-app.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { http } from '../support/e2e.util.js';
import { assertCliBuilt, ndjson, runCli } from './cli-process.util.js';

/**
 * README (Import): an exported record is restored as stored, so a field it lacks (cleared, or
 * added since) stays out; a line that names no version is a new record, whose defaults fill in.
 */
@Entity('memos')
class Memo {
  @Field() title!: string;
  @Field({ required: false, default: 'normal' }) priority?: string;
}

describe('cli import and field defaults', () => {
  const dir = makeTempDir('nde-import-defaults-');
  beforeAll(() => assertCliBuilt());
  afterAll(() => dir.remove());

  it('restores an exported record with a cleared defaulted field unchanged', async () => {
    const source = join(dir.path, 'source');
    const t = await createTestApp({ entities: [Memo], path: source });
    const { id } = (await http(t).post('/memos').send({ title: 'a' }).expect(201)).body;
    const cleared = (await http(t).patch(`/memos/${id}`).send({ priority: null }).expect(200)).body;
    await t.close();

    const exported = await runCli(['export', '--path', source]);
    expect(exported.code).toBe(0);
    const file = join(dir.path, 'memos.ndjson');
    const handWritten = JSON.stringify({ entity: 'memos', record: { id: 'hand-1', title: 'by hand' } });
    writeFileSync(file, `${exported.stdout}${handWritten}\n`);
    const target = join(dir.path, 'target');
    expect((await runCli(['import', '--create', '--path', target], { file })).code).toBe(0);

    const again = await runCli(['export', '--path', target]);
    expect(ndjson(again.stdout).find((line) => line.record?.id === id)).toEqual(ndjson(exported.stdout).find((line) => line.record?.id === id));
    const restored = await createTestApp({ entities: [Memo], path: target });
    try {
      expect((await http(restored).get(`/memos/${id}`).expect(200)).body).toEqual(cleared);
      expect((await http(restored).get('/memos/hand-1').expect(200)).body).toMatchObject({ title: 'by hand', priority: 'normal', version: 1 });
    } finally {
      await restored.close();
    }
  }, 60_000);
});
