import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { Composite } from '../../../lib/decorators/composite.decorator.js';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { Index } from '../../../lib/decorators/index.decorator.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { InvalidQueryException } from '../../../lib/query/invalid-query.exception.js';
import { EntityRepository } from '../../../lib/repository/entity.repository.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { indexKeyOf, MISSING } from '../../../lib/storage/index-key.util.js';
import { InvalidRecordException } from '../../../lib/storage/invalid-record.exception.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { RecordNotFoundException } from '../../../lib/storage/record-not-found.exception.js';
import { UniqueConstraintException } from '../../../lib/storage/unique-constraint.exception.js';
import { VersionConflictException } from '../../../lib/storage/version-conflict.exception.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('permits')
@Composite(['county', 'status'])
class Permit {
  @Field() @Index({ unique: true }) number!: string;
  @Field() @Index() county!: string;
  @Field({ default: 'open' }) status!: string;
  @Field({ required: false }) @Index() amount?: number;
  @Field({ required: false, immutable: true }) issuedOn?: Date;
  @Field({ required: false }) @Index({ unique: true }) externalRef?: string;
  @Field({ required: false }) note?: string;
}

@Entity('inspections')
@Composite(['permitNumber', 'round'], { unique: true })
class Inspection {
  @Field() permitNumber!: string;
  @Field() round!: number;
  @Field({ required: false }) passed?: boolean;
}

const LOWEST_KEY = Buffer.from([0]);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

class PermitClosedError extends Error {}

describe('EntityRepository', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let storage: EntityStorage;
  let permits: EntityRepository<Permit>;
  let inspections: EntityRepository<Inspection>;

  // Query plans are logged at debug level; keep the test output quiet.
  beforeAll(() => Logger.overrideLogger(['error', 'warn']));

  beforeEach(async () => {
    dir = makeTempDir();
    storage = new EntityStorage(new LmdbEnvironment(dir.path));
    const permitDefinition = createEntityDefinition(Permit);
    const inspectionDefinition = createEntityDefinition(Inspection);
    storage.register(permitDefinition);
    storage.register(inspectionDefinition);
    await storage.open();
    permits = new EntityRepository(permitDefinition, storage);
    inspections = new EntityRepository(inspectionDefinition, storage);
  });

  afterEach(async () => {
    await storage.close();
    dir.remove();
  });

  /** Every stored permit, in id order. */
  const allPermits = async () => (await permits.find({ limit: 1000 })).items;
  const allInspections = async () => (await inspections.find({ limit: 1000 })).items;
  /**
   * Every key of one permit index, as stored. lmdb starts a range without `start` after
   * the keys that begin with a zero byte, which is how a `null` component encodes, so the
   * scan starts explicitly at the lowest key.
   */
  const indexKeys = (name: string) =>
    [
      ...storage
        .tablesOf(permits.definition)
        .indexes.find((entry) => entry.index.name === name)!
        .db.getKeys({ start: LOWEST_KEY }),
    ] as unknown[][];

  describe('create', () => {
    it('stores the record with a time-ordered id, version 1, equal timestamps and the defaults', async () => {
      const created = await permits.create({ number: 'P-1', county: 'Travis', amount: 12.5 } as Permit);
      expect(created).toEqual({
        id: expect.stringMatching(ULID),
        version: 1,
        createdAt: expect.stringMatching(ISO),
        updatedAt: created.createdAt,
        number: 'P-1',
        county: 'Travis',
        status: 'open',
        amount: 12.5,
      });
      expect(await permits.findById(created.id)).toEqual(created);
    });

    it('gives later records greater ids', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await permits.create({ number: `P-${i}`, county: 'c' } as Permit)).id);
      expect([...ids].sort()).toEqual(ids);
    });

    it('stores a Date as an ISO-8601 string', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c', issuedOn: new Date('2024-03-01T10:00:00+02:00') } as Permit);
      expect(created.issuedOn).toBe('2024-03-01T08:00:00.000Z');
    });

    it('never stores the managed fields given in the data', async () => {
      const created = await permits.create({
        number: 'P-1',
        county: 'c',
        id: 'mine',
        version: 7,
        createdAt: '2000-01-01T00:00:00.000Z',
        updatedAt: '2000-01-01T00:00:00.000Z',
      } as unknown as Permit);
      expect(created.id).not.toBe('mine');
      expect(created.version).toBe(1);
      expect(created.createdAt).not.toBe('2000-01-01T00:00:00.000Z');
      expect(await permits.findById('mine')).toBeNull();
    });

    it('rejects data that does not fit the definition, naming every field at fault, and stores nothing', async () => {
      const error = await permits.create({ county: 5, amount: 'ten', colour: 'red' } as unknown as Permit).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidRecordException);
      const problems = (error as InvalidRecordException).problems.join('\n');
      expect(problems).toContain('number');
      expect(problems).toContain('county');
      expect(problems).toContain('amount');
      expect(problems).toContain('colour');
      expect(await allPermits()).toEqual([]);
    });

    it('keeps a __proto__ key away from any prototype', async () => {
      const data = JSON.parse('{"number":"P-1","county":"c","__proto__":{"polluted":true}}') as Permit;
      await expect(permits.create(data)).rejects.toBeInstanceOf(InvalidRecordException);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(await allPermits()).toEqual([]);
    });

    it('stores a string exactly as given, or refuses it', async () => {
      // A lone surrogate cannot be encoded as UTF-8; it must not come back altered.
      const note = 'broken \ud800 text';
      const result = await permits.create({ number: 'P-1', county: 'c', note } as Permit).catch((e: unknown) => e);
      if (result instanceof InvalidRecordException) return;
      expect(result).toMatchObject({ note });
      expect((await permits.findById((result as { id: string }).id))?.note).toBe(note);
    });
  });

  describe('findById', () => {
    it('answers null for an id that does not exist', async () => {
      expect(await permits.findById('01J00000000000000000000000')).toBeNull();
    });
  });

  describe('appliedSeq and waitForSeq', () => {
    it('have nothing to wait for without replication, and refuse a seq that is no whole number', async () => {
      expect(permits.appliedSeq).toBeUndefined();
      await expect(permits.waitForSeq(12)).resolves.toBeUndefined();
      await expect(permits.waitForSeq(1.5)).rejects.toThrow(new RangeError('seq must be a whole number, not 1.5'));
    });
  });

  describe('replace', () => {
    it('replaces every field, bumps the version and keeps createdAt', async () => {
      const created = await permits.create({ number: 'P-1', county: 'Travis', amount: 5, note: 'x' } as Permit);
      const replaced = await permits.replace(created.id, { number: 'P-1', county: 'Hays', status: 'closed' } as Permit);
      expect(replaced).toEqual({
        id: created.id,
        version: 2,
        createdAt: created.createdAt,
        updatedAt: expect.stringMatching(ISO),
        number: 'P-1',
        county: 'Hays',
        status: 'closed',
      });
      expect(replaced.updatedAt >= created.updatedAt).toBe(true);
      expect(await permits.findById(created.id)).toEqual(replaced);
      expect(indexKeys('amount')).toEqual([[MISSING, created.id]]);
    });

    it('validates the data as a create', async () => {
      const created = await permits.create({ number: 'P-1', county: 'Travis' } as Permit);
      await expect(permits.replace(created.id, { county: 'Hays' } as Permit)).rejects.toBeInstanceOf(InvalidRecordException);
      expect(await permits.findById(created.id)).toEqual(created);
    });

    it('refuses to change an immutable field', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c', issuedOn: '2024-01-01' } as unknown as Permit);
      const error = await permits.replace(created.id, { number: 'P-1', county: 'c', issuedOn: '2024-01-02' } as unknown as Permit).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidRecordException);
      expect((error as InvalidRecordException).problems.join()).toContain('issuedOn');
      await expect(permits.replace(created.id, { number: 'P-1', county: 'd', issuedOn: new Date('2024-01-01') } as Permit)).resolves.toMatchObject({
        version: 2,
      });
    });

    it('fails with RecordNotFoundException for an unknown id', async () => {
      await expect(permits.replace('nope', { number: 'P-1', county: 'c' } as Permit)).rejects.toBeInstanceOf(RecordNotFoundException);
      expect(await allPermits()).toEqual([]);
    });

    it('refuses a stale expectedVersion and changes nothing', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c' } as Permit);
      await permits.update(created.id, { county: 'd' });
      const error = await permits.replace(created.id, { number: 'P-1', county: 'e' } as Permit, { expectedVersion: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VersionConflictException);
      expect(error).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
      expect(await permits.findById(created.id)).toMatchObject({ version: 2, county: 'd' });
    });
  });

  describe('update', () => {
    it('changes the given fields only and bumps the version', async () => {
      const created = await permits.create({ number: 'P-1', county: 'Travis', amount: 5 } as Permit);
      const updated = await permits.update(created.id, { amount: 6 });
      expect(updated).toEqual({ ...created, amount: 6, version: 2, updatedAt: expect.stringMatching(ISO) });
      expect(await permits.findById(created.id)).toEqual(updated);
      expect(indexKeys('amount')).toEqual([[6, created.id]]);
    });

    it('clears an optional field given null, and frees its index value', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c', amount: 5, note: 'x' } as Permit);
      const updated = await permits.update(created.id, { amount: null, note: null } as unknown as Partial<Permit>);
      expect(updated).not.toHaveProperty('amount');
      expect(updated).not.toHaveProperty('note');
      expect(updated.version).toBe(2);
      expect(await permits.findById(created.id)).toEqual(updated);
      expect(indexKeys('amount')).toEqual([[MISSING, created.id]]);
    });

    it('refuses to clear a required field', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c' } as Permit);
      await expect(permits.update(created.id, { county: null } as unknown as Partial<Permit>)).rejects.toBeInstanceOf(InvalidRecordException);
      expect(await permits.findById(created.id)).toEqual(created);
    });

    it('refuses to change an immutable field but accepts its current value', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c', issuedOn: new Date('2024-01-01') } as Permit);
      await expect(permits.update(created.id, { issuedOn: new Date('2024-02-01') })).rejects.toBeInstanceOf(InvalidRecordException);
      await expect(permits.update(created.id, { issuedOn: null } as unknown as Partial<Permit>)).rejects.toBeInstanceOf(InvalidRecordException);
      expect(await permits.update(created.id, { issuedOn: new Date('2024-01-01'), county: 'd' })).toMatchObject({ version: 2 });
    });

    it('does not bump the version, the timestamp or the log for a change that changes nothing', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c', amount: 5, issuedOn: new Date('2024-01-01') } as Permit);
      const seq = storage.log.lastSeq();
      const same = await permits.update(created.id, { county: 'c', amount: 5, issuedOn: '2024-01-01T00:00:00Z', note: null } as unknown as Partial<Permit>);
      expect(same).toEqual(created);
      expect(await permits.update(created.id, {})).toEqual(created);
      expect(await permits.findById(created.id)).toEqual(created);
      expect(storage.log.lastSeq()).toBe(seq);
    });

    it('fails with RecordNotFoundException for an unknown id', async () => {
      await expect(permits.update('nope', { county: 'c' })).rejects.toBeInstanceOf(RecordNotFoundException);
    });

    it('applies an update with the current expectedVersion and refuses a stale one', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c' } as Permit);
      expect(await permits.update(created.id, { county: 'd' }, { expectedVersion: 1 })).toMatchObject({ version: 2, county: 'd' });
      const error = await permits.update(created.id, { county: 'e' }, { expectedVersion: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VersionConflictException);
      expect(error).toMatchObject({ entity: 'permits', id: created.id, expectedVersion: 1, actualVersion: 2 });
      expect(await permits.findById(created.id)).toMatchObject({ version: 2, county: 'd' });
    });

    it.each([['2'], [Number.NaN], [1.5], [0], [-1]])('refuses the expectedVersion %j as no version, not as a conflict', async (expectedVersion) => {
      const created = await permits.create({ number: 'P-1', county: 'c' } as Permit);
      await permits.update(created.id, { county: 'd' });
      const writes = [
        permits.update(created.id, { county: 'e' }, { expectedVersion: expectedVersion as number }),
        permits.replace(created.id, { number: 'P-1', county: 'e' } as Permit, { expectedVersion: expectedVersion as number }),
        permits.delete(created.id, { expectedVersion: expectedVersion as number }),
      ];
      for (const write of writes) {
        const error = await write.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidRecordException);
        expect((error as Error).message).toBe('permits: expectedVersion must be a positive integer');
      }
      expect(await permits.findById(created.id)).toMatchObject({ version: 2, county: 'd' });
    });
  });

  describe('delete', () => {
    it('removes the record and its index entries', async () => {
      const kept = await permits.create({ number: 'P-1', county: 'c', amount: 1 } as Permit);
      const gone = await permits.create({ number: 'P-2', county: 'c', amount: 2 } as Permit);
      await permits.delete(gone.id);
      expect(await permits.findById(gone.id)).toBeNull();
      expect((await allPermits()).map((record) => record.id)).toEqual([kept.id]);
      expect(indexKeys('number')).toEqual([['P-1', kept.id]]);
      expect(indexKeys('amount')).toEqual([[1, kept.id]]);
      expect(indexKeys('county_status')).toEqual([['c', 'open', kept.id]]);
    });

    it('fails with RecordNotFoundException the second time', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c' } as Permit);
      await permits.delete(created.id);
      await expect(permits.delete(created.id)).rejects.toBeInstanceOf(RecordNotFoundException);
    });

    it('refuses a stale expectedVersion and keeps the record', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c' } as Permit);
      await permits.update(created.id, { county: 'd' });
      await expect(permits.delete(created.id, { expectedVersion: 1 })).rejects.toBeInstanceOf(VersionConflictException);
      expect(await permits.findById(created.id)).toMatchObject({ version: 2 });
      await permits.delete(created.id, { expectedVersion: 2 });
      expect(await permits.findById(created.id)).toBeNull();
    });
  });

  describe('unique indexes', () => {
    it('rejects a create that repeats a unique value and stores nothing of it', async () => {
      await permits.create({ number: 'P-1', county: 'c' } as Permit);
      const seq = storage.log.lastSeq();
      const error = await permits.create({ number: 'P-1', county: 'd' } as Permit).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UniqueConstraintException);
      expect(error).toMatchObject({ entity: 'permits', index: 'number', fields: ['number'] });
      expect(await allPermits()).toHaveLength(1);
      expect(indexKeys('county')).toHaveLength(1);
      expect(storage.log.lastSeq()).toBe(seq);
    });

    it('rejects an update or replace into a value another record holds, and changes nothing', async () => {
      await permits.create({ number: 'P-1', county: 'c' } as Permit);
      const second = await permits.create({ number: 'P-2', county: 'c' } as Permit);
      await expect(permits.update(second.id, { number: 'P-1' })).rejects.toBeInstanceOf(UniqueConstraintException);
      await expect(permits.replace(second.id, { number: 'P-1', county: 'c' } as Permit)).rejects.toBeInstanceOf(UniqueConstraintException);
      expect(await permits.findById(second.id)).toEqual(second);
      expect(indexKeys('number').map((key) => key[0])).toEqual(['P-1', 'P-2']);
    });

    it('frees a value when its record is deleted or changed', async () => {
      const first = await permits.create({ number: 'P-1', county: 'c' } as Permit);
      const second = await permits.create({ number: 'P-2', county: 'c' } as Permit);
      await permits.delete(first.id);
      await expect(permits.create({ number: 'P-1', county: 'c' } as Permit)).resolves.toMatchObject({ number: 'P-1' });
      await permits.update(second.id, { number: 'P-3' });
      await expect(permits.create({ number: 'P-2', county: 'c' } as Permit)).resolves.toMatchObject({ number: 'P-2' });
    });

    it('lets a record keep its own unique value on update', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c', externalRef: 'X' } as Permit);
      await expect(permits.update(created.id, { number: 'P-1', externalRef: 'X', county: 'd' })).resolves.toMatchObject({ version: 2 });
    });

    it('does not constrain records that leave an optional unique field out', async () => {
      await permits.create({ number: 'P-1', county: 'c' } as Permit);
      await permits.create({ number: 'P-2', county: 'c' } as Permit);
      await permits.create({ number: 'P-3', county: 'c', externalRef: 'X' } as Permit);
      await expect(permits.create({ number: 'P-4', county: 'c', externalRef: 'X' } as Permit)).rejects.toBeInstanceOf(UniqueConstraintException);
    });

    it('rejects a second record with the same values of a unique @Composite only', async () => {
      await inspections.create({ permitNumber: 'P-1', round: 1 });
      await inspections.create({ permitNumber: 'P-1', round: 2 });
      await inspections.create({ permitNumber: 'P-2', round: 1 });
      const error = await inspections.create({ permitNumber: 'P-1', round: 1, passed: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UniqueConstraintException);
      expect(error).toMatchObject({ index: 'permitNumber_round', fields: ['permitNumber', 'round'] });
      expect(await allInspections()).toHaveLength(3);
    });

    it('tells long values apart by their whole text, not their key prefix', async () => {
      const prefix = '東京'.repeat(1000);
      const a = await permits.create({ number: `${prefix}-a`, county: 'c' } as Permit);
      const b = await permits.create({ number: `${prefix}-b`, county: 'c' } as Permit);
      await expect(permits.create({ number: `${prefix}-a`, county: 'd' } as Permit)).rejects.toBeInstanceOf(UniqueConstraintException);
      expect((await permits.find({ where: { number: `${prefix}-b` } })).items).toEqual([b]);
      expect((await permits.find({ where: { number: `${prefix}-a` } })).items).toEqual([a]);
    });

    it('does not mistake a value for another that merely starts with it and a NUL character', async () => {
      // lmdb separates array key elements with a zero byte; a NUL inside a string must not split it.
      const first = await permits.create({ number: 'P\u00001', county: 'c' } as Permit).catch((e: unknown) => e);
      if (!(first instanceof InvalidRecordException)) expect(first).toMatchObject({ number: 'P\u00001' });
      await expect(permits.create({ number: 'P', county: 'c' } as Permit)).resolves.toMatchObject({ number: 'P' });
    });
  });

  describe('createMany', () => {
    it('creates every record, in order', async () => {
      const created = await permits.createMany([
        { number: 'P-1', county: 'a' },
        { number: 'P-2', county: 'b', amount: 3 },
      ] as Permit[]);
      expect(created.map((record) => [record.number, record.version])).toEqual([
        ['P-1', 1],
        ['P-2', 1],
      ]);
      expect(created[0]!.id < created[1]!.id).toBe(true);
      expect(await allPermits()).toEqual(created);
    });

    it('stores nothing when one element is invalid, and names its position', async () => {
      const error = await permits
        .createMany([{ number: 'P-1', county: 'a' }, { number: 'P-2' }, { number: 'P-3', county: 'c' }] as Permit[])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidRecordException);
      expect((error as InvalidRecordException).problems).toEqual([expect.stringMatching(/^\[1\] .*county/)]);
      expect(await allPermits()).toEqual([]);
      expect(indexKeys('number')).toEqual([]);
    });

    it('stores nothing when two elements share a unique value', async () => {
      await expect(
        permits.createMany([
          { number: 'P-1', county: 'a' },
          { number: 'P-1', county: 'b' },
        ] as Permit[]),
      ).rejects.toBeInstanceOf(UniqueConstraintException);
      expect(await allPermits()).toEqual([]);
    });

    it('stores nothing when an element collides with an existing record', async () => {
      await permits.create({ number: 'P-9', county: 'a' } as Permit);
      await expect(
        permits.createMany([
          { number: 'P-1', county: 'a' },
          { number: 'P-9', county: 'b' },
        ] as Permit[]),
      ).rejects.toBeInstanceOf(UniqueConstraintException);
      expect((await allPermits()).map((record) => record.number)).toEqual(['P-9']);
    });

    it('refuses something that is not an array, and a batch over the limit', async () => {
      await expect(permits.createMany({ number: 'P-1' } as unknown as Permit[])).rejects.toBeInstanceOf(InvalidRecordException);
      const small = new EntityRepository(permits.definition, storage, 2);
      await expect(
        small.createMany([
          { number: 'P-1', county: 'a' },
          { number: 'P-2', county: 'a' },
          { number: 'P-3', county: 'a' },
        ] as Permit[]),
      ).rejects.toBeInstanceOf(InvalidRecordException);
      expect(await allPermits()).toEqual([]);
    });

    it('accepts an empty batch', async () => {
      expect(await permits.createMany([])).toEqual([]);
    });
  });

  describe('transaction', () => {
    it('commits changes to two entities together and returns what the callback returns', async () => {
      const result = permits.transaction((tx) => {
        const permit = tx.create(Permit, { number: 'P-1', county: 'c' } as Permit);
        const inspection = tx.create(Inspection, { permitNumber: permit.number, round: 1 });
        expect(tx.findById(Permit, permit.id)).toEqual(permit);
        tx.update(Permit, permit.id, { status: 'inspected' });
        return { permitId: permit.id, inspectionId: inspection.id };
      });
      const { permitId, inspectionId } = await result;
      expect(await permits.findById(permitId)).toMatchObject({ status: 'inspected', version: 2 });
      expect(await inspections.findById(inspectionId)).toMatchObject({ permitNumber: 'P-1', round: 1 });
    });

    it('stores nothing in either entity when the callback throws half-way', async () => {
      const existing = await permits.create({ number: 'P-0', county: 'c' } as Permit);
      const seq = storage.log.lastSeq();
      const failure = new PermitClosedError('stop');
      const outcome = permits.transaction((tx) => {
        tx.create(Permit, { number: 'P-1', county: 'c' } as Permit);
        tx.create(Inspection, { permitNumber: 'P-1', round: 1 });
        tx.update(Permit, existing.id, { county: 'changed' });
        tx.delete(Permit, existing.id);
        throw failure;
      });
      await expect(outcome).rejects.toBe(failure);
      expect(await allPermits()).toEqual([existing]);
      expect(await allInspections()).toEqual([]);
      expect(indexKeys('number')).toEqual([['P-0', existing.id]]);
      expect(storage.log.lastSeq()).toBe(seq);
    });

    it('stores nothing when a write inside fails a unique check half-way', async () => {
      await permits.create({ number: 'P-0', county: 'c' } as Permit);
      await expect(
        permits.transaction((tx) => {
          tx.create(Inspection, { permitNumber: 'P-1', round: 1 });
          tx.create(Permit, { number: 'P-0', county: 'c' } as Permit);
        }),
      ).rejects.toBeInstanceOf(UniqueConstraintException);
      expect(await allInspections()).toEqual([]);
      expect(await allPermits()).toHaveLength(1);
    });

    it('passes an error the callback throws through unchanged, whatever its message', async () => {
      const failure = new PermitClosedError('permit P-1 is closed');
      await expect(
        permits.transaction(() => {
          throw failure;
        }),
      ).rejects.toBe(failure);
    });

    it('rejects a callback that returns a Promise and stores nothing it wrote', async () => {
      const outcome = permits.transaction((tx) => {
        tx.create(Permit, { number: 'P-1', county: 'c' } as Permit);
        return Promise.resolve('done');
      });
      await expect(outcome).rejects.toThrow(/synchronous/);
      expect(await allPermits()).toEqual([]);
    });

    it('rejects an async callback and stores nothing it wrote before its first await', async () => {
      const outcome = permits.transaction(async (tx) => {
        tx.create(Inspection, { permitNumber: 'P-1', round: 1 });
      });
      await expect(outcome).rejects.toThrow(TypeError);
      expect(await allInspections()).toEqual([]);
    });

    it('refuses what an async callback writes after its first await, and what a saved transaction writes later', async () => {
      let later: Promise<unknown> | undefined;
      const outcome = permits.transaction((tx) => {
        later = (async () => {
          await Promise.resolve();
          return tx.create(Inspection, { permitNumber: 'P-2', round: 2 });
        })();
        return Promise.resolve();
      });
      await expect(outcome).rejects.toThrow(/synchronous/);
      await expect(later).rejects.toThrow('this transaction has ended: use a transaction only inside its callback, which must be synchronous');

      let saved: Parameters<Parameters<typeof permits.transaction>[0]>[0] | undefined;
      await permits.transaction((tx) => void (saved = tx));
      expect(() => saved!.create(Permit, { number: 'P-3', county: 'c' } as Permit)).toThrow(/this transaction has ended/);
      expect(() => saved!.findById(Permit, 'x')).toThrow(/this transaction has ended/);
      expect(await allInspections()).toEqual([]);
      expect(await allPermits()).toEqual([]);
    });

    it('refuses a repository write begun inside a transaction callback, and the transaction with it', async () => {
      let inner: Promise<unknown> | undefined;
      const outcome = permits.transaction((tx) => {
        tx.create(Permit, { number: 'P-1', county: 'c' } as Permit);
        inner = inspections.create({ permitNumber: 'P-1', round: 1 });
        return 'done';
      });
      await expect(outcome).rejects.toThrow(/a repository call was made inside a write/);
      await expect(inner).rejects.toThrow(TypeError);
      expect(await allPermits()).toEqual([]);
      expect(await allInspections()).toEqual([]);
      // The store writes as before.
      await expect(permits.create({ number: 'P-1', county: 'c' } as Permit)).resolves.toMatchObject({ version: 1 });
    });

    it('checks the context of a write that changes nothing, as of one that does', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c' } as Permit);
      const actor = 'x'.repeat(300);
      await expect(permits.update(created.id, { county: 'c' }, { actor })).rejects.toBeInstanceOf(InvalidRecordException);
      await expect(permits.replace(created.id, { number: 'P-1', county: 'c' } as Permit, { actor })).rejects.toBeInstanceOf(InvalidRecordException);
    });

    it('takes an idempotencyKey for one create, not for the whole transaction', async () => {
      await expect(
        permits.transaction(
          (tx) => [tx.create(Permit, { number: 'P-1', county: 'c' } as Permit), tx.create(Permit, { number: 'P-2', county: 'c' } as Permit)],
          {
            idempotencyKey: 'k1',
          },
        ),
      ).rejects.toThrow('an idempotencyKey makes one create safe to retry: pass it to that tx.create, not to transaction()');
      expect(await allPermits()).toEqual([]);
      const once = () => permits.transaction((tx) => tx.create(Permit, { number: 'P-1', county: 'c' } as Permit, { idempotencyKey: 'k2' }));
      const first = await once();
      expect(await once()).toEqual(first);
    });

    it('applies the transaction context to every write and lets a write override it', async () => {
      const created = await permits.create({ number: 'P-1', county: 'c' } as Permit);
      await expect(permits.transaction((tx) => tx.update(Permit, created.id, { county: 'd' }), { expectedVersion: 5 })).rejects.toBeInstanceOf(
        VersionConflictException,
      );
      await expect(
        permits.transaction((tx) => tx.update(Permit, created.id, { county: 'd' }, { expectedVersion: 1 }), { expectedVersion: 5 }),
      ).resolves.toMatchObject({ version: 2 });
    });
  });

  describe('find', () => {
    const seed = async () => {
      const rows = [
        { number: 'P-1', county: 'Travis', status: 'open', amount: 10 },
        { number: 'P-2', county: 'Hays', status: 'closed', amount: 5 },
        { number: 'P-3', county: 'Travis', status: 'closed', amount: 20 },
        { number: 'P-4', county: 'Travis', status: 'open' },
        { number: 'P-5', county: 'Bastrop', status: 'open', amount: 5 },
      ];
      return permits.createMany(rows as Permit[]);
    };
    const numbers = (items: { number: string }[]) => items.map((item) => item.number);

    it('returns every record in id order by default, with no next cursor on the last page', async () => {
      const created = await seed();
      expect(await permits.find()).toEqual({ items: created, nextCursor: null });
    });

    it('filters by equality on a composite prefix, a single index, and a field without index', async () => {
      await seed();
      expect(numbers((await permits.find({ where: { county: 'Travis', status: 'open' } })).items)).toEqual(['P-1', 'P-4']);
      expect(numbers((await permits.find({ where: { county: 'Travis' } })).items)).toEqual(['P-1', 'P-3', 'P-4']);
      expect(numbers((await permits.find({ where: { status: 'closed' } })).items)).toEqual(['P-2', 'P-3']);
      expect(numbers((await permits.find({ where: { amount: 5 } })).items)).toEqual(['P-2', 'P-5']);
    });

    it('filters by range, set and prefix', async () => {
      await seed();
      expect(numbers((await permits.find({ where: { amount: { gte: 5, lt: 20 } } })).items)).toEqual(['P-1', 'P-2', 'P-5']);
      expect(numbers((await permits.find({ where: { county: { in: ['Hays', 'Bastrop'] } } })).items)).toEqual(['P-2', 'P-5']);
      expect(numbers((await permits.find({ where: { county: { prefix: 'Tr' } } })).items)).toEqual(['P-1', 'P-3', 'P-4']);
      expect(numbers((await permits.find({ where: { county: 'Travis', status: { ne: 'open' } } })).items)).toEqual(['P-3']);
      expect(numbers((await permits.find({ where: { version: 1, amount: { gt: 5 } } })).items)).toEqual(['P-1', 'P-3']);
    });

    it('sorts ascending and descending, records without the field first when ascending', async () => {
      await seed();
      expect(numbers((await permits.find({ sort: 'amount' })).items)).toEqual(['P-4', 'P-2', 'P-5', 'P-1', 'P-3']);
      expect(numbers((await permits.find({ sort: '-amount' })).items)).toEqual(['P-3', 'P-1', 'P-5', 'P-2', 'P-4']);
      expect(numbers((await permits.find({ where: { county: 'Travis' }, sort: '-status' })).items)).toEqual(['P-4', 'P-1', 'P-3']);
      expect(numbers((await permits.find({ sort: '-id' })).items)).toEqual(['P-5', 'P-4', 'P-3', 'P-2', 'P-1']);
    });

    it('walks pages with cursors, visiting every match once and in order', async () => {
      await seed();
      for (const query of [{}, { sort: '-amount' }, { sort: 'county' }, { where: { county: 'Travis' }, sort: 'status' }, { sort: '-id' }]) {
        const whole = numbers((await permits.find({ ...query, limit: 1000 })).items);
        const walked: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await permits.find({ ...query, limit: 2, cursor });
          expect(page.items.length).toBeLessThanOrEqual(2);
          walked.push(...numbers(page.items));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(walked).toEqual(whole);
      }
    });

    it('still visits a record that a write moved past the cursor of an index-ordered walk', async () => {
      const [first, second, third] = await permits.createMany([1, 2, 3].map((n) => ({ number: `M-${n}`, county: 'Travis', status: 'open' })));
      const page = await permits.find({ sort: 'amount', limit: 2 });
      expect(page.items.map((item) => item.id)).toEqual([first!.id, second!.id]);
      // The cursor's own record now sorts after every record without an amount.
      await permits.update(second!.id, { amount: 5 });
      const next = await permits.find({ sort: 'amount', limit: 2, cursor: page.nextCursor! });
      expect(next.items.map((item) => item.id)).toEqual([third!.id, second!.id]);
    });

    it('refuses an unknown field, a bad value, a bad limit and a foreign cursor with InvalidQueryException', async () => {
      await seed();
      const page = await permits.find({ limit: 2, sort: 'amount' });
      for (const query of [
        { where: { colour: 'red' } },
        { where: { amount: 'ten' } },
        { where: { amount: { between: 1 } } },
        { limit: 0 },
        { limit: 1001 },
        { sort: 'colour' },
        { sort: 5 },
        { cursor: 'garbage' },
        { cursor: 42 },
        { cursor: page.nextCursor!, sort: '-amount' },
        null,
        'amount',
      ]) {
        await expect(permits.find(query as never)).rejects.toBeInstanceOf(InvalidQueryException);
      }
      await expect(permits.findAt(page.items[0]!.id, null as never)).rejects.toBeInstanceOf(InvalidQueryException);
    });

    it('refuses a condition given beside where rather than list every record as if unfiltered', async () => {
      await seed();
      await expect(permits.find({ county: 'Travis' } as never)).rejects.toThrow(
        'unknown query key county: a query takes where, sort, limit, cursor, deleted (conditions go under where)',
      );
    });

    it('finds a record whose long value falls in a range bounded by a shorter string', async () => {
      // 850 bytes per component for a one-field index: the record's value is cut to 824 bytes
      // plus a hash, the bound is kept whole. The record's value is below the bound.
      const value = `${'a'.repeat(824)}${'b'.repeat(100)}`;
      const created = await permits.create({ number: 'P-1', county: value } as Permit);
      // A bound longer than the kept part of a key cannot bound the index range: the filter answers it.
      expect(permits.explain({ where: { county: { lt: `${'a'.repeat(824)}c` } } })).toBe('scan records in order');
      expect((await permits.find({ where: { county: { lt: `${'a'.repeat(824)}c` } } })).items).toEqual([created]);
      expect((await permits.find({ where: { county: { lte: `${'a'.repeat(824)}c` } } })).items).toEqual([created]);
    });

    it('answers an empty in list with no record, and explains that it reads nothing', async () => {
      await permits.create({ number: 'P-1', county: '' } as Permit);
      expect((await permits.find({ where: { county: { in: [] } } })).items).toEqual([]);
      expect((await permits.find({ where: { number: { in: [] }, county: '' } })).items).toEqual([]);
      expect(permits.explain({ where: { county: { in: [] } } })).toBe('nothing to read: an empty in list matches no record');
    });

    it("reads a first page for cursor: null, a last page's nextCursor", async () => {
      await seed();
      const last = await permits.find({ limit: 1000 });
      expect(last.nextCursor).toBeNull();
      expect(await permits.find({ limit: 1000, cursor: last.nextCursor })).toEqual(last);
    });

    it('finds long values holding U+0000 to U+0005 by range and prefix on their index, as a scan does', async () => {
      // Long strings hold those characters escaped in index keys, so a bound holding one is left to the filter.
      const long = await permits.create({ number: 'P-1', county: `A\u0001${'x'.repeat(70)}`, note: `A\u0001${'x'.repeat(70)}` } as Permit);
      const short = await permits.create({ number: 'P-2', county: 'A\u0002', note: 'A\u0002' } as Permit);
      const ids = (items: Array<{ id: string }>) => items.map((item) => item.id).sort();
      for (const [condition, expected] of [
        [{ prefix: 'A\u0001' }, [long.id]],
        [{ lt: 'A\u0003' }, [long.id, short.id].sort()],
        [{ lte: 'A\u0001z' }, [long.id]],
        [{ gt: 'A\u0001' }, [long.id, short.id].sort()],
        [{ gte: 'A\u0002' }, [short.id]],
      ] as const) {
        expect(ids((await permits.find({ where: { note: condition } })).items)).toEqual(expected);
        expect(ids((await permits.find({ where: { county: condition } })).items)).toEqual(expected);
      }
      expect(permits.explain({ where: { county: { prefix: 'A\u0001' } } })).toBe('scan records in order');
      expect(permits.explain({ where: { county: { prefix: 'A' } } })).toBe('index county by county[prefix], then sort');
    });

    it('finds a record whose long value starts with a prefix longer than the kept part of its key', async () => {
      const value = 'a'.repeat(900);
      const created = await permits.create({ number: 'P-1', county: value } as Permit);
      expect(permits.explain({ where: { county: { prefix: 'a'.repeat(830) } } })).toBe('scan records in order');
      expect((await permits.find({ where: { county: { prefix: 'a'.repeat(830) } } })).items).toEqual([created]);
    });

    it('finds a record stored with -0 by a filter on 0', async () => {
      // JSON.parse('-0') is -0; the stored record holds 0.
      const created = await permits.create({ number: 'P-1', county: 'c', amount: -0 } as Permit);
      const stored = (await permits.findById(created.id))!;
      expect((await permits.find({ where: { amount: 0 } })).items).toEqual([stored]);
      expect((await permits.find({ where: { amount: { lt: 1 } } })).items).toEqual([stored]);
      expect(indexKeys('amount')).toEqual([
        indexKeyOf(
          permits.definition.indexes.find((index) => index.name === 'amount')!,
          stored as unknown as Record<string, unknown>,
          stored.id,
        ),
      ]);
    });
  });

  describe('explain', () => {
    it('describes how find would read the store', () => {
      expect(permits.explain()).toBe('scan records in order');
      expect(permits.explain({ where: { county: 'Travis', status: 'open' } })).toBe('index county_status by county= status= in order');
      expect(permits.explain({ where: { county: 'Travis' }, sort: 'status' })).toBe('index county_status by county= in order');
      expect(permits.explain({ where: { number: 'P-1' } })).toBe('index number by number= in order');
      expect(permits.explain({ where: { amount: { gt: 3 } }, sort: '-amount' })).toBe('index amount by amount[gt] in order');
      expect(permits.explain({ where: { note: 'x' }, sort: 'note' })).toBe('scan records, then sort');
    });

    it('refuses what find would refuse', () => {
      expect(() => permits.explain({ where: { colour: 'red' } })).toThrow(InvalidQueryException);
    });
  });
});
