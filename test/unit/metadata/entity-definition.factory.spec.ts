import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { IsIn, Max, MaxLength, Min } from 'class-validator';
import { Audited } from '../../../lib/decorators/audited.decorator.js';
import { Cached } from '../../../lib/decorators/cached.decorator.js';
import { Composite } from '../../../lib/decorators/composite.decorator.js';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { Historize } from '../../../lib/decorators/historize.decorator.js';
import { Index } from '../../../lib/decorators/index.decorator.js';
import { Permission } from '../../../lib/decorators/permission.decorator.js';
import { Reference } from '../../../lib/decorators/reference.decorator.js';
import type { FieldType } from '../../../lib/metadata/decorator-options.interface.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { EntityMetadataException } from '../../../lib/metadata/entity-metadata.exception.js';

/** Runs `read` and returns the EntityMetadataException it throws (failing the test if it throws nothing else). */
function metadataError(read: () => unknown): EntityMetadataException {
  let caught: unknown;
  try {
    read();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(EntityMetadataException);
  return caught as EntityMetadataException;
}

describe('createEntityDefinition', () => {
  describe('with a valid class', () => {
    @Entity({ name: 'permits', path: '/v1/permits/' })
    @Composite(['client', 'county', 'status'])
    @Composite(['county', 'issuedOn'], { name: 'byCounty', unique: true })
    @Historize({ versions: 5 })
    @Permission({ read: 'permits:read', create: 'permits:write', owner: 'createdBy' })
    @Audited()
    @Cached({ ttl: 5000 })
    class Permit {
      @Field({ description: 'permit number', example: 'P-1' })
      @Index({ unique: true })
      number!: string;

      @Field() client!: string;

      @Field({ default: 'Travis' }) county!: string;

      @Field({ default: 'open' })
      @IsIn(['open', 'closed'])
      @Historize('full')
      @Index({ name: 'byStatus' })
      status!: string;

      @Field({ required: false })
      @Min(0)
      @Max(100)
      @Historize('never')
      fee?: number;

      @Field({ immutable: true }) issuedOn!: Date;

      @Field({ hidden: true }) @MaxLength(20) secret!: string;

      @Field({ required: false }) paid?: boolean;

      @Field({ required: false, type: 'string' }) reference?: string | number;

      @Field() @Permission({ read: 'permits:notes', write: 'permits:notes:write' }) notes!: string;

      @Field() createdBy!: string;
    }

    const definition = createEntityDefinition(Permit);

    it('reads the entity name, target and normalized route path', () => {
      expect(definition.target).toBe(Permit);
      expect(definition.name).toBe('permits');
      expect(definition.path).toBe('v1/permits');
    });

    it('lists every @Field in declaration order with its type taken from design:type', () => {
      expect(definition.fields.map((field) => [field.name, field.type])).toEqual([
        ['number', 'string'],
        ['client', 'string'],
        ['county', 'string'],
        ['status', 'string'],
        ['fee', 'number'],
        ['issuedOn', 'date'],
        ['secret', 'string'],
        ['paid', 'boolean'],
        ['reference', 'string'],
        ['notes', 'string'],
        ['createdBy', 'string'],
      ]);
      expect([...definition.fieldsByName.keys()]).toEqual(definition.fields.map((field) => field.name));
      expect(definition.fieldsByName.get('fee')).toBe(definition.fields[4]);
    });

    it('applies the documented option defaults and keeps the given options', () => {
      expect(definition.fieldsByName.get('client')).toEqual({
        name: 'client',
        type: 'string',
        required: true,
        default: undefined,
        immutable: false,
        hidden: false,
        description: undefined,
        example: undefined,
        history: { versions: 5 },
        permission: undefined,
        constraints: {},
      });
      expect(definition.fieldsByName.get('number')).toMatchObject({ description: 'permit number', example: 'P-1' });
      expect(definition.fieldsByName.get('county')).toMatchObject({ default: 'Travis', required: true });
      expect(definition.fieldsByName.get('fee')).toMatchObject({ required: false });
      expect(definition.fieldsByName.get('issuedOn')).toMatchObject({ immutable: true, type: 'date' });
      expect(definition.fieldsByName.get('secret')).toMatchObject({ hidden: true });
    });

    it('surfaces the class-validator constraints OpenAPI can express', () => {
      expect(definition.fieldsByName.get('status')!.constraints).toEqual({ enum: ['open', 'closed'] });
      expect(definition.fieldsByName.get('fee')!.constraints).toEqual({ minimum: 0, maximum: 100 });
      expect(definition.fieldsByName.get('secret')!.constraints).toEqual({ maxLength: 20 });
    });

    it('resolves history from the property, then the class default', () => {
      expect(definition.fieldsByName.get('status')!.history).toBe('full');
      expect(definition.fieldsByName.get('fee')!.history).toBe('never');
      expect(definition.fieldsByName.get('client')!.history).toEqual({ versions: 5 });
    });

    it('reads @Index and every @Composite as indexes with their names and uniqueness', () => {
      const byName = new Map(definition.indexes.map((index) => [index.name, index]));
      expect(byName.size).toBe(4);
      expect(byName.get('number')).toEqual({ name: 'number', fields: ['number'], unique: true });
      expect(byName.get('byStatus')).toEqual({ name: 'byStatus', fields: ['status'], unique: false });
      expect(byName.get('client_county_status')).toEqual({
        name: 'client_county_status',
        fields: ['client', 'county', 'status'],
        unique: false,
      });
      expect(byName.get('byCounty')).toEqual({ name: 'byCounty', fields: ['county', 'issuedOn'], unique: true });
    });

    it('reads entity and field permissions', () => {
      expect(definition.permissions).toEqual({ read: 'permits:read', create: 'permits:write', owner: 'createdBy' });
      expect(definition.fieldsByName.get('notes')!.permission).toEqual({ read: 'permits:notes', write: 'permits:notes:write' });
    });

    it('reads @Audited and @Cached', () => {
      expect(definition.audited).toBe(true);
      expect(definition.cached).toEqual({ ttl: 5000 });
    });

    it('freezes the definition and everything in it', () => {
      expect(Object.isFrozen(definition)).toBe(true);
      expect(Object.isFrozen(definition.fields)).toBe(true);
      for (const field of definition.fields) {
        expect(Object.isFrozen(field)).toBe(true);
        expect(Object.isFrozen(field.constraints)).toBe(true);
      }
      expect(Object.isFrozen(definition.fieldsByName.get('notes')!.permission)).toBe(true);
      expect(Object.isFrozen(definition.indexes)).toBe(true);
      for (const index of definition.indexes) {
        expect(Object.isFrozen(index)).toBe(true);
        expect(Object.isFrozen(index.fields)).toBe(true);
      }
      expect(Object.isFrozen(definition.permissions)).toBe(true);
      expect(Object.isFrozen(definition.cached)).toBe(true);
    });

    it('does not let a caller change the definition through its arrays', () => {
      expect(() => (definition.fields as unknown as unknown[]).push({})).toThrow(TypeError);
      expect(() => (definition.indexes[0]!.fields as unknown as string[]).push('x')).toThrow(TypeError);
    });
  });

  describe('defaults of a minimal class', () => {
    @Entity('notes')
    class Note {
      @Field() text!: string;
    }

    const definition = createEntityDefinition(Note);

    it("uses the name as the path, 'never' history, no indexes, no permissions, not audited, not cached", () => {
      expect(definition.path).toBe('notes');
      expect(definition.fields[0]!.history).toBe('never');
      expect(definition.indexes).toEqual([]);
      expect(definition.permissions).toBeUndefined();
      expect(definition.audited).toBe(false);
      expect(definition.cached).toBeUndefined();
    });

    it('names a default @Composite after its fields joined by "_"', () => {
      @Entity('pairs')
      @Composite(['a', 'b'])
      class Pair {
        @Field() a!: string;
        @Field() b!: number;
      }
      expect(createEntityDefinition(Pair).indexes).toEqual([{ name: 'a_b', fields: ['a', 'b'], unique: false }]);
    });

    it('reads @Cached() without options as cached with no ttl', () => {
      @Entity('cachedNotes')
      @Cached()
      class CachedNote {
        @Field() text!: string;
      }
      expect(createEntityDefinition(CachedNote).cached).toEqual({});
    });
  });

  describe('with wrong metadata', () => {
    it('names the class and the unknown field a @Composite refers to', () => {
      @Entity('composites')
      @Composite(['client', 'countyy'])
      class BadComposite {
        @Field() client!: string;
        @Field() county!: string;
      }
      const error = metadataError(() => createEntityDefinition(BadComposite));
      expect(error.message).toContain('BadComposite');
      expect(error.message).toContain('countyy');
    });

    it.each(['id', 'version', 'createdAt', 'updatedAt'])('names the class and the reserved field %s', (reserved) => {
      @Entity('reserved')
      class Reserved {
        @Field() title!: string;
      }
      // Decorate the reserved property by hand so one test covers every reserved name.
      Reflect.defineMetadata('design:type', String, Reserved.prototype, reserved);
      Field()(Reserved.prototype, reserved);
      const error = metadataError(() => createEntityDefinition(Reserved));
      expect(error.message).toContain('Reserved');
      expect(error.message).toContain(reserved);
      expect(error.message).toMatch(/reserved/);
    });

    it('reserves deletedAt on an entity with soft delete only, and takes softDelete as a boolean', () => {
      @Entity({ name: 'soft-cards', softDelete: true })
      class SoftCard {
        @Field() deletedAt!: string;
      }
      expect(metadataError(() => createEntityDefinition(SoftCard)).message).toMatch(/^SoftCard\.deletedAt: .*reserved on an entity with softDelete/);
      @Entity('hard-cards')
      class HardCard {
        @Field() deletedAt!: string;
      }
      expect(createEntityDefinition(HardCard).softDelete).toBe(false);
      @Entity({ name: 'odd-cards', softDelete: 'yes' as never })
      class OddCard {
        @Field() title!: string;
      }
      expect(metadataError(() => createEntityDefinition(OddCard)).message).toMatch(/^OddCard: @Entity softDelete must be true or false, not "yes"/);
      @Entity({ name: 'kept-cards', softDelete: true })
      class KeptCard {
        @Field() title!: string;
      }
      expect(createEntityDefinition(KeptCard).softDelete).toBe(true);
    });

    it('names the class and a field declared with the reserved name id', () => {
      @Entity('withId')
      class WithId {
        @Field() id!: string;
      }
      const error = metadataError(() => createEntityDefinition(WithId));
      expect(error.message).toMatch(/^WithId\.id: /);
    });

    it('names the class and an array-typed field', () => {
      @Entity('tagged')
      class Tagged {
        @Field() title!: string;
        @Field() tags!: string[];
      }
      const error = metadataError(() => createEntityDefinition(Tagged));
      expect(error.message).toContain('Tagged');
      expect(error.message).toContain('tags');
      expect(error.message).toMatch(/no usable type/);
    });

    it('names the class and an object-typed field', () => {
      @Entity('nested')
      class Nested {
        @Field() meta!: { a: number };
      }
      const error = metadataError(() => createEntityDefinition(Nested));
      expect(error.message).toContain('Nested');
      expect(error.message).toContain('meta');
    });

    it('names the class and a field whose type is a union of different types', () => {
      @Entity('unions')
      class Union {
        @Field() value!: string | number;
      }
      const error = metadataError(() => createEntityDefinition(Union));
      expect(error.message).toContain('Union');
      expect(error.message).toContain('value');
    });

    it('accepts a union-typed field when @Field({ type }) says which type it is', () => {
      @Entity('typedUnions')
      class TypedUnion {
        @Field({ type: 'number' }) value!: string | number;
      }
      expect(createEntityDefinition(TypedUnion).fields[0]!.type).toBe('number');
    });

    it('names the class and a field whose @Field({ type }) is not a supported type', () => {
      @Entity('badTypes')
      class BadType {
        @Field({ type: 'object' as never }) value!: string;
      }
      const error = metadataError(() => createEntityDefinition(BadType));
      expect(error.message).toContain('BadType');
      expect(error.message).toContain('value');
    });

    it('names the class and a property that has @Index without @Field', () => {
      @Entity('indexOnly')
      class IndexOnly {
        @Field() title!: string;
        @Index() code!: string;
      }
      const error = metadataError(() => createEntityDefinition(IndexOnly));
      expect(error.message).toContain('IndexOnly');
      expect(error.message).toContain('code');
      expect(error.message).toContain('@Index');
    });

    it('names the class and a property that has @Historize without @Field', () => {
      @Entity('historizeOnly')
      class HistorizeOnly {
        @Field() title!: string;
        @Historize('full') code!: string;
      }
      const error = metadataError(() => createEntityDefinition(HistorizeOnly));
      expect(error.message).toContain('HistorizeOnly');
      expect(error.message).toContain('code');
    });

    it('names a class that has no @Entity', () => {
      class NotAnEntity {
        @Field() title!: string;
      }
      const error = metadataError(() => createEntityDefinition(NotAnEntity));
      expect(error.message).toContain('NotAnEntity');
      expect(error.message).toContain('@Entity');
    });

    it('names a class that declares no field', () => {
      @Entity('empty')
      class Empty {}
      const error = metadataError(() => createEntityDefinition(Empty));
      expect(error.message).toContain('Empty');
    });

    it('names the class and the field of a property @Historize({ versions: 0 })', () => {
      @Entity('badHistory')
      class BadHistory {
        @Field() @Historize({ versions: 0 }) title!: string;
      }
      const error = metadataError(() => createEntityDefinition(BadHistory));
      expect(error.message).toContain('BadHistory');
      expect(error.message).toContain('title');
      expect(error.message).toContain('versions');
    });

    it.each([{ versions: -1 }, { versions: 1.5 }, { versions: '3' }, 'sometimes'])('refuses the history policy %j', (policy) => {
      @Entity('badHistories')
      class BadHistories {
        @Field() @Historize(policy as never) title!: string;
      }
      const error = metadataError(() => createEntityDefinition(BadHistories));
      expect(error.message).toContain('BadHistories.title');
    });

    it('names the class of a class-level @Historize({ versions: 0 })', () => {
      @Entity('badClassHistory')
      @Historize({ versions: 0 })
      class BadClassHistory {
        @Field() title!: string;
      }
      const error = metadataError(() => createEntityDefinition(BadClassHistory));
      expect(error.message).toContain('BadClassHistory');
      expect(error.message).toContain('versions');
    });

    it('names the class, the index name and a field of two @Index with the same name', () => {
      @Entity('dupIndexes')
      class DuplicateIndexes {
        @Field() @Index({ name: 'lookup' }) code!: string;
        @Field() @Index({ name: 'lookup' }) title!: string;
      }
      const error = metadataError(() => createEntityDefinition(DuplicateIndexes));
      expect(error.message).toContain('DuplicateIndexes');
      expect(error.message).toContain('lookup');
      // The offending declarations sit on fields: the message should point at one of them.
      expect(error.message).toMatch(/code|title/);
    });

    it('names the class and the index name of an @Index and a @Composite with the same name', () => {
      @Entity('dupComposite')
      @Composite(['code', 'title'], { name: 'code' })
      class DuplicateComposite {
        @Field() @Index() code!: string;
        @Field() title!: string;
      }
      const error = metadataError(() => createEntityDefinition(DuplicateComposite));
      expect(error.message).toContain('DuplicateComposite');
      expect(error.message).toContain('"code"');
    });

    it('names the class of a @Composite that lists a field twice', () => {
      @Entity('twice')
      @Composite(['code', 'code'])
      class Twice {
        @Field() code!: string;
      }
      const error = metadataError(() => createEntityDefinition(Twice));
      expect(error.message).toContain('Twice');
      expect(error.message).toContain('code');
    });

    it('names the class of a @Composite with no field', () => {
      @Entity('noFields')
      @Composite([])
      class NoFields {
        @Field() code!: string;
      }
      const error = metadataError(() => createEntityDefinition(NoFields));
      expect(error.message).toContain('NoFields');
    });

    it.each(['', '1permits', 'per mits', 'permits/v1', 'ü', 'x'.repeat(65)])('names the class of the invalid entity name %j', (name) => {
      @Entity(name)
      class BadName {
        @Field() title!: string;
      }
      const error = metadataError(() => createEntityDefinition(BadName));
      expect(error.message).toContain('BadName');
      expect(error.message).toContain('@Entity name');
    });

    it('names the class of an invalid route path', () => {
      @Entity({ name: 'paths', path: 'a//b' })
      class BadPath {
        @Field() title!: string;
      }
      const error = metadataError(() => createEntityDefinition(BadPath));
      expect(error.message).toContain('BadPath');
      expect(error.message).toContain('path');
    });

    it('names the class and the field of an @Index with an invalid name', () => {
      @Entity('badIndexName')
      class BadIndexName {
        @Field() @Index({ name: 'no spaces' }) title!: string;
      }
      const error = metadataError(() => createEntityDefinition(BadIndexName));
      expect(error.message).toContain('BadIndexName');
      expect(error.message).toContain('no spaces');
      expect(error.message).toContain('title');
    });

    it('names the class and the field an @Permission owner refers to when it is not a string @Field', () => {
      @Entity('owners')
      @Permission({ owner: 'ownerId' })
      class Owned {
        @Field() ownerId!: number;
      }
      const error = metadataError(() => createEntityDefinition(Owned));
      expect(error.message).toContain('Owned.ownerId');
    });

    it('names the class of an unknown entity permission rule', () => {
      @Entity('rules')
      @Permission({ reed: 'x' } as never)
      class Rules {
        @Field() title!: string;
      }
      const error = metadataError(() => createEntityDefinition(Rules));
      expect(error.message).toContain('Rules');
      expect(error.message).toContain('reed');
    });

    it('names the class and the field of an unknown field permission rule', () => {
      @Entity('fieldRules')
      class FieldRules {
        @Field() @Permission({ delete: 'x' }) title!: string;
      }
      const error = metadataError(() => createEntityDefinition(FieldRules));
      expect(error.message).toContain('FieldRules.title');
      expect(error.message).toContain('delete');
    });
  });

  describe('@Permission rules of null', () => {
    it('keeps a null entity rule, which opens the action, apart from a missing one', () => {
      @Entity('opened')
      @Permission({ read: null, create: null, update: null, delete: null, history: null, audit: null })
      class Opened {
        @Field() title!: string;
      }
      expect(createEntityDefinition(Opened).permissions).toEqual({ read: null, create: null, update: null, delete: null, history: null, audit: null });
    });

    it.each([
      ['admin', { admin: null }],
      ['owner', { owner: null }],
    ])('names the class of an entity rule "%s" set to null', (rule, rules) => {
      @Entity('nulled')
      @Permission(rules as never)
      class Nulled {
        @Field() title!: string;
      }
      const error = metadataError(() => createEntityDefinition(Nulled));
      expect(error.message).toContain('Nulled');
      expect(error.message).toContain(`"${rule}"`);
    });

    it('names the class and the field of a field rule set to null', () => {
      @Entity('nulledField')
      class NulledField {
        @Field() @Permission({ read: null } as never) title!: string;
      }
      const error = metadataError(() => createEntityDefinition(NulledField));
      expect(error.message).toContain('NulledField.title');
      expect(error.message).toContain('"read"');
    });
  });

  describe('unique indexes over fields a caller may not read', () => {
    it('names the class and the field of @Index({ unique: true }) on a field with a read rule', () => {
      @Entity('badges')
      class Badge {
        @Field() @Index({ unique: true }) @Permission({ read: 'badges:secret' }) serial!: string;
      }
      const error = metadataError(() => createEntityDefinition(Badge));
      expect(error.message).toContain('Badge.serial');
      expect(error.message).toContain('409');
    });

    it('names the class and the field of @Index({ unique: true }) on a hidden field', () => {
      @Entity('tokens')
      class Token {
        @Field({ hidden: true }) @Index({ unique: true }) digest!: string;
      }
      const error = metadataError(() => createEntityDefinition(Token));
      expect(error.message).toContain('Token.digest');
      expect(error.message).toContain('hidden');
    });

    it('names the class and the unreadable field of a unique @Composite', () => {
      @Entity('seats')
      @Composite(['row', 'holder'], { unique: true })
      class Seat {
        @Field() row!: string;
        @Field() @Permission({ read: 'seats:holders' }) holder!: string;
      }
      const error = metadataError(() => createEntityDefinition(Seat));
      expect(error.message).toContain('Seat.holder');
      expect(error.message).toContain('@Composite');
    });

    it('accepts such fields in non-unique indexes, and unique indexes over fields with a write rule only', () => {
      @Entity('ledgerLines')
      @Composite(['account', 'memo'])
      class LedgerLine {
        @Field() @Index({ unique: true }) @Permission({ write: 'lines:admin' }) account!: string;
        @Field() @Index() @Permission({ read: 'lines:memo' }) memo!: string;
        @Field({ hidden: true }) @Index() digest!: string;
      }
      expect(createEntityDefinition(LedgerLine).indexes.map((index) => [index.name, index.unique])).toEqual([
        ['account', true],
        ['memo', false],
        ['digest', false],
        ['account_memo', false],
      ]);
    });
  });

  describe('@Field defaults', () => {
    it('accepts a default of the field type: a string, a finite number, a boolean, a Date or an ISO-8601 date string', () => {
      @Entity('defaults')
      class Defaults {
        @Field({ default: 'draft' }) status!: string;
        @Field({ default: 0 }) count!: number;
        @Field({ default: false }) done!: boolean;
        @Field({ default: new Date('2026-01-01T00:00:00.000Z') }) since!: Date;
        @Field({ default: '2026-01-01' }) until!: Date;
      }
      expect(createEntityDefinition(Defaults).fields.map((field) => field.default)).toEqual([
        'draft',
        0,
        false,
        new Date('2026-01-01T00:00:00.000Z'),
        '2026-01-01',
      ]);
    });

    it("names the class and the field of a default whose type is not the property's", () => {
      @Entity('counters')
      class Counter {
        @Field({ default: 'x' }) count!: number;
      }
      const error = metadataError(() => createEntityDefinition(Counter));
      expect(error.message).toContain('Counter.count');
      expect(error.message).toContain('"x"');
      expect(error.message).toContain('number');
    });

    it.each<[string, FieldType, unknown]>([
      ['NaN on a number field', 'number', Number.NaN],
      ['Infinity on a number field', 'number', Number.POSITIVE_INFINITY],
      ['a number on a string field', 'string', 1],
      ['a lone surrogate on a string field', 'string', '\ud800'],
      ['a string on a boolean field', 'boolean', 'true'],
      ['a number on a date field', 'date', 0],
      ['a string that is not ISO-8601 on a date field', 'date', 'tomorrow'],
      ['an invalid Date on a date field', 'date', new Date('nope')],
      ['a Date past the year 9999 on a date field', 'date', new Date(Date.UTC(10000, 0, 1))],
      ['null on a string field', 'string', null],
      ['an array on a string field', 'string', ['a']],
      ['an object on a number field', 'number', { value: 1 }],
    ])('names the class and the field of %s', (_what, type, value) => {
      @Entity('wrongDefaults')
      class WrongDefault {
        @Field({ type, default: value }) count!: unknown;
      }
      const error = metadataError(() => createEntityDefinition(WrongDefault));
      expect(error.message).toContain('WrongDefault.count');
      expect(error.message).toContain('default');
    });
  });

  describe('decorator order and inheritance', () => {
    it('gives the same definition whatever order the decorators stack in', () => {
      @Entity('ordered')
      @Composite(['a', 'b'])
      @Historize('full')
      @Audited()
      class InOrder {
        @Field({ required: false }) @Index({ unique: true }) @Historize('never') @Permission({ write: 'w' }) a?: string;
        @Field() b!: number;
      }

      @Audited()
      @Historize('full')
      @Composite(['a', 'b'])
      @Entity('ordered')
      class Reversed {
        @Permission({ write: 'w' }) @Historize('never') @Index({ unique: true }) @Field({ required: false }) a?: string;
        @Field() b!: number;
      }

      const { target: _first, ...first } = createEntityDefinition(InOrder);
      const { target: _second, ...second } = createEntityDefinition(Reversed);
      expect(second).toEqual(first);
      expect(first.fields[0]).toMatchObject({ required: false, history: 'never', permission: { write: 'w' } });
      expect(first.fields[1]!.history).toBe('full');
      expect(first.indexes.map((index) => index.name).sort()).toEqual(['a', 'a_b']);
    });

    it('lets a subclass inherit and extend fields, indexes and composites without changing its parent', () => {
      @Entity('vehicles')
      @Composite(['make', 'year'])
      @Historize('full')
      class Vehicle {
        @Field() @Index() make!: string;
        @Field() year!: number;
      }

      @Entity('trucks')
      @Composite(['make', 'axles'])
      @Audited()
      class Truck extends Vehicle {
        @Field() @Historize({ versions: 2 }) axles!: number;
        // Re-declared with an index the parent does not have.
        @Index({ unique: true }) override year!: number;
      }

      const parentBefore = createEntityDefinition(Vehicle);
      const child = createEntityDefinition(Truck);
      const parentAfter = createEntityDefinition(Vehicle);

      expect(child.name).toBe('trucks');
      expect(child.fields.map((field) => [field.name, field.type, field.history])).toEqual([
        ['make', 'string', 'full'],
        ['year', 'number', 'full'],
        ['axles', 'number', { versions: 2 }],
      ]);
      expect(child.indexes.map((index) => `${index.name}:${index.fields.join(',')}:${index.unique}`).sort()).toEqual([
        'make:make:false',
        'make_axles:make,axles:false',
        'make_year:make,year:false',
        'year:year:true',
      ]);
      expect(child.audited).toBe(true);

      const { target: _a, ...before } = parentBefore;
      const { target: _b, ...after } = parentAfter;
      expect(after).toEqual(before);
      expect(parentAfter.name).toBe('vehicles');
      expect(parentAfter.fields.map((field) => field.name)).toEqual(['make', 'year']);
      expect(parentAfter.indexes.map((index) => index.name).sort()).toEqual(['make', 'make_year']);
      expect(parentAfter.audited).toBe(false);
    });

    it('keeps sibling subclasses apart', () => {
      @Entity('animals')
      class Animal {
        @Field() name!: string;
      }
      @Entity('cats')
      class Cat extends Animal {
        @Field() @Index() lives!: number;
      }
      @Entity('dogs')
      @Composite(['name', 'good'])
      class Dog extends Animal {
        @Field() good!: boolean;
      }
      expect(createEntityDefinition(Cat).fields.map((field) => field.name)).toEqual(['name', 'lives']);
      expect(createEntityDefinition(Cat).indexes.map((index) => index.name)).toEqual(['lives']);
      expect(createEntityDefinition(Dog).fields.map((field) => field.name)).toEqual(['name', 'good']);
      expect(createEntityDefinition(Dog).indexes.map((index) => index.name)).toEqual(['name_good']);
      expect(createEntityDefinition(Animal).fields.map((field) => field.name)).toEqual(['name']);
      expect(createEntityDefinition(Animal).indexes).toEqual([]);
    });

    describe('@Reference', () => {
      @Entity('ref-targets')
      class Target {
        @Field() name!: string;
      }

      it('reads the reference, restrict by default, and indexes the field unless an index starts with it', () => {
        @Entity('ref-sources')
        @Composite(['ownerId', 'name'])
        class Source {
          @Field() @Reference(() => Target) targetId!: string;
          @Field() @Reference(() => Target, { onDelete: 'cascade' }) ownerId!: string;
          @Field() name!: string;
        }
        const definition = createEntityDefinition(Source);
        expect(definition.references.map(({ field, onDelete, target }) => ({ field, onDelete, target: target() }))).toEqual([
          { field: 'targetId', onDelete: 'restrict', target: Target },
          { field: 'ownerId', onDelete: 'cascade', target: Target },
        ]);
        expect(definition.indexes.map((index) => index.fields)).toEqual([['ownerId', 'name'], ['targetId']]);
      });

      it('names each reference for include: its as, else its field without the id suffix, else none', () => {
        @Entity('ref-named')
        class Named {
          @Field() @Reference(() => Target) targetId!: string;
          @Field() @Reference(() => Target) parent_id!: string;
          @Field() @Reference(() => Target, { as: 'boss' }) manager!: string;
          @Field() @Reference(() => Target) sponsor!: string;
          // Its derived name, `label`, is a field: it has no name unless it is given one.
          @Field() @Reference(() => Target) labelId!: string;
          @Field() label!: string;
        }
        expect(createEntityDefinition(Named).references.map(({ field, as }) => ({ field, as }))).toEqual([
          { field: 'targetId', as: 'target' },
          { field: 'parent_id', as: 'parent' },
          { field: 'manager', as: 'boss' },
          { field: 'sponsor', as: undefined },
          { field: 'labelId', as: undefined },
        ]);
      });

      it.each([
        [
          'a field that is not a string',
          'must be a string, not number',
          () => {
            @Entity('ref-bad-type')
            class BadType {
              @Field() @Reference(() => Target) targetId!: number;
            }
            return BadType;
          },
        ],
        [
          "'setNull' on a required field",
          'needs @Field({ required: false })',
          () => {
            @Entity('ref-bad-null')
            class BadNull {
              @Field() @Reference(() => Target, { onDelete: 'setNull' }) targetId!: string;
            }
            return BadNull;
          },
        ],
        [
          'an unknown delete rule',
          'onDelete must be one of restrict, cascade, setNull, not "drop"',
          () => {
            @Entity('ref-bad-rule')
            class BadRule {
              @Field() @Reference(() => Target, { onDelete: 'drop' as never }) targetId!: string;
            }
            return BadRule;
          },
        ],
        [
          'a target that is not a function',
          'needs a function returning the entity class',
          () => {
            @Entity('ref-bad-target')
            class BadTarget {
              @Field() @Reference(Target as never) targetId!: string;
            }
            return BadTarget;
          },
        ],
        [
          'no @Field',
          '@Reference needs @Field() on the same property',
          () => {
            @Entity('ref-no-field')
            class NoField {
              @Field() name!: string;
              @Reference(() => Target) targetId!: string;
            }
            return NoField;
          },
        ],
        [
          'an as naming a field',
          '@Reference as "name" is already the name of a field or query parameter',
          () => {
            @Entity('ref-as-field')
            class AsField {
              @Field() name!: string;
              @Field() @Reference(() => Target, { as: 'name' }) targetId!: string;
            }
            return AsField;
          },
        ],
        [
          'an as naming a query parameter',
          '@Reference as "sort" is already the name of a field or query parameter',
          () => {
            @Entity('ref-as-query')
            class AsQuery {
              @Field() @Reference(() => Target, { as: 'sort' }) targetId!: string;
            }
            return AsQuery;
          },
        ],
        [
          'an as that is no field name',
          '@Reference as must be a usable field name, not "a.b"',
          () => {
            @Entity('ref-as-dotted')
            class AsDotted {
              @Field() @Reference(() => Target, { as: 'a.b' }) targetId!: string;
            }
            return AsDotted;
          },
        ],
        [
          'two references of one name',
          `@Reference is named "target" like other_target_id's`,
          () => {
            @Entity('ref-as-twice')
            class AsTwice {
              @Field() @Reference(() => Target, { as: 'target' }) other_target_id!: string;
              @Field() @Reference(() => Target) targetId!: string;
            }
            return AsTwice;
          },
        ],
      ])('fails start-up on %s, naming the field', (_case, problem, declare) => {
        const error = metadataError(() => createEntityDefinition(declare() as Type<object>));
        expect(error.message).toContain('targetId');
        expect(error.message).toContain(problem);
      });
    });
  });
});
