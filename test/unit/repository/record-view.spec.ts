import { Entity, Field } from '../../../lib/index.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { toDeclaredRecord, toRecordView } from '../../../lib/repository/record-view.util.js';
import type { StoredRecord } from '../../../lib/storage/entity-event.interface.js';

@Entity('view-cards')
class Card {
  @Field() title!: string;
  @Field({ required: false }) note?: string;
  @Field({ required: false, hidden: true }) secret?: string;
  @Field({ required: false }) price?: number;
}

const definition = createEntityDefinition(Card);
const managed = { id: '01J0000000000000000000000A', version: 3, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-02T00:00:00.000Z' };

function stored(fields: Record<string, unknown>): StoredRecord {
  // Stored key order differs from the declared one on purpose: views put managed fields first, then declared order.
  return { ...fields, ...managed } as unknown as StoredRecord;
}

describe('record views', () => {
  const full = stored({ price: 12, secret: 's3', note: 'n', title: 'T', retired: 'left by a removed field' });

  it('keeps managed fields first, then declared fields in declared order, without hidden or undeclared ones', () => {
    const view = toRecordView(definition, full);
    expect(Object.keys(view)).toEqual(['id', 'version', 'createdAt', 'updatedAt', 'title', 'note', 'price']);
    expect(view).toStrictEqual({ ...managed, title: 'T', note: 'n', price: 12 });
  });

  it('gives trusted code hidden fields too, still not undeclared ones', () => {
    expect(toDeclaredRecord(definition, full)).toStrictEqual({ ...managed, title: 'T', note: 'n', secret: 's3', price: 12 });
  });

  it('leaves out fields a record does not set, as absent keys rather than undefined values', () => {
    const view = toRecordView(definition, stored({ title: 'only a title', price: 0 }));
    expect(Object.keys(view)).toEqual(['id', 'version', 'createdAt', 'updatedAt', 'title', 'price']);
    expect(toDeclaredRecord(definition, stored({ title: 'x' }))).toStrictEqual({ ...managed, title: 'x' });
  });

  it('leaves out the fields a principal may not read, per set of such fields', () => {
    expect(toRecordView(definition, full, new Set(['price']))).toStrictEqual({ ...managed, title: 'T', note: 'n' });
    expect(toRecordView(definition, full, new Set(['note', 'title']))).toStrictEqual({ ...managed, price: 12 });
    // A set with the same fields in another order shapes alike; the empty set keeps every readable field.
    expect(toRecordView(definition, full, new Set(['title', 'note']))).toStrictEqual({ ...managed, price: 12 });
    expect(toRecordView(definition, full, new Set())).toStrictEqual({ ...managed, title: 'T', note: 'n', price: 12 });
  });

  it('returns a new object each time, so callers may change what they get', () => {
    const first = toRecordView(definition, full);
    first.title = 'changed';
    expect(toRecordView(definition, full).title).toBe('T');
    expect(full.title).toBe('T');
  });
});
