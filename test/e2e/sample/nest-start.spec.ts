import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../support/sample-process.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const NEST = join(ROOT, 'node_modules', '.bin', 'nest');
// `nest start` type-checks and compiles the package and the sample before it starts.
const STARTUP_MS = 150_000;

/** The design names `nest start` as a way to run the sample; nest-cli.json at the root makes it so. */
describe('nest start', () => {
  it(
    'compiles and runs the sample, which serves Swagger UI and the permits API on 127.0.0.1',
    async () => {
      expect(existsSync(NEST)).toBe(true);
      const dir = makeTempDir();
      const port = await freePort();
      const child = spawn(NEST, ['start'], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port), DATA_PATH: join(dir.path, 'data'), NODE_ENV: 'test' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        const deadline = Date.now() + STARTUP_MS;
        let docs = 0;
        while (Date.now() < deadline && child.exitCode === null) {
          try {
            const response = await fetch(`http://127.0.0.1:${port}/docs/`);
            await response.arrayBuffer();
            docs = response.status;
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
        expect({ docs, output: docs === 200 ? '' : output }).toEqual({ docs: 200, output: '' });
        const list = await fetch(`http://127.0.0.1:${port}/inspections?limit=1`, { headers: { 'x-user': 'admin:admin' } });
        expect(list.status).toBe(200);
      } finally {
        // `nest start` runs the app as its own child: end the whole group.
        if (child.exitCode === null) {
          process.kill(-child.pid!, 'SIGTERM');
          await once(child, 'exit');
        }
        dir.remove();
      }
    },
    STARTUP_MS + 30_000,
  );
});
