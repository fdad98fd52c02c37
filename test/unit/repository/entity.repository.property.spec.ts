import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { Composite } from '../../../lib/decorators/composite.decorator.js';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { Index } from '../../../lib/decorators/index.decorator.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import type { FindQuery } from '../../../lib/query/find-query.interface.js';
import { EntityRepository } from '../../../lib/repository/entity.repository.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { encodeKey, indexKeyOf, type KeyComponent } from '../../../lib/storage/index-key.util.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { RecordNotFoundException } from '../../../lib/storage/record-not-found.exception.js';
import { UniqueConstraintException } from '../../../lib/storage/unique-constraint.exception.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('gadgets')
@Composite(['color', 'size'])
class Gadget {
  @Field() @Index({ unique: true }) code!: string;
  @Field({ required: false }) @Index() owner?: string;
  @Field() color!: string;
  @Field({ required: false }) size?: number;
}

type Data = { code: string; owner?: string; color: string; size?: number };
type Patch = { code?: string; owner?: string | null; color?: string; size?: number | null };
type Command =
  | { kind: 'create'; data: Data }
  | { kind: 'replace'; target: number; data: Data }
  | { kind: 'update'; target: number; patch: Patch }
  | { kind: 'delete'; target: number };

/** lmdb starts a range without `start` after keys beginning with a zero byte (a null component). */
const LOWEST_KEY = Buffer.from([0]);

// Small pools so that unique collisions, shared composite prefixes and equal values are common.
// The long values are cut and hashed in index keys; the two long codes share the cut prefix.
const LONG = 'Ł'.repeat(600);
const codes = fc.constantFrom('a', 'b', 'c', 'd', 'e', `${LONG}1`, `${LONG}2`);
const owners = fc.constantFrom('alice', 'bob', '😀'.repeat(400));
const colors = fc.constantFrom('red', 'blue', `green${'漢'.repeat(300)}`);
const sizes = fc.constantFrom(-2.5, 0, 1, 3, 1e6);

const data: fc.Arbitrary<Data> = fc.record({ code: codes, owner: owners, color: colors, size: sizes }, { requiredKeys: ['code', 'color'] });
const patch: fc.Arbitrary<Patch> = fc.record({ code: codes, owner: fc.option(owners), color: colors, size: fc.option(sizes) }, { requiredKeys: [] });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: data.map((d) => ({ kind: 'create' as const, data: d })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replace' as const), target: fc.nat(), data }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('update' as const), target: fc.nat(), patch }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), target: fc.nat() }) },
);

interface ModelRecord {
  data: Data;
  version: number;
}

const hex = (key: unknown) => encodeKey(key as KeyComponent[]).toString('hex');

/** The order the API promises: missing values first, then numbers, then strings by code point; ties by id. */
function compareValues(a: unknown, b: unknown): number {
  const rank = (value: unknown) => (value === undefined ? 0 : typeof value === 'number' ? 1 : 2);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return 0;
}

describe('EntityRepository against an in-memory model (property)', () => {
  const definition = createEntityDefinition(Gadget);

  // Query plans are logged at debug level; keep the test output quiet.
  beforeAll(() => Logger.overrideLogger(['error', 'warn']));

  async function run(commands: Command[]): Promise<void> {
    const dir = makeTempDir();
    const storage = new EntityStorage(new LmdbEnvironment(dir.path));
    storage.register(definition);
    await storage.open();
    try {
      const repo = new EntityRepository(definition, storage);
      const model = new Map<string, ModelRecord>();
      const ids: string[] = [];
      const holderOf = (code: string, except?: string) => [...model.entries()].find(([id, record]) => id !== except && record.data.code === code)?.[0];

      for (const step of commands) {
        if (step.kind === 'create') {
          const outcome = repo.create(step.data as Gadget);
          if (holderOf(step.data.code) !== undefined) {
            await expect(outcome).rejects.toBeInstanceOf(UniqueConstraintException);
            continue;
          }
          const created = await outcome;
          expect(created).toMatchObject({ ...step.data, version: 1 });
          model.set(created.id, { data: { ...step.data }, version: 1 });
          ids.push(created.id);
          continue;
        }
        if (ids.length === 0) continue;
        const id = ids[step.target % ids.length]!;
        const current = model.get(id);
        if (step.kind === 'delete') {
          if (!current) {
            await expect(repo.delete(id)).rejects.toBeInstanceOf(RecordNotFoundException);
            continue;
          }
          await repo.delete(id);
          model.delete(id);
          continue;
        }
        if (step.kind === 'replace') {
          const outcome = repo.replace(id, step.data as Gadget);
          if (!current) await expect(outcome).rejects.toBeInstanceOf(RecordNotFoundException);
          else if (holderOf(step.data.code, id) !== undefined) await expect(outcome).rejects.toBeInstanceOf(UniqueConstraintException);
          else {
            const replaced = await outcome;
            // A replace that changes nothing writes no version (README: a PUT sent again changes no value).
            const previous = current.data as Record<string, unknown>;
            const changed = Object.keys({ ...step.data, ...previous }).some((field) => (step.data as Record<string, unknown>)[field] !== previous[field]);
            const version = changed ? current.version + 1 : current.version;
            model.set(id, { data: { ...step.data }, version });
            expect(replaced).toMatchObject({ ...step.data, version });
          }
          continue;
        }
        const outcome = repo.update(id, step.patch as Partial<Gadget>);
        if (!current) {
          await expect(outcome).rejects.toBeInstanceOf(RecordNotFoundException);
          continue;
        }
        const next: Record<string, unknown> = { ...current.data };
        for (const [field, value] of Object.entries(step.patch)) {
          if (value === null) delete next[field];
          else next[field] = value;
        }
        const changed = Object.keys({ ...next, ...current.data }).some((field) => next[field] !== (current.data as Record<string, unknown>)[field]);
        if (changed && holderOf(next.code as string, id) !== undefined) {
          await expect(outcome).rejects.toBeInstanceOf(UniqueConstraintException);
          continue;
        }
        const updated = await outcome;
        const version = changed ? current.version + 1 : current.version;
        model.set(id, { data: next as Data, version });
        expect(updated.version).toBe(version);
      }

      await check(storage, repo, model);
    } finally {
      await storage.close();
      dir.remove();
    }
  }

  async function check(storage: EntityStorage, repo: EntityRepository<Gadget>, model: Map<string, ModelRecord>): Promise<void> {
    const tables = storage.tablesOf(definition);
    const modelIds = [...model.keys()].sort();

    // The records are the model.
    const stored = [...tables.records.getRange({})].map(({ value }) => value);
    expect(stored.map(({ createdAt: _c, updatedAt: _u, ...rest }) => rest)).toEqual(
      modelIds.map((id) => ({ id, version: model.get(id)!.version, ...model.get(id)!.data })),
    );

    // Every index holds exactly the keys computed from the model, in lmdb's order.
    for (const { index, db } of tables.indexes) {
      const actual = [...db.getKeys({ start: LOWEST_KEY })].map(hex);
      const expected = [...model.entries()]
        .map(([id, record]) => encodeKey(indexKeyOf(index, record.data, id)))
        .sort(Buffer.compare)
        .map((key) => key.toString('hex'));
      expect({ index: index.name, keys: actual }).toEqual({ index: index.name, keys: expected });
    }

    // Equality on each index's fields (and on the composite's first field) finds exactly the model's matches, in id order.
    const wheres: Record<string, unknown>[] = [];
    for (const record of model.values()) {
      for (const fields of [...definition.indexes.map((index) => index.fields), ['color']]) {
        if (fields.some((field) => (record.data as Record<string, unknown>)[field] === undefined)) continue;
        wheres.push(Object.fromEntries(fields.map((field) => [field, (record.data as Record<string, unknown>)[field]])));
      }
    }
    for (const where of wheres) {
      const expected = modelIds.filter((id) =>
        Object.entries(where).every(([field, value]) => (model.get(id)!.data as Record<string, unknown>)[field] === value),
      );
      const found = await repo.find({ where: where as FindQuery['where'], limit: 1000 });
      expect({ where, ids: found.items.map((item) => item.id) }).toEqual({ where, ids: expected });
      expect(found.nextCursor).toBeNull();
    }

    // Walking cursors three at a time visits every match once, in order.
    const sorted = (field: string, descending: boolean, ids: string[]) =>
      [...ids].sort((a, b) => {
        const order =
          compareValues((model.get(a)!.data as Record<string, unknown>)[field], (model.get(b)!.data as Record<string, unknown>)[field]) ||
          (a < b ? -1 : a > b ? 1 : 0);
        return descending ? -order : order;
      });
    const someColor = model.values().next().value?.data.color ?? 'red';
    const walks: { query: FindQuery; expected: string[] }[] = [
      { query: {}, expected: modelIds },
      { query: { sort: '-id' }, expected: [...modelIds].reverse() },
      { query: { sort: 'owner' }, expected: sorted('owner', false, modelIds) },
      { query: { sort: '-size' }, expected: sorted('size', true, modelIds) },
      // Id order under a prefix of the composite: the runs of each size are merged.
      { query: { where: { color: someColor } }, expected: modelIds.filter((id) => model.get(id)!.data.color === someColor) },
      {
        query: { where: { color: someColor }, sort: '-id' },
        expected: modelIds.filter((id) => model.get(id)!.data.color === someColor).reverse(),
      },
      {
        query: { where: { color: someColor }, sort: 'size' },
        expected: sorted(
          'size',
          false,
          modelIds.filter((id) => model.get(id)!.data.color === someColor),
        ),
      },
    ];
    // An `in` on an index reads one range per value: merged in id order, or collected and sorted.
    const having = (field: 'owner' | 'code' | 'size', values: readonly unknown[]) =>
      modelIds.filter((id) => values.includes((model.get(id)!.data as Record<string, unknown>)[field]));
    const someOwners = ['alice', '😀'.repeat(400)];
    const someCodes = ['a', `${LONG}1`, `${LONG}2`];
    const someSizes = [0, 1, 1e6];
    walks.push(
      { query: { where: { owner: { in: someOwners } } }, expected: having('owner', someOwners) },
      { query: { where: { owner: { in: someOwners } }, sort: '-id' }, expected: having('owner', someOwners).reverse() },
      { query: { where: { code: { in: someCodes } }, sort: 'owner' }, expected: sorted('owner', false, having('code', someCodes)) },
      {
        query: { where: { color: someColor, size: { in: someSizes } } },
        expected: having('size', someSizes).filter((id) => model.get(id)!.data.color === someColor),
      },
    );
    // A range of ids within the run of a full index equality bounds that run's walk.
    const pivot = modelIds[Math.floor(modelIds.length / 2)] ?? '0';
    const later = modelIds[Math.floor((modelIds.length * 3) / 4)] ?? '0';
    const owned = modelIds.filter((id) => model.get(id)!.data.owner === 'alice');
    walks.push(
      { query: { where: { owner: 'alice', id: { gt: pivot } } }, expected: owned.filter((id) => id > pivot) },
      { query: { where: { owner: 'alice', id: { lte: pivot } }, sort: '-id' }, expected: owned.filter((id) => id <= pivot).reverse() },
      // Walking down, a lower bound that is a key itself is taken in.
      { query: { where: { owner: 'alice', id: { gte: pivot } }, sort: '-id' }, expected: owned.filter((id) => id >= pivot).reverse() },
      { query: { where: { id: { gte: pivot } }, sort: '-id' }, expected: modelIds.filter((id) => id >= pivot).reverse() },
      { query: { where: { id: pivot }, sort: '-id' }, expected: modelIds.filter((id) => id === pivot) },
      { query: { where: { owner: 'alice', id: { gte: pivot, lt: later } } }, expected: owned.filter((id) => id >= pivot && id < later) },
      { query: { where: { owner: 'alice', id: { prefix: pivot.slice(0, 12) } } }, expected: owned.filter((id) => id.startsWith(pivot.slice(0, 12))) },
      {
        query: { where: { owner: 'alice', id: { gte: pivot } }, sort: 'size' },
        expected: sorted(
          'size',
          false,
          owned.filter((id) => id >= pivot),
        ),
      },
    );
    for (const { query, expected } of walks) {
      const walked: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages <= expected.length / 3 + 1; pages++) {
        const page = await repo.find({ ...query, limit: 3, cursor });
        expect(page.items.length).toBeLessThanOrEqual(3);
        walked.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor ?? undefined;
        if (!cursor) break;
      }
      expect({ query, ids: walked }).toEqual({ query, ids: expected });
    }
  }

  it('keeps records, every index, equality finds and cursor walks in line with the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), (commands) => run(commands)),
      { numRuns: 50 },
    );
  });

  it('keeps id order under a composite prefix with more runs than are merged', async () => {
    await run(Array.from({ length: 70 }, (_, i) => ({ kind: 'create' as const, data: { code: `c${i}`, color: 'red', size: 70 - i } })));
  });

  it('keeps the model after a fixed sequence with collisions and cleared fields', async () => {
    await run([
      { kind: 'create', data: { code: 'a', color: 'red', size: 1, owner: 'alice' } },
      { kind: 'create', data: { code: 'a', color: 'blue' } },
      { kind: 'create', data: { code: `${LONG}1`, color: 'red', size: 1 } },
      { kind: 'create', data: { code: `${LONG}2`, color: 'red' } },
      { kind: 'update', target: 1, patch: { code: `${LONG}2` } },
      { kind: 'update', target: 0, patch: { owner: null, size: null } },
      { kind: 'update', target: 0, patch: { owner: null } },
      { kind: 'delete', target: 2 },
      { kind: 'create', data: { code: `${LONG}2`, color: 'blue', owner: 'bob' } },
      { kind: 'replace', target: 0, data: { code: 'b', color: 'red', size: 3 } },
      { kind: 'delete', target: 2 },
    ]);
  });

  it('keeps the version of a replace that changes nothing', async () => {
    await run([
      { kind: 'create', data: { code: 'a', color: 'red' } },
      { kind: 'update', target: 0, patch: { code: 'b', owner: 'alice', size: 3 } },
      { kind: 'replace', target: 0, data: { code: 'b', owner: 'alice', color: 'red', size: 3 } },
      { kind: 'delete', target: 0 },
    ]);
  });
});
