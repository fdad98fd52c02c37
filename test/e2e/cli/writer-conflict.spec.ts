import 'reflect-metadata';
import { join } from 'node:path';
import { ADMIN, call, permitBody, startSample, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { ndjson, runCli } from './cli-process.util.js';
import { seedSampleStore, withRawDatabase } from './cli-store.util.js';

const NEW_PERMIT = {
  entity: 'permits',
  record: {
    id: '01ZZZZZZZZZZZZZZZZZZZZZZZZ',
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...permitBody('BP-FORCED'),
  },
};

/** The writer entries the store lists, read past the package. */
function listedWriters(dataPath: string): Promise<Array<{ pid: number; role: string }>> {
  return withRawDatabase(dataPath, '_meta', (meta) =>
    [...meta.getRange({})].filter(({ key }) => Array.isArray(key) && key[0] === 'writers').map(({ value }) => value),
  );
}

describe('cli against a running app', () => {
  const dir = makeTempDir('nde-cli-writer-');
  const dataPath = join(dir.path, 'data');
  let app: SampleProcess | undefined;

  beforeAll(async () => {
    await seedSampleStore(dataPath);
    app = await startSample('cli-writer', dataPath, 'express');
  }, 60_000);
  afterAll(async () => {
    await stopSample(app);
    dir.remove();
  });

  it('refuses import, rebuild-indexes and compact with exit code 4, naming the app, and changes nothing', async () => {
    const before = JSON.parse((await runCli(['stat', '--json', '--path', dataPath])).stdout).log.lastSeq;
    const refused = await Promise.all(
      [['import'], ['rebuild-indexes'], ['compact', '--max-events', '1']].map((args) =>
        runCli([...args, '--path', dataPath], `${JSON.stringify(NEW_PERMIT)}\n`),
      ),
    );
    for (const result of refused) {
      expect(result.code).toBe(4);
      expect(result.stderr).toContain(`is open for writing by app (pid ${app!.child.pid} on `);
      expect(result.stderr).toContain('pass --force only if');
    }
    expect(JSON.parse((await runCli(['stat', '--json', '--path', dataPath])).stdout).log.lastSeq).toBe(before);
    expect((await call(app!, 'GET', `/permits/${NEW_PERMIT.record.id}`, { user: ADMIN })).status).toBe(404);
  }, 60_000);

  it('reads while the app writes: stat, verify, export and events see its commits', async () => {
    const created = await call(app!, 'POST', '/permits', { user: ADMIN, body: permitBody('BP-LIVE') });
    expect(created.status).toBe(201);
    const stat = JSON.parse((await runCli(['stat', '--json', '--path', dataPath])).stdout);
    expect(stat.entities.find((entity: { name: string }) => entity.name === 'permits').records).toBeGreaterThan(0);
    expect((await runCli(['verify', '--path', dataPath])).code).toBe(0);
    const exported = ndjson((await runCli(['export', 'permits', '--path', dataPath])).stdout);
    expect(exported.some((line) => line.record?.id === created.body.id)).toBe(true);
    const events = ndjson((await runCli(['events', '--after', String(stat.log.lastSeq - 1), '--path', dataPath])).stdout);
    expect(events.map((event) => event.id)).toEqual([created.body.id]);
  }, 60_000);

  it('imports with --force through the same log, and the running app serves the record at once', async () => {
    const result = await runCli(['import', '--force', '--path', dataPath], `${JSON.stringify(NEW_PERMIT)}\n`);
    expect(result.stderr).toBe('imported 1 records (0 already stored) in 1 batch(es)\n');
    expect(result.code).toBe(0);
    const served = await call(app!, 'GET', `/permits/${NEW_PERMIT.record.id}`, { user: ADMIN });
    expect(served.status).toBe(200);
    expect(served.body).toMatchObject({ number: 'BP-FORCED', version: 1, createdAt: NEW_PERMIT.record.createdAt });
  }, 60_000);

  it('ignores the entry a killed app left behind, and the next app to open the store removes it', async () => {
    const pid = app!.child.pid!;
    expect((await listedWriters(dataPath)).map((writer) => writer.pid)).toEqual([pid]);
    app!.child.kill('SIGKILL');
    await new Promise((resolve) => app!.child.once('exit', resolve));
    expect((await listedWriters(dataPath)).map((writer) => writer.pid)).toEqual([pid]);
    const rebuilt = await runCli(['rebuild-indexes', '--path', dataPath]);
    expect(rebuilt.code).toBe(0);
    expect((await runCli(['verify', '--path', dataPath])).code).toBe(0);

    app = await startSample('cli-writer-again', dataPath, 'fastify');
    expect((await listedWriters(dataPath)).map((writer) => [writer.pid, writer.role])).toEqual([[app.child.pid, 'app']]);
    await stopSample(app);
    expect(await listedWriters(dataPath)).toEqual([]);
  }, 90_000);
});
