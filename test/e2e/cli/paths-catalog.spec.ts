import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN, call, startSample, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { ndjson, runCli } from './cli-process.util.js';
import { removeCatalog, seedSampleStore } from './cli-store.util.js';

/** Every command, with the arguments it needs besides --path. */
const COMMANDS: ReadonlyArray<readonly string[]> = [
  ['stat'],
  ['verify'],
  ['rebuild-indexes'],
  ['export'],
  ['import'],
  ['backup', 'BACKUP'],
  ['events'],
  ['compact'],
];

describe('cli paths and exit codes', () => {
  const dir = makeTempDir('nde-cli-paths-');
  afterAll(() => dir.remove());

  it('answers exit code 3, naming the path, for every command where --path holds no store', async () => {
    const missing = join(dir.path, 'missing');
    const results = await Promise.all(
      COMMANDS.map((command) => runCli([...command.map((arg) => (arg === 'BACKUP' ? join(dir.path, 'backup') : arg)), '--path', missing], '')),
    );
    expect(results.map((result) => result.code)).toEqual(COMMANDS.map(() => 3));
    for (const result of results) expect(result.stderr).toMatch(`error: no store at ${missing}: the directory does not exist (check --path`);

    const empty = join(dir.path, 'empty');
    mkdirSync(empty);
    const file = join(dir.path, 'file');
    writeFileSync(file, 'not a store');
    const [inEmpty, inFile] = await Promise.all([runCli(['stat', '--path', empty]), runCli(['verify', '--path', file])]);
    expect([inEmpty.code, inFile.code]).toEqual([3, 3]);
    expect(inEmpty.stderr).toContain(`error: no store at ${empty}: the directory holds no data.mdb`);
    expect(inFile.stderr).toContain(`error: no store at ${file}: it is not a directory`);
  }, 60_000);

  it('answers exit code 2 and one line on stderr for usage errors, and 0 for --help and --version', async () => {
    const usages = [[], ['stats'], ['stat', '--jsn'], ['backup'], ['import', '--batch-size', '0'], ['events', '--limit', 'ten']];
    const results = await Promise.all(usages.map((args) => runCli([...args, '--path', dir.path])));
    expect(results.map((result, i) => [usages[i], result.code])).toEqual(usages.map((args) => [args, 2]));
    for (const result of results) expect(result.stderr).toMatch(/^error: [^\n]+ \(run with --help for usage\)\n$/);
    expect(results.map((result) => result.stderr)).toEqual([
      expect.stringMatching(/^error: expected one of the commands stat, verify, /),
      expect.stringMatching(/^error: unknown command 'stats' \(Did you mean stat\?\) /),
      expect.stringMatching(/^error: unknown option '--jsn' \(Did you mean --json\?\) /),
      expect.stringMatching(/^error: missing required argument 'dir' /),
      expect.stringMatching(/^error: option '--batch-size <n>' argument '0' is invalid/),
      expect.stringMatching(/^error: option '--limit <n>' argument 'ten' is invalid/),
    ]);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 done; 1 failed');
    expect((await runCli(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  }, 60_000);
});

describe('cli on a store an older version wrote (no catalog)', () => {
  const dir = makeTempDir('nde-cli-old-');
  const dataPath = join(dir.path, 'data');
  let app: SampleProcess | undefined;

  beforeAll(async () => {
    await seedSampleStore(dataPath, { permits: 12, inspections: 3 });
    expect(await removeCatalog(dataPath)).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await stopSample(app);
    dir.remove();
  });

  it('asks to start the app once, with exit code 5, for the commands that need the entities', async () => {
    const commands = COMMANDS.filter(([name]) => name !== 'backup' && name !== 'events');
    const results = await Promise.all(commands.map((command) => runCli([...command, '--path', dataPath], '')));
    expect(results.map((result, i) => [commands[i]![0], result.code])).toEqual(commands.map(([name]) => [name, 5]));
    for (const result of results) {
      expect(result.stderr).toContain('has no catalog of its entities');
      expect(result.stderr).toContain('Start the app once with this version');
    }
  }, 60_000);

  it('still tails the log and backs up without the catalog', async () => {
    const events = await runCli(['events', '--limit', '2', '--path', dataPath]);
    expect(events.code).toBe(0);
    expect(ndjson(events.stdout).map((event) => event.seq)).toEqual([1, 2]);
    expect((await runCli(['backup', join(dir.path, 'copy'), '--path', dataPath])).code).toBe(0);
  }, 60_000);

  it('is opened by the app as before, which records the catalog; then every command works', async () => {
    app = await startSample('cli-old-store', dataPath, 'fastify');
    const list = await call(app, 'GET', '/permits?limit=100', { user: ADMIN });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(11);
    await stopSample(app);
    const stat = await runCli(['stat', '--json', '--path', dataPath]);
    expect(stat.code).toBe(0);
    expect(JSON.parse(stat.stdout).entities.map((entity: { name: string; records: number }) => [entity.name, entity.records])).toEqual([
      ['inspections', 3],
      ['permits', 11],
    ]);
    expect((await runCli(['verify', '--path', dataPath])).code).toBe(0);
  }, 90_000);
});
