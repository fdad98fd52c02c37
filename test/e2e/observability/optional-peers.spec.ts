import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PLATFORMS } from '../../support/test-app.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');
const HIDE = join(HERE, 'fixtures', 'hide-optional-peers.mjs');
const APP = join(HERE, 'fixtures', 'without-optional-peers.mjs');
const OPTIONAL = ['prom-client', '@opentelemetry/api', '@nestjs/terminus'];

interface Check {
  check: string;
  [key: string]: unknown;
}

/** Runs the fixture app on the compiled package, with the optional peers hidden or not. */
async function run(platform: string, hidden: boolean): Promise<Check[]> {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/index.js is missing: npm run build (npm test does it in pretest)');
  const dir = makeTempDir();
  try {
    const args = [...(hidden ? ['--import', HIDE] : []), APP, dir.path, platform];
    const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT, timeout: 60_000 });
    return stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Check);
  } finally {
    dir.remove();
  }
}

describe.each(PLATFORMS)('the package without its optional peers, on %s', (platform) => {
  let hidden: Check[];

  beforeAll(async () => {
    hidden = await run(platform, true);
  });

  it('serves the generated routes, with request ids, when prom-client, @opentelemetry/api and @nestjs/terminus are not installed', () => {
    expect(hidden.filter((c) => c.check === 'hidden').map((c) => [c.name, typeof c.error])).toEqual(OPTIONAL.map((name) => [name, 'string']));
    expect(hidden.find((c) => c.check === 'create')).toEqual({ check: 'create', status: 201, requestId: 'plain-1' });
    expect(hidden.find((c) => c.check === 'list')).toEqual({ check: 'list', status: 200 });
  });

  it('names the missing package when a feature that needs it is switched on', () => {
    expect(hidden.filter((c) => c.check === 'health' || c.check === 'start').map((c) => c.error)).toEqual([
      'EntitiesHealthIndicator needs the package @nestjs/terminus, which is not installed: npm install @nestjs/terminus',
      'EntitiesModule.forRoot({ metrics: { enabled: true } }) needs the package prom-client, which is not installed: npm install prom-client',
      'EntitiesModule.forRoot({ tracing: true }) needs the package @opentelemetry/api, which is not installed: npm install @opentelemetry/api',
    ]);
  });

  it('starts the same features when the packages are installed', async () => {
    const checks = await run(platform, false);
    expect(checks.filter((c) => c.check === 'hidden').map((c) => [c.name, c.loaded])).toEqual(OPTIONAL.map((name) => [name, true]));
    expect(checks.filter((c) => c.check === 'health' || c.check === 'start').map((c) => c.ok ?? c.started)).toEqual([true, true, true]);
  });
});
