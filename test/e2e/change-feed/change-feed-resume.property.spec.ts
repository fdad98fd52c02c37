import fc from 'fast-check';
import { Entity, EntityRepository, Field, getRepositoryToken, Permission, type EntityChange, type Principal } from '../../../lib/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('cfp-tasks')
@Permission({ read: 'tasks:read', create: null, update: null, delete: null, owner: 'owner' })
class Task {
  @Field() title!: string;
  @Field({ required: false }) owner?: string;
}

@Entity('cfp-noise')
class Noise {
  @Field() n!: number;
}

type Step =
  { kind: 'create'; by: 'ann' | 'bob' } | { kind: 'update'; pick: number } | { kind: 'delete'; pick: number } | { kind: 'noise' } | { kind: 'reconnect' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), by: fc.constantFrom('ann' as const, 'bob' as const) }),
  fc.record({ kind: fc.constant('update' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.constant({ kind: 'noise' as const }),
  fc.constant({ kind: 'reconnect' as const }),
);

describe('resuming the change feed', () => {
  let t: TestApp;
  let tasks: EntityRepository<Task>;
  let noise: EntityRepository<Noise>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Task, Noise] });
    tasks = t.app.get(getRepositoryToken(Task));
    noise = t.app.get(getRepositoryToken(Noise));
  });
  afterAll(() => t.close());

  /** A subscriber that reconnects after the last seq it got whenever told to, and collects what it is given. */
  function subscriber(principal: Principal | undefined, from: number) {
    const got: EntityChange<Task & { id: string; owner?: string }>[] = [];
    let abort = new AbortController();
    let running: Promise<void> = Promise.resolve();
    const start = (after: number) => {
      abort = new AbortController();
      const feed = tasks.subscribe({ afterSeq: after, signal: abort.signal, ...(principal && { principal }) });
      running = (async () => {
        for await (const change of feed) got.push(change);
      })();
    };
    start(from);
    return {
      got,
      async reconnect() {
        abort.abort();
        await running;
        start(got.at(-1)?.seq ?? from);
      },
      async stop() {
        abort.abort();
        await running;
      },
    };
  }

  it('delivers every change the subscriber may see exactly once, in log order, however often it reconnects', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        const from = (await tasks.events({ afterSeq: 0, limit: 1_000_000 })).at(-1)?.seq ?? 0;
        const start = Math.max(from, ...(await noise.events({ afterSeq: 0, limit: 1_000_000 })).map((event) => event.seq));
        const everything = subscriber(undefined, start);
        const ann = subscriber({ id: 'ann', permissions: [] }, start);
        const live: string[] = [];
        for (const next of steps) {
          if (next.kind === 'create') live.push((await tasks.create({ title: 't' }, { principal: { id: next.by, permissions: [] } })).id);
          else if (next.kind === 'update' && live.length > 0) await tasks.update(live[next.pick % live.length]!, { title: `u${next.pick}` });
          else if (next.kind === 'delete' && live.length > 0) await tasks.delete(live.splice(next.pick % live.length, 1)[0]!);
          else if (next.kind === 'noise') await noise.create({ n: 1 });
          else if (next.kind === 'reconnect') await Promise.all([everything.reconnect(), ann.reconnect()]);
        }
        const expected = (await tasks.events({ afterSeq: start, limit: 1_000_000 })).map((event) => event.seq);
        const settle = Date.now() + 5_000;
        while (everything.got.length < expected.length && Date.now() < settle) await new Promise((resolve) => setTimeout(resolve, 10));
        await new Promise((resolve) => setTimeout(resolve, 60));
        await Promise.all([everything.stop(), ann.stop()]);
        expect(everything.got.map((change) => change.seq)).toEqual(expected);
        // Ann sees the changes of the tasks she created, deletes included, and nothing else.
        const annsTasks = new Set(everything.got.filter((change) => change.type === 'created' && change.record?.owner === 'ann').map((change) => change.id));
        expect(ann.got.map((change) => change.seq)).toEqual(everything.got.filter((change) => annsTasks.has(change.id)).map((change) => change.seq));
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
