import 'reflect-metadata';
import { Composite } from '../../../lib/decorators/composite.decorator.js';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { Index } from '../../../lib/decorators/index.decorator.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import type { FindQuery } from '../../../lib/query/find-query.interface.js';
import { normalizeQuery } from '../../../lib/query/query-clause.util.js';
import type { QueryPlan } from '../../../lib/query/query-plan.interface.js';
import { explainPlan, planQuery } from '../../../lib/query/query-planner.util.js';

@Entity('permits')
@Composite(['client', 'county', 'status'])
class Permit {
  @Field() @Index() client!: string;
  @Field() county!: string;
  @Field() @Index() status!: string;
  @Field() amount!: number;
  @Field() @Index() issuedOn!: Date;
  @Field({ required: false }) note?: string;
}

const definition = createEntityDefinition(Permit);

function plan(query: FindQuery): QueryPlan {
  const normalized = normalizeQuery(definition, query);
  return planQuery(definition, normalized.clauses, normalized.sort);
}

const explain = (query: FindQuery) => explainPlan(plan(query));

function indexPlan(query: FindQuery): Extract<QueryPlan, { kind: 'index' }> {
  const result = plan(query);
  if (result.kind !== 'index') throw new Error(`expected an index plan, got ${explainPlan(result)}`);
  return result;
}

describe('planQuery', () => {
  it('answers equality on the first fields of a @Composite from it rather than from a single-field index', () => {
    const result = indexPlan({ where: { client: 'acme', county: 'Travis' } });
    expect(result.index.name).toBe('client_county_status');
    expect(result.equalities).toEqual(['acme', 'Travis']);
    expect(result.range).toEqual([]);
  });

  it('prefers the longest equality prefix whatever order the filters are written in', () => {
    const result = indexPlan({ where: { status: 'open', county: 'Travis', client: 'acme' } });
    expect(result.index.name).toBe('client_county_status');
    expect(result.equalities).toEqual(['acme', 'Travis', 'open']);
    expect(result.ordered).toBe(true);
  });

  it('merges the runs under a composite prefix to answer in id order without sorting', () => {
    const result = indexPlan({ where: { client: 'acme', county: 'Travis' } });
    expect(result.mergeRuns).toBe(true);
    expect(result.ordered).toBe(false);
    expect(explain({ where: { client: 'acme', county: 'Travis' } })).toBe('index client_county_status by client= county=, merging its runs in id order');
    expect(indexPlan({ where: { client: 'acme', county: 'Travis' }, sort: '-id' }).mergeRuns).toBe(true);
    expect(indexPlan({ where: { client: 'acme', county: 'Travis' }, sort: 'amount' }).mergeRuns).toBe(false);
    expect(indexPlan({ where: { client: 'acme', county: 'Travis', status: 'open' } }).mergeRuns).toBe(false);
  });

  it('leaves an id bound longer than any id to the filter rather than the key range', () => {
    expect(explain({ where: { id: { prefix: 'a'.repeat(5000) } } })).toBe('scan records in order');
    expect(explain({ where: { id: { prefix: '01J0' } } })).toBe('scan records by id[prefix] in order');
  });

  it('keeps equality on a field that is not next in the composite out of its prefix', () => {
    // client and status, but no county: the composite only gets client=, like the client index.
    const result = indexPlan({ where: { client: 'acme', status: 'open' } });
    expect(result.equalities).toHaveLength(1);
    expect(['client', 'status']).toContain(result.index.fields[0]);
  });

  it('uses a range on the field after the equality prefix as key bounds', () => {
    const result = indexPlan({ where: { client: 'acme', county: { gte: 'M', lt: 'T' } } });
    expect(result.index.name).toBe('client_county_status');
    expect(result.equalities).toEqual(['acme']);
    expect(result.range.map((clause) => `${clause.field}[${clause.op}]`)).toEqual(['county[gte]', 'county[lt]']);
  });

  it('uses a prefix filter on the next field as key bounds', () => {
    const result = indexPlan({ where: { client: 'acme', county: { prefix: 'Tr' } } });
    expect(result.index.name).toBe('client_county_status');
    expect(result.range).toEqual([{ field: 'county', op: 'prefix', value: 'Tr' }]);
  });

  it('uses a range on a single-field index', () => {
    const result = indexPlan({ where: { issuedOn: { gte: '2024-01-01' } } });
    expect(result.index.name).toBe('issuedOn');
    expect(result.equalities).toEqual([]);
    expect(result.range).toEqual([{ field: 'issuedOn', op: 'gte', value: '2024-01-01T00:00:00.000Z' }]);
  });

  it('does not bound a range by a string too long to appear whole in a key', () => {
    const result = plan({ where: { client: { lt: 'x'.repeat(2000) } } });
    expect(result.kind).toBe('scan');
  });

  it('gives an ordered plan when the sort field follows the equality prefix', () => {
    const result = indexPlan({ where: { client: 'acme', county: 'Travis' }, sort: '-status' });
    expect(result.index.name).toBe('client_county_status');
    expect(result.ordered).toBe(true);
  });

  it('gives an ordered plan for a sort on an indexed field without filters', () => {
    const result = indexPlan({ sort: 'status' });
    expect(result.index.name).toBe('status');
    expect(result.ordered).toBe(true);
  });

  it('gives an unordered plan when the sort field is not next in the index', () => {
    const result = indexPlan({ where: { client: 'acme', county: 'Travis' }, sort: 'amount' });
    expect(result.index.name).toBe('client_county_status');
    expect(result.ordered).toBe(false);
  });

  it('scans when no index helps', () => {
    expect(plan({ where: { amount: { gt: 5 } } })).toEqual({ kind: 'scan', range: [], ordered: true });
    expect(plan({ where: { note: 'x' }, sort: 'amount' })).toEqual({ kind: 'scan', range: [], ordered: false });
    expect(plan({ where: { client: { ne: 'acme' } } }).kind).toBe('scan');
    // More values than ranges worth reading one by one.
    expect(plan({ where: { client: { in: Array.from({ length: 101 }, (_, i) => `c${i}`) } } }).kind).toBe('scan');
  });

  it('reads one key range per value of an `in` on the field after the equalities, merged in id order', () => {
    const single = indexPlan({ where: { status: { in: ['open', 'closed', 'open'] } } });
    expect(single).toMatchObject({ equalities: [], alternatives: ['open', 'closed'], range: [], ordered: false, mergeRuns: true });
    expect(explain({ where: { status: { in: ['open', 'closed'] } } })).toBe('index status by status[in 2], merging its runs in id order');
    // After an equality prefix of a composite, and sorted otherwise than by id: collected, then sorted.
    const composite = indexPlan({ where: { client: 'acme', county: { in: ['Travis', 'Hays'] } }, sort: 'amount' });
    expect(composite).toMatchObject({ equalities: ['acme'], alternatives: ['Travis', 'Hays'], mergeRuns: false });
    expect(explain({ where: { client: 'acme', county: { in: ['Travis', 'Hays'] } }, sort: 'amount' })).toBe(
      'index client_county_status by client= county[in 2], then sort',
    );
    // One more equality still counts for more.
    expect(indexPlan({ where: { client: 'acme', county: 'Travis', status: { in: ['a', 'b'] } } }).equalities).toEqual(['acme', 'Travis']);
  });

  it('scans by id range for a filter on id, even beside an indexed equality', () => {
    expect(plan({ where: { id: { gte: '01J0', lt: '01J9' } } })).toEqual({
      kind: 'scan',
      range: [
        { field: 'id', op: 'gte', value: '01J0' },
        { field: 'id', op: 'lt', value: '01J9' },
      ],
      ordered: true,
    });
    const byId = plan({ where: { id: '01J0', client: 'acme' } });
    expect(byId.kind).toBe('scan');
    expect(byId.range).toEqual([{ field: 'id', op: 'eq', value: '01J0' }]);
    // An equality no index leads with leaves the walk by ids.
    expect(plan({ where: { id: { gt: '01J0' }, county: 'Travis' } }).kind).toBe('scan');
  });

  it('bounds the run of an equality on every field of an index by a range of ids', () => {
    const result = indexPlan({ where: { status: 'open', id: { gt: '01J0', lte: '01J9' } } });
    expect(result).toMatchObject({
      equalities: ['open'],
      range: [],
      idRange: [
        { field: 'id', op: 'gt', value: '01J0' },
        { field: 'id', op: 'lte', value: '01J9' },
      ],
      ordered: true,
    });
    expect(result.index.name).toBe('status');
    expect(explain({ where: { status: 'open', id: { gt: '01J0' } } })).toBe('index status by status= id[gt] in order');
    // A bound no id can be may not fit in an index key: it bounds the walk over the records instead.
    expect(explain({ where: { status: 'open', id: { gt: '€'.repeat(200) } } })).toBe('scan records by id[gt] in order');
    expect(explain({ where: { client: 'acme', county: 'Travis', status: 'open', id: { prefix: '01J' } }, sort: 'amount' })).toBe(
      'index client_county_status by client= county= status= id[prefix], then sort',
    );
  });

  it('scans in id order for a query with no filter and the default sort', () => {
    expect(plan({})).toEqual({ kind: 'scan', range: [], ordered: true });
  });
});

describe('explainPlan', () => {
  it('describes each plan in one line', () => {
    expect(explain({})).toMatchInlineSnapshot(`"scan records in order"`);
    expect(explain({ sort: '-amount' })).toMatchInlineSnapshot(`"scan records, then sort"`);
    expect(explain({ where: { id: { gt: '01J0' } } })).toMatchInlineSnapshot(`"scan records by id[gt] in order"`);
    expect(explain({ where: { client: 'acme' } })).toMatchInlineSnapshot(`"index client by client= in order"`);
    expect(explain({ where: { client: 'acme', county: 'Travis' } })).toMatchInlineSnapshot(
      `"index client_county_status by client= county=, merging its runs in id order"`,
    );
    expect(explain({ where: { client: 'acme', county: 'Travis' }, sort: 'status' })).toMatchInlineSnapshot(
      `"index client_county_status by client= county= in order"`,
    );
    expect(explain({ where: { client: 'acme', county: 'Travis', status: 'open' } })).toMatchInlineSnapshot(
      `"index client_county_status by client= county= status= in order"`,
    );
    expect(explain({ where: { client: 'acme', county: { prefix: 'Tr' } } })).toMatchInlineSnapshot(
      `"index client_county_status by client= county[prefix], then sort"`,
    );
    expect(explain({ where: { issuedOn: { gte: '2024-01-01', lt: '2025-01-01' } }, sort: '-issuedOn' })).toMatchInlineSnapshot(
      `"index issuedOn by issuedOn[gte] issuedOn[lt] in order"`,
    );
    expect(explain({ sort: 'status' })).toMatchInlineSnapshot(`"index status in order"`);
  });
});
