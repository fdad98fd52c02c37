import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Entity, Field, Index } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { call, startPair, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { withSampleStore } from '../../support/sample-store.util.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { range, scaled } from './concurrency.util.js';

const ROUNDS = scaled(6);
const CONTENDERS = 16;

interface Answer {
  status: number;
  body: any;
}

/** Sends `POST path` with a JSON body through contender `index`'s connection. */
type Send = (index: number, path: string, body: unknown) => Promise<Answer>;

interface RoundOutcome {
  winner: { index: number; ids: string[] };
  /** Numbers only losing batches asked for; none may exist. */
  lostExtras: string[];
}

/**
 * `CONTENDERS` concurrent creates of one unique number: every third one is a batch that
 * also creates a number of its own. Exactly one request may win (201), every other gets
 * 409, and a losing batch stores nothing, not even its uncontested element.
 */
async function contest(send: Send, path: string, number: string, body: (number: string, index: number) => Record<string, unknown>): Promise<RoundOutcome> {
  const extraOf = (index: number) => `${number}-x${index}`;
  const isBatch = (index: number) => index % 3 === 2;
  const answers = await Promise.all(
    range(CONTENDERS).map((index) =>
      isBatch(index) ? send(index, `${path}/batch`, [body(number, index), body(extraOf(index), index)]) : send(index, path, body(number, index)),
    ),
  );
  const winners = answers.flatMap((answer, index) => (answer.status === 201 ? [index] : []));
  expect({ number, winners: winners.length }).toEqual({ number, winners: 1 });
  for (const [index, answer] of answers.entries()) {
    if (answer.status === 201) continue;
    expect({ index, status: answer.status, error: answer.body?.error }).toEqual({ index, status: 409, error: 'Conflict' });
  }
  const index = winners[0]!;
  const won = answers[index]!.body;
  return {
    winner: { index, ids: isBatch(index) ? won.map((record: { id: string }) => record.id) : [won.id] },
    lostExtras: range(CONTENDERS)
      .filter((i) => isBatch(i) && i !== index)
      .map(extraOf),
  };
}

describe('concurrent creates of one unique number', () => {
  describe('across two processes on one data directory', () => {
    it(
      `lets exactly one of ${CONTENDERS} creates win in each of ${ROUNDS} rounds`,
      async () => {
        const dir = makeTempDir('nde-unique-');
        const dataPath = join(dir.path, 'data');
        let pair: SampleProcess[] = [];
        try {
          pair = await startPair(dataPath);
          const send: Send = (index, path, body) => call(pair[index % 2]!, 'POST', path, { body });
          const kept: string[] = [];
          for (const round of range(ROUNDS)) {
            const number = `UQ-${round}`;
            const outcome = await contest(send, '/permits', number, (value, index) => ({ number: value, client: `client-${index}`, county: 'Travis' }));
            kept.push(...outcome.winner.ids);
            for (const app of pair) {
              const found = await call(app, 'GET', `/permits?number=${number}`);
              expect(found.body.items.map((permit: { id: string }) => permit.id)).toEqual([outcome.winner.ids[0]]);
              for (const extra of outcome.lostExtras) expect((await call(app, 'GET', `/permits?number=${extra}`)).body.items).toEqual([]);
            }
          }
          await Promise.all(pair.map((app) => stopSample(app)));
          pair = [];
          await withSampleStore(dataPath, (storage) => {
            expect(storage.verify().problems).toEqual([]);
            expect(
              storage
                .events(0, 10_000)
                .map((event) => event.id)
                .sort(),
            ).toEqual([...kept].sort());
          });
        } finally {
          await Promise.all(pair.map((app) => stopSample(app)));
          dir.remove();
        }
      },
      60_000 + ROUNDS * 5_000,
    );
  });

  @Entity({ name: 'unique-tags', path: 'tags' })
  class Tag {
    @Field() @Index({ unique: true }) number!: string;
    @Field() label!: string;
  }

  describe.each(PLATFORMS)('in one process on %s', (platform) => {
    let t: TestApp;
    let base: string;
    beforeAll(async () => {
      t = await createTestApp({ entities: [Tag], platform });
      await t.app.listen(0, '127.0.0.1');
      base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    });
    afterAll(() => t.close());

    const get = async (path: string): Promise<{ items: { id: string }[] }> => (await fetch(`${base}${path}`)).json() as Promise<{ items: { id: string }[] }>;

    it(`lets exactly one of ${CONTENDERS} creates win in each of ${ROUNDS} rounds`, async () => {
      const send: Send = async (_index, path, body) => {
        const answer = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { status: answer.status, body: await answer.json() };
      };
      const kept: string[] = [];
      for (const round of range(ROUNDS)) {
        const number = `TG-${round}`;
        const outcome = await contest(send, '/tags', number, (value, index) => ({ number: value, label: `label-${index}` }));
        kept.push(...outcome.winner.ids);
        const found = await get(`/tags?number=${number}`);
        expect(found.items.map((tag) => tag.id)).toEqual([outcome.winner.ids[0]]);
        for (const extra of outcome.lostExtras) expect((await get(`/tags?number=${extra}`)).items).toEqual([]);
      }
      const storage = t.app.get(EntityStorage);
      expect(storage.verify().problems).toEqual([]);
      expect(
        storage
          .events(0, 10_000)
          .map((event) => event.id)
          .sort(),
      ).toEqual([...kept].sort());
    });
  });
});
