import 'reflect-metadata';
import fc from 'fast-check';
import type { AddressInfo } from 'node:net';
import { Audited, Entity, Field, Historize, Index } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { permutations, range, scaled } from './concurrency.util.js';

@Entity({ name: 'scheduled-tickets', path: 'tickets' })
@Audited()
class Ticket {
  @Field() @Index({ unique: true }) number!: string;
  @Field() @Historize('full') value!: number;
}

const RUNS = scaled(40);

interface Answer {
  status: number;
  body: any;
}

/** A PATCH of the shared ticket to `value`, with `If-Match` on version `expected`. */
interface UpdateOp {
  kind: 'update';
  expected: number;
  value: number;
}

/** A POST of ticket number `number` with idempotency key `key` (both from small pools, so they collide). */
interface CreateOp {
  kind: 'create';
  key: number;
  number: number;
}

type Op = UpdateOp | CreateOp;

// At least two updates demand version 1, so exactly one of them must win.
const updates = fc
  .array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 })
  .map((more) => [1, 1, ...more].map((expected, i): UpdateOp => ({ kind: 'update', expected, value: 100 + i })));
const creates = fc.array(fc.record({ kind: fc.constant('create' as const), key: fc.integer({ min: 0, max: 2 }), number: fc.integer({ min: 0, max: 1 }) }), {
  minLength: 2,
  maxLength: 5,
});

/** Outcome of each update when they run one at a time in `order`, from version 1. */
function sequentialUpdates(ops: readonly UpdateOp[], order: readonly number[]): Answer[] {
  const outcome: Answer[] = [];
  let version = 1;
  for (const i of order) outcome[i] = ops[i]!.expected === version ? { status: 200, body: { version: ++version } } : { status: 412, body: {} };
  return outcome;
}

/** Outcome of each create when they run one at a time in `order`: idempotency keys first, then the unique number. */
function sequentialCreates(ops: readonly CreateOp[], order: readonly number[]): Answer[] {
  const outcome: Answer[] = [];
  const remembered = new Map<number, number>();
  const taken = new Set<number>();
  for (const i of order) {
    const { key, number } = ops[i]!;
    if (remembered.has(key)) outcome[i] = { status: remembered.get(key) === number ? 201 : 409, body: {} };
    else if (taken.has(number)) outcome[i] = { status: 409, body: {} };
    else {
      taken.add(number);
      remembered.set(key, number);
      outcome[i] = { status: 201, body: {} };
    }
  }
  return outcome;
}

/** An order of `ops` whose one-at-a-time outcome matches every observed answer, if there is one. */
function linearization<T>(
  ops: readonly T[],
  observed: readonly Answer[],
  sequential: (ops: readonly T[], order: readonly number[]) => Answer[],
  same: (a: Answer, b: Answer) => boolean,
) {
  for (const order of permutations(range(ops.length))) {
    const outcome = sequential(ops, order);
    if (outcome.every((answer, i) => same(answer, observed[i]!))) return order;
  }
  return undefined;
}

/**
 * Concurrent requests against one app, sent in orders fast-check's scheduler picks:
 * If-Match updates of one ticket and creates whose idempotency keys and unique numbers
 * collide. Whatever the order, the answers must be those of some one-at-a-time order
 * (linearizability, checked per object, which suffices since it is a local property), and
 * the stored ticket, its history and its audit trail must be the winners applied in turn.
 */
describe.each(PLATFORMS)('scheduled concurrent requests on %s', (platform) => {
  let t: TestApp;
  let base: string;
  let run = 0;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Ticket], platform });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() => t.close());

  async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  it(
    'answers as some one-at-a-time order would, and stores what the winners wrote in turn',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), updates, creates, async (s, updateOps, createOps) => {
          const prefix = `${platform}-${++run}`;
          const ticket = await send('POST', '/tickets', { number: `${prefix}-base`, value: 0 });
          expect(ticket.status).toBe(201);
          const id = ticket.body.id as string;
          const createBody = (op: CreateOp) => ({ number: `${prefix}-n${op.number}`, value: 0 });
          const perform = (op: Op) =>
            op.kind === 'update'
              ? send('PATCH', `/tickets/${id}`, { value: op.value }, { 'if-match': `"${op.expected}"` })
              : send('POST', '/tickets', createBody(op), { 'idempotency-key': `${prefix}-k${op.key}` });
          const ops: Op[] = [...updateOps, ...createOps];
          const answers = await s.waitFor(
            Promise.all(ops.map((op, i) => s.schedule(Promise.resolve(i), `${op.kind} ${JSON.stringify(op)}`).then(() => perform(op)))),
          );
          const updateAnswers = answers.slice(0, updateOps.length);
          const createAnswers = answers.slice(updateOps.length);

          // Updates: some order explains every 200 (with its version) and every 412.
          for (const answer of updateAnswers) expect([200, 412]).toContain(answer.status);
          const updateOrder = linearization(
            updateOps,
            updateAnswers,
            sequentialUpdates,
            (a, b) => a.status === b.status && (a.status !== 200 || a.body.version === b.body.version),
          );
          expect({ updateOps, updateAnswers: updateAnswers.map((a) => [a.status, a.body?.version]), explained: updateOrder !== undefined }).toEqual(
            expect.objectContaining({ explained: true }),
          );
          expect(updateOps.filter((op, i) => op.expected === 1 && updateAnswers[i]!.status === 200)).toHaveLength(1);
          const winners = updateOps.flatMap((op, i) =>
            updateAnswers[i]!.status === 200 ? [{ ...op, version: updateAnswers[i]!.body.version as number }] : [],
          );
          winners.sort((a, b) => a.version - b.version);
          const values = [0, ...winners.map((winner) => winner.value)];

          const stored = await send('GET', `/tickets/${id}`);
          expect(stored.body).toEqual(expect.objectContaining({ value: values.at(-1), version: values.length }));
          const history = await send('GET', `/tickets/${id}/history`);
          expect(history.body.fields.value.map((entry: { value: number; version: number }) => [entry.value, entry.version])).toEqual(
            values.map((value, i) => [value, i + 1]).reverse(),
          );
          const audit = await send('GET', `/tickets/${id}/audit`);
          expect(audit.body.items.map((entry: { version: number; changes: unknown }) => [entry.version, entry.changes])).toEqual([
            [1, { number: { from: null, to: `${prefix}-base` }, value: { from: null, to: 0 } }],
            ...values.slice(1).map((value, i) => [i + 2, { value: { from: values[i], to: value } }]),
          ]);

          // Creates: some order explains every 201 and 409; one key always answers with one record.
          for (const answer of createAnswers) expect([201, 409]).toContain(answer.status);
          const createOrder = linearization(createOps, createAnswers, sequentialCreates, (a, b) => a.status === b.status);
          expect({ createOps, statuses: createAnswers.map((a) => a.status), explained: createOrder !== undefined }).toEqual(
            expect.objectContaining({ explained: true }),
          );
          const firstByKey = new Map<number, Answer>();
          for (const [i, op] of createOps.entries()) {
            const answer = createAnswers[i]!;
            if (answer.status !== 201) continue;
            expect(answer.body).toEqual((firstByKey.get(op.key) ?? answer).body);
            firstByKey.set(op.key, answer);
          }
          const made = [...firstByKey.values()].map((answer) => answer.body);
          expect(new Set(made.map((record) => record.id)).size).toBe(made.length);
          const listed = await send('GET', `/tickets?number[prefix]=${prefix}-n&limit=100`);
          expect(listed.body.items.map((record: { id: string }) => record.id).sort()).toEqual(made.map((record) => record.id).sort());

          // Replaying each create, one at a time, gives its first answer again.
          for (const [i, op] of createOps.entries()) {
            const replayed = await send('POST', '/tickets', createBody(op), { 'idempotency-key': `${prefix}-k${op.key}` });
            expect(replayed.status).toBe(createAnswers[i]!.status);
            if (replayed.status === 201) expect(replayed.body).toEqual(firstByKey.get(op.key)!.body);
          }
        }),
        { numRuns: RUNS },
      );
    },
    60_000 + RUNS * 1_000,
  );
});
