import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { natsServerMissing, NATS_SERVER } from '../../support/nats-cluster.util.js';
import { describeWhen } from '../../support/requirement.util.js';
import { ADMIN, assertSampleBuilt, permitBody } from '../../support/sample-process.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SCRIPT = join(ROOT, 'sample', 'dist', 'replicated.js');
const STARTUP_MS = 60_000;

/** A base port with room for the ports the script derives from it, in a range nothing here listens on. */
function basePort(): number {
  return 21_000 + Math.floor(Math.random() * 400) * 25;
}

describeWhen(natsServerMissing(), 'the replicated sample')('npm run start:replicated', () => {
  it(
    'runs three instances on a three-node NATS cluster with one command, and a write on one is read on another',
    async () => {
      assertSampleBuilt();
      const dir = makeTempDir();
      const port = basePort();
      const natsPort = port + 3;
      const child = spawn(process.execPath, [SCRIPT], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port), NATS_PORT: String(natsPort), DATA_PATH: dir.path, NATS_SERVER, NODE_ENV: 'test' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const base = (i: number) => `http://127.0.0.1:${port + i}`;
      try {
        const deadline = Date.now() + STARTUP_MS;
        for (const i of [0, 1, 2]) {
          let status = 0;
          while (status !== 200 && Date.now() < deadline && child.exitCode === null) {
            status = await fetch(`${base(i)}/permits?limit=1`).then(
              (response) => response.arrayBuffer().then(() => response.status),
              () => 0,
            );
            if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
          }
          expect({ instance: i, status, output: status === 200 ? '' : output }).toEqual({ instance: i, status: 200, output: '' });
        }
        const created = await fetch(`${base(0)}/permits`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user': ADMIN },
          body: JSON.stringify(permitBody('R-1')),
        });
        expect(created.status).toBe(201);
        const seq = created.headers.get('x-entities-seq');
        expect(Number(seq)).toBeGreaterThan(0);
        const { id } = (await created.json()) as { id: string };
        const read = await fetch(`${base(2)}/permits/${id}`, { headers: { 'x-user': ADMIN, 'x-entities-min-seq': seq! } });
        expect(read.status).toBe(200);
        expect(((await read.json()) as { number: string }).number).toBe('R-1');
      } finally {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await once(child, 'exit');
        }
        dir.remove();
      }
      expect(child.exitCode).toBe(0);
    },
    STARTUP_MS + 30_000,
  );
});
