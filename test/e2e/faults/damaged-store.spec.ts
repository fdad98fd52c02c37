import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertSampleBuilt, SAMPLE_MAIN } from '../../support/sample-process.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { seedSampleStore } from '../cli/cli-store.util.js';
import { compileChildScript } from './child-script.util.js';

const APP_WITHOUT_HOOKS = join(dirname(fileURLToPath(import.meta.url)), 'notes-app.child.ts');
/** Refusing takes a moment (the check looks again before it counts); a process still running after this hangs. */
const EXIT_MS = 20_000;

/** Ways a data.mdb gets damaged, from the bytes of a sound one, with what start-up must say. */
const DAMAGES: ReadonlyArray<{ name: string; damage: (sound: Buffer) => Buffer; says: RegExp }> = [
  {
    name: 'a data.mdb cut to half its size',
    damage: (sound) => sound.subarray(0, sound.length / 2),
    says: /data\.mdb is truncated: \d+ bytes, its meta page says at least \d+/,
  },
  {
    name: 'a data.mdb of garbage bytes',
    damage: (sound) => Buffer.alloc(sound.length, 'not an LMDB file; '),
    says: /data\.mdb is not an LMDB file \(bad magic\)/,
  },
  { name: 'a zero-length data.mdb', damage: () => Buffer.alloc(0), says: /data\.mdb is empty \(0 bytes\)/ },
];

/** How a process ended, and everything it printed. */
interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs `args` with node on `dataPath` to its end; a process still running after EXIT_MS (a spin, a hang) is killed and reported. */
function runToEnd(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Ended> {
  const child = spawn(process.execPath, args, { env: { ...process.env, NODE_ENV: 'test', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the app was still running ${EXIT_MS} ms after it started (a spin or a hang):\n${output}`));
    }, EXIT_MS);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

describe('an app starting on a damaged data.mdb', () => {
  const template = makeTempDir('nde-damaged-template-');
  let sound: Buffer;
  let appWithoutHooks: string;

  beforeAll(async () => {
    assertSampleBuilt();
    await seedSampleStore(join(template.path, 'store'));
    sound = readFileSync(join(template.path, 'store', 'data.mdb'));
    appWithoutHooks = compileChildScript(APP_WITHOUT_HOOKS, template.path);
  });

  afterAll(() => template.remove());

  const apps: ReadonlyArray<{ name: string; start: (dataPath: string) => Promise<Ended> }> = [
    { name: 'the sample (enableShutdownHooks)', start: (dataPath) => runToEnd([SAMPLE_MAIN], { PORT: '0', HOST: '127.0.0.1', DATA_PATH: dataPath }) },
    { name: 'an app without enableShutdownHooks', start: (dataPath) => runToEnd([appWithoutHooks, 'start', dataPath], {}) },
  ];

  for (const { name: damaged, damage, says } of DAMAGES) {
    for (const app of apps) {
      it(`${app.name} fails to start on ${damaged}, naming the file and the problem, and leaves the file as it was`, async () => {
        const dir = makeTempDir('nde-damaged-');
        try {
          const file = join(dir.path, 'data.mdb');
          writeFileSync(file, damage(sound));
          const before = { bytes: readFileSync(file), mtime: statSync(file).mtimeMs };

          const ended = await app.start(dir.path);

          expect({ code: ended.code, signal: ended.signal }).toEqual({ code: 1, signal: null });
          expect(ended.output).toMatch(says);
          expect(ended.output).toContain(file);
          expect(ended.output).not.toContain('"ready":true');
          expect(readFileSync(file).equals(before.bytes)).toBe(true);
          expect(statSync(file).mtimeMs).toBe(before.mtime);
          expect(readdirSync(dir.path)).toEqual(['data.mdb']);
        } finally {
          dir.remove();
        }
      });
    }
  }
});
