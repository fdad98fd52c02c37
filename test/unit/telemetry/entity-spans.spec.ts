import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { Composite, Entity, EntityRepository, Field, getRepositoryToken, RecordNotFoundException } from '../../../lib/index.js';
import { createObservedApp } from '../../e2e/observability/observability-app.util.js';
import { http } from '../../e2e/support/e2e.util.js';
import { PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { installRecordingTracer, type RecordingTracer } from './recording-tracer.util.js';

@Entity('crates')
@Composite(['dock', 'state'])
class Crate {
  @Field() dock!: string;
  @Field() state!: string;
}

@Entity('pallets')
class Pallet {
  @Field() crateId!: string;
}

const MISSING_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

describe('OpenTelemetry spans of repository operations', () => {
  let tracer: RecordingTracer;
  let uninstall: () => void;

  beforeAll(() => {
    ({ tracer, uninstall } = installRecordingTracer());
  });

  afterAll(() => {
    uninstall();
  });

  describe('through the repository', () => {
    let t: TestApp;
    let crates: EntityRepository<Crate>;

    beforeAll(async () => {
      t = await createObservedApp({ entities: [Crate, Pallet], platform: 'express', module: { slowQueryMs: false } });
      crates = t.app.get(getRepositoryToken(Crate));
    });

    afterAll(async () => {
      await t?.close();
    });

    it('gives a write a span named after its operation and entity, with its durable transaction nested in it', async () => {
      const from = tracer.spans.length;
      await crates.create({ dock: 'east', state: 'new' });
      const spans = tracer.since(from);
      expect(spans.map(({ span, parentName }) => [span.name, parentName])).toEqual([
        ['create crates', undefined],
        ['transaction', 'create crates'],
      ]);
      const [operation, transaction] = spans.map(({ span }) => span);
      expect(operation!.kind).toBe(SpanKind.INTERNAL);
      expect(operation!.attributes).toEqual({ 'db.system.name': 'lmdb', 'db.collection.name': 'crates', 'db.operation.name': 'create' });
      expect(transaction!.attributes).toEqual({ 'db.system.name': 'lmdb', 'db.operation.name': 'transaction' });
      expect(transaction!.spanContext().traceId).toBe(operation!.spanContext().traceId);
      for (const { span } of spans)
        expect({ name: span.name, ended: span.ended, status: span.status.code }).toEqual({ name: span.name, ended: true, status: SpanStatusCode.UNSET });
    });

    it('gives a read a span, and a query the plan the planner chose', async () => {
      const { id } = await crates.create({ dock: 'west', state: 'new' });
      const from = tracer.spans.length;
      await crates.findById(id);
      const query = { where: { dock: 'west', state: 'new' } };
      await crates.find(query);
      const spans = tracer.since(from).map(({ span }) => span);
      expect(spans.map((span) => span.name)).toEqual(['findById crates', 'find crates']);
      expect(spans[1]!.attributes['entities.query.plan']).toBe(`${crates.explain(query)}; filters: dock, state; sort: id`);
      expect(crates.explain(query)).toBe('index dock_state by dock= state= in order');
    });

    it('marks the spans of a failed write as errors, naming the failure, and ends them', async () => {
      const from = tracer.spans.length;
      await expect(crates.update(MISSING_ID, { state: 'lost' })).rejects.toThrow(RecordNotFoundException);
      const spans = tracer.since(from).map(({ span }) => span);
      expect(spans.map((span) => [span.name, span.status.code, span.ended])).toEqual([
        ['update crates', SpanStatusCode.ERROR, true],
        ['transaction', SpanStatusCode.ERROR, true],
      ]);
      expect(spans[0]!.status.message).toMatch(MISSING_ID);
      expect(spans[0]!.events).toEqual([expect.stringMatching(/^exception: .*01ARZ3NDEKTSV4RRFFQ69G5FAV/)]);
    });

    it('gives a transaction over two entities one span and one storage transaction', async () => {
      const from = tracer.spans.length;
      await crates.transaction((tx) => {
        const crate = tx.create(Crate, { dock: 'north', state: 'new' });
        tx.create(Pallet, { crateId: crate.id });
      });
      expect(tracer.since(from).map(({ span, parentName }) => [span.name, parentName])).toEqual([
        ['transaction crates', undefined],
        ['transaction', 'transaction crates'],
      ]);
    });
  });

  describe.each(PLATFORMS)('through HTTP on %s', (platform) => {
    let t: TestApp;

    beforeAll(async () => {
      t = await createObservedApp({ entities: [Crate, Pallet], platform, module: { slowQueryMs: false } });
    });

    afterAll(async () => {
      await t?.close();
    });

    it("marks each span of a request with the request's id", async () => {
      const from = tracer.spans.length;
      const created = await http(t).post('/crates').set('X-Request-Id', `trace-${platform}`).send({ dock: 'south', state: 'new' });
      expect(created.status).toBe(201);
      const spans = tracer.since(from).map(({ span }) => [span.name, span.attributes['entities.request.id']]);
      expect(spans).toEqual([
        ['create crates', `trace-${platform}`],
        ['transaction', `trace-${platform}`],
      ]);
    });
  });

  it('makes no span with tracing: false', async () => {
    const t = await createObservedApp({ entities: [Crate, Pallet], platform: 'express', module: { tracing: false } });
    try {
      const from = tracer.spans.length;
      await t.app.get<EntityRepository<Crate>>(getRepositoryToken(Crate)).create({ dock: 'off', state: 'new' });
      expect(tracer.spans.length).toBe(from);
    } finally {
      await t.close();
    }
  });
});
