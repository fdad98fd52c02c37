import { Entity, Field } from '../../../lib/index.js';
import type { AuditEntry } from '../../../lib/audit/audit-entry.interface.js';
import { auditFieldsOf, toAuditView } from '../../../lib/http/audit-view.util.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { renamedNamesOf } from '../../../lib/metadata/entity-migrations.util.js';

/** ssn became taxId (hidden) in version 2, taxId became fiscalId in 3; code and label swapped names in 4. */
@Entity({
  name: 'audit-view-clients',
  migrations: [
    { version: 2, rename: { ssn: 'taxId' } },
    { version: 3, rename: { taxId: 'fiscalId' } },
    { version: 4, rename: { code: 'label', label: 'code' } },
  ],
})
class Client {
  @Field() name!: string;
  @Field({ required: false, hidden: true }) fiscalId?: string;
  @Field({ required: false }) code?: string;
  @Field({ required: false }) label?: string;
}

const entry = (changes: AuditEntry['changes']): AuditEntry => ({
  auditId: '01KC0000000000000000000000',
  entity: 'audit-view-clients',
  id: 'r',
  action: 'update',
  at: '2026-12-07T00:00:00.000Z',
  version: 2,
  changes,
});

/** Entries written under earlier declarations name fields as they were then; the rules of now apply to them. */
describe('toAuditView', () => {
  const fields = auditFieldsOf(createEntityDefinition(Client));

  it('follows renames across steps, swaps included', () => {
    expect([...fields.currentNames].map(([was, names]) => [was, [...names]])).toEqual([
      ['ssn', ['fiscalId']],
      ['taxId', ['fiscalId']],
      ['code', ['label']],
      ['label', ['code']],
    ]);
  });

  it('gives a name freed and used again, or swapped then renamed, every name of now it may stand for', () => {
    const renamed = renamedNamesOf([
      { version: 2, rename: { a: 'b', x: 'y', y: 'x' } },
      { version: 3, rename: { a: 'c', y: 'z' } },
      { version: 4, rename: { m: 'n' } },
      { version: 5, remove: ['n'] },
    ]);
    expect([...renamed].map(([was, { names, removed }]) => [was, [...names].sort(), removed])).toEqual([
      ['a', ['b', 'c'], false],
      ['x', ['z'], false],
      ['y', ['x', 'z'], false],
      ['m', [], true],
    ]);
    const names = new Map([...renamed].map(([was, { names }]) => [was, names]));
    const view = toAuditView(entry({ y: { from: null, to: 'S' } }), undefined, { hidden: new Set(['z']), currentNames: names });
    expect(view.changes).toEqual({ y: { from: null, to: '[hidden]' } });
  });

  it('masks a field hidden now under each name it had, keeping null as null', () => {
    const view = toAuditView(entry({ ssn: { from: null, to: 'S-1' }, taxId: { from: 'S-1', to: 'S-2' }, name: { from: 'a', to: 'b' } }), undefined, fields);
    expect(view.changes).toEqual({ ssn: { from: null, to: '[hidden]' }, taxId: { from: '[hidden]', to: '[hidden]' }, name: { from: 'a', to: 'b' } });
  });

  it('leaves out a field the principal may not read under each name it had', () => {
    const view = toAuditView(entry({ code: { from: null, to: 'c' }, name: { from: 'a', to: 'b' } }), new Set(['label']), fields);
    expect(view.changes).toEqual({ name: { from: 'a', to: 'b' } });
    expect(toAuditView(entry({ name: { from: 'a', to: 'b' } }), 'all', fields).changes).toEqual({});
  });
});
