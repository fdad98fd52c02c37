import 'reflect-metadata';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Entity, EntityRepository, Field, Historize, Index } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { range, scaled } from './concurrency.util.js';

@Entity('bank-accounts')
class Account {
  @Field() @Index({ unique: true }) owner!: string;
  @Field() @Historize('full') balance!: number;
}

@Entity('bank-transfers')
class Transfer {
  @Field() @Index() from!: string;
  @Field() @Index() to!: string;
  @Field() amount!: number;
}

const ACCOUNTS = 8;
const INITIAL = 100;
const TRANSFERS = scaled(400);
const TELLERS = 16;
const READERS = 3;

class Overdraft extends Error {}

async function everyRecord<T extends object>(repository: EntityRepository<T>) {
  const page = await repository.find({ limit: 1000 });
  const items = [...page.items];
  for (let cursor = page.nextCursor; cursor !== null;) {
    const next = await repository.find({ limit: 1000, cursor });
    items.push(...next.items);
    cursor = next.nextCursor;
  }
  return items;
}

/** A small seeded generator, so a failing run can be repeated with `CONCURRENCY_SEED`. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * Tellers move money between accounts, each transfer one repository transaction over two
 * entities: debit the source, refuse (throw) if that overdraws it, credit the target, and
 * record the transfer. A refused transfer must leave nothing, not even the debit; a
 * committed one must be whole. Readers meanwhile list every account in one `find`, which
 * reads one snapshot, so each list must hold all the money.
 */
describe('bank transfers in repository transactions', () => {
  it(
    `keeps the total balance through ${TRANSFERS} concurrent transfers, refused overdrafts included`,
    async () => {
      const seed = Number(process.env.CONCURRENCY_SEED ?? Date.now()) >>> 0;
      const random = randomFrom(seed);
      const dir = makeTempDir('nde-bank-');
      const storage = new EntityStorage(new LmdbEnvironment(dir.path));
      const accountDefinition = createEntityDefinition(Account);
      storage.register(accountDefinition);
      const transferDefinition = createEntityDefinition(Transfer);
      storage.register(transferDefinition);
      await storage.open();
      try {
        const accounts = new EntityRepository(accountDefinition, storage);
        const transfers = new EntityRepository(transferDefinition, storage);
        const opened = await accounts.createMany(range(ACCOUNTS).map((i) => ({ owner: `owner-${i}`, balance: INITIAL })));
        const ids = opened.map((account) => account.id);
        const total = ACCOUNTS * INITIAL;

        const transfer = (from: string, to: string, amount: number, teller: number) =>
          accounts.transaction(
            (tx) => {
              const source = tx.findById(Account, from)!;
              const debited = tx.update(Account, from, { balance: source.balance - amount });
              if (debited.balance < 0) throw new Overdraft(`${from} cannot pay ${amount}`);
              const target = tx.findById(Account, to)!;
              tx.update(Account, to, { balance: target.balance + amount });
              return tx.create(Transfer, { from, to, amount });
            },
            { actor: `teller-${teller}` },
          );

        let committed = 0;
        let refused = 0;
        let snapshots = 0;
        /** Total version count of each snapshot: how many distinct states the readers caught mid-run. */
        const states = new Set<number>();
        let working = true;
        const tellers = range(TELLERS).map(async (teller) => {
          for (let n = teller; n < TRANSFERS; n += TELLERS) {
            const from = Math.floor(random() * ACCOUNTS);
            const to = (from + 1 + Math.floor(random() * (ACCOUNTS - 1))) % ACCOUNTS;
            const amount = 1 + Math.floor(random() * 60);
            try {
              await transfer(ids[from]!, ids[to]!, amount, teller);
              committed++;
            } catch (error) {
              if (!(error instanceof Overdraft)) throw error;
              refused++;
            }
          }
        });
        const readers = range(READERS).map(async () => {
          while (working) {
            const { items } = await accounts.find({ limit: 1000 });
            expect(items).toHaveLength(ACCOUNTS);
            expect(items.reduce((sum, account) => sum + account.balance, 0)).toBe(total);
            expect(items.filter((account) => account.balance < 0)).toEqual([]);
            // Every transfer bumps exactly two versions; half a transfer would leave an odd sum.
            const changes = items.reduce((sum, account) => sum + account.version - 1, 0);
            expect(changes % 2).toBe(0);
            states.add(changes);
            snapshots++;
            await yieldToLoop();
          }
        });
        try {
          await Promise.all(tellers);
        } finally {
          working = false;
        }
        await Promise.all(readers);

        expect(committed + refused).toBe(TRANSFERS);
        expect(committed).toBeGreaterThan(0);
        expect(refused).toBeGreaterThan(0);
        expect(states.size).toBeGreaterThan(1);

        const final = (await accounts.find({ limit: 1000 })).items;
        const made = await everyRecord(transfers);
        expect(made).toHaveLength(committed);
        expect(final.reduce((sum, account) => sum + account.balance, 0)).toBe(total);
        for (const account of final) {
          const incoming = made.filter((t) => t.to === account.id);
          const outgoing = made.filter((t) => t.from === account.id);
          expect({ id: account.id, balance: account.balance, version: account.version }).toEqual({
            id: account.id,
            balance: INITIAL + incoming.reduce((sum, t) => sum + t.amount, 0) - outgoing.reduce((sum, t) => sum + t.amount, 0),
            version: 1 + incoming.length + outgoing.length,
          });
          const history = await accounts.history(account.id);
          expect(history!.fields['balance']!.map((entry) => entry.version)).toEqual(range(account.version, 1).reverse());
        }

        // In the log, each transfer is its debit, its credit and its record, back to back.
        const events = storage.events(0, 10 * TRANSFERS);
        expect(events.filter((event) => event.entity === 'bank-accounts' && event.type === 'updated')).toHaveLength(2 * committed);
        for (const [at, event] of events.entries()) {
          if (event.entity !== 'bank-transfers') continue;
          const { from, to } = event.data as { from: string; to: string };
          expect([events[at - 2]?.id, events[at - 1]?.id, event.actor]).toEqual([from, to, events[at - 1]?.actor]);
        }
        expect(storage.verify().problems).toEqual([]);
        console.warn(
          `bank transfers (seed ${seed}): ${committed} committed, ${refused} refused overdrafts, ${snapshots} concurrent snapshots summed (${states.size} distinct states)`,
        );
      } finally {
        await storage.close();
        dir.remove();
      }
    },
    60_000 + TRANSFERS * 50,
  );
});
