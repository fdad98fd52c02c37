import { makeTempDir } from '../../support/temp-dir.util.js';
import { unique } from '../support/e2e.util.js';
import { ADMIN, assertSampleBuilt, call, permitBody, startPair, stopSample, type SampleProcess } from '../../support/sample-process.util.js';

const RUN_MS = 5_000;
const PERMITS = 4;
/** A ceiling on iterations per loop, so no loop can spin forever whatever the clock does. */
const MAX_ITERATIONS = 50_000;

describe('cached reads under concurrent writes from another process', () => {
  let data: ReturnType<typeof makeTempDir> | undefined;
  let a: SampleProcess | undefined;
  let b: SampleProcess | undefined;

  beforeAll(async () => {
    assertSampleBuilt();
    data = makeTempDir();
    [a, b] = await startPair(data.path);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stopSample(a), stopSample(b)]);
    data?.remove();
  }, 20_000);

  it('never returns a version older than one acknowledged before the read started, for about 5 seconds', async () => {
    const numbers = Array.from({ length: PERMITS }, () => unique('BP-STRESS'));
    const ids: string[] = [];
    for (const number of numbers) {
      const created = await call(a!, 'POST', '/permits', { user: ADMIN, body: permitBody(number) });
      expect(created.status).toBe(201);
      ids.push(created.body.id as string);
    }
    /** Per permit, the highest version a writer has been answered with. */
    const acknowledged = ids.map(() => 1);
    const violations: string[] = [];
    const failures: string[] = [];
    let reads = 0;
    let writes = 0;
    const deadline = Date.now() + RUN_MS;
    const running = () => Date.now() < deadline;

    /** Writer i changes permit i through one process, always with the If-Match of the version it last wrote. */
    const writer = async (i: number) => {
      const through = i % 2 === 0 ? a! : b!;
      let version = 1;
      for (let n = 0; running() && n < MAX_ITERATIONS; n++) {
        const response = await call(through, 'PATCH', `/permits/${ids[i]}`, {
          user: ADMIN,
          body: { client: `client ${i}.${n}` },
          headers: { 'if-match': `"${version}"` },
        });
        if (response.status !== 200) {
          failures.push(`writer ${i} got ${response.status} for version ${version}: ${JSON.stringify(response.body)}`);
          return;
        }
        version = response.body.version as number;
        acknowledged[i] = Math.max(acknowledged[i]!, version);
        writes++;
      }
    };

    /** Reader i reads permit i through the other process: by id, and every third time through the list. */
    const reader = async (i: number) => {
      const through = i % 2 === 0 ? b! : a!;
      for (let n = 0; running() && n < MAX_ITERATIONS; n++) {
        const floor = acknowledged[i]!;
        const byList = n % 3 === 2;
        const response = await call(through, 'GET', byList ? `/permits?number=${numbers[i]}` : `/permits/${ids[i]}`);
        if (response.status !== 200) {
          failures.push(`reader ${i} got ${response.status}: ${JSON.stringify(response.body)}`);
          return;
        }
        const version = (byList ? response.body.items[0]?.version : response.body.version) as number | undefined;
        if (!byList && response.etag !== `"${version}"`) failures.push(`reader ${i} got ETag ${response.etag} with version ${version}`);
        reads++;
        if (version === undefined || version < floor) {
          violations.push(`reader ${i} (${byList ? 'list' : 'by id'}, ${through.name}) got version ${version} after version ${floor} was acknowledged`);
        }
      }
    };

    await Promise.all([...ids.map((_, i) => writer(i)), ...ids.map((_, i) => reader(i))]);

    expect(failures).toEqual([]);
    expect({ violations: violations.length, first: violations.slice(0, 5) }).toEqual({ violations: 0, first: [] });
    expect(writes).toBeGreaterThan(50);
    expect(reads).toBeGreaterThan(50);
    for (const [i, id] of ids.entries()) {
      for (const sample of [a!, b!]) expect((await call(sample, 'GET', `/permits/${id}`)).body.version).toBe(acknowledged[i]);
    }
  }, 45_000);
});
