import 'reflect-metadata';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import type { EntityMigration } from '../../../lib/metadata/decorator-options.interface.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { EntityMetadataException } from '../../../lib/metadata/entity-metadata.exception.js';
import type { StoredRecord } from '../../../lib/storage/entity-event.interface.js';
import { migrateRecord } from '../../../lib/storage/record-migration.util.js';

/** The definition of a `tasks` entity (name, priority, optional due date and note) with these steps. */
function tasksWith(migrations: unknown) {
  @Entity({ name: 'tasks', migrations: migrations as EntityMigration[] })
  class Task {
    @Field() name!: string;
    @Field() priority!: string;
    @Field({ required: false }) due?: Date;
    @Field({ required: false }) note?: string;
  }
  return createEntityDefinition(Task);
}

function problemWith(migrations: unknown): string {
  try {
    tasksWith(migrations);
  } catch (error) {
    expect(error).toBeInstanceOf(EntityMetadataException);
    return (error as Error).message;
  }
  throw new Error('the definition was accepted');
}

const STORED = { id: '01J0000000000000000000000A', version: 4, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-02T00:00:00.000Z' };

function record(fields: Record<string, unknown>): StoredRecord {
  return { ...STORED, ...fields } as StoredRecord;
}

describe('@Entity({ migrations })', () => {
  it('gives the entity the last step’s version, and version 1 without steps', () => {
    expect(tasksWith(undefined)).toMatchObject({ version: 1, migrations: [] });
    const steps = [
      { version: 2, rename: { title: 'name' } },
      { version: 3, fill: { priority: 'normal' } },
    ];
    expect(tasksWith(steps)).toMatchObject({ version: 3, migrations: steps });
  });

  it.each([
    ['not an array', { version: 2 }, /migrations must be an array of steps/],
    ['a first step that is not version 2', [{ version: 1, fill: { priority: 'x' } }], /migrations\[0\]: version must be 2 .*not 1/],
    [
      'a gap',
      [
        { version: 2, fill: { priority: 'x' } },
        { version: 4, fill: { priority: 'y' } },
      ],
      /migrations\[1\]: version must be 3/,
    ],
    ['a step that does nothing', [{ version: 2, description: 'nothing' }], /version 2: says nothing to do/],
    ['an unknown part', [{ version: 2, renames: { a: 'name' } }], /version 2: unknown renames/],
    ['a reserved field', [{ version: 2, remove: ['version'] }], /remove of "version" is managed by the package/],
    ['an unusable name', [{ version: 2, rename: { 'a-b': 'name' } }], /rename of "a-b" is not a usable field name/],
    ['a rename to itself', [{ version: 2, rename: { name: 'name' } }], /rename gives "name" twice or to itself/],
    ['a fill without value', [{ version: 2, fill: { priority: null } }], /fill of "priority" needs a value/],
    ['an update that is no function', [{ version: 2, update: 'x' }], /update must be a function/],
    ['an async update', [{ version: 2, update: async () => ({}) }], /version 2: update must not be async/],
    [
      'a field brought in and never declared',
      [{ version: 2, rename: { title: 'heading' } }],
      /version 2: brings in "heading", which the class does not declare/,
    ],
  ])('refuses %s, naming the class', (_what, migrations, message) => {
    const problem = problemWith(migrations);
    expect(problem).toMatch(/^Task: /);
    expect(problem).toMatch(message);
  });

  it('accepts a field brought in by one step and taken away by a later one', () => {
    expect(
      tasksWith([
        { version: 2, rename: { title: 'heading' } },
        { version: 3, rename: { heading: 'name' } },
      ]).version,
    ).toBe(3);
  });
});

describe('migrateRecord', () => {
  const tasks = tasksWith([
    { version: 2, rename: { title: 'heading' }, remove: ['legacy'] },
    { version: 3, rename: { heading: 'name' }, fill: { priority: 'normal' } },
    {
      version: 4,
      update: (task: Readonly<Record<string, unknown>>) => (task.note === 'clear' ? { note: null } : { due: task.due ?? new Date(Date.UTC(2026, 5, 1)) }),
    },
  ]);

  it('runs the steps after the stored version in order, as one change with the renames composed', () => {
    expect(migrateRecord(tasks, record({ title: 'Ship', legacy: 'x' }), 1, 4)).toEqual({
      change: { data: { title: null, legacy: null, name: 'Ship', priority: 'normal', due: '2026-06-01T00:00:00.000Z' }, renamed: { title: 'name' } },
    });
    // From version 3 only the last step runs.
    expect(migrateRecord(tasks, record({ name: 'Ship', priority: 'high', note: 'clear' }), 3, 4)).toEqual({ change: { data: { note: null } } });
    // Up to `to`: a run of older code cut short finishes its own steps first, unchecked by this class.
    expect(migrateRecord(tasks, record({ title: 'Ship' }), 1, 2)).toEqual({
      change: { data: { title: null, heading: 'Ship' }, renamed: { title: 'heading' } },
    });
  });

  it('changes nothing when the steps leave the record as it is, and leaves fields no step touched', () => {
    expect(migrateRecord(tasks, record({ name: 'Ship', priority: 'high', due: '2026-01-01T00:00:00.000Z', stray: 1 }), 3, 4)).toEqual({});
  });

  it('keeps the value under the new name when the old field is absent, the rename alone left for its history', () => {
    // The migrator writes it only for a record with history of the old field (see SchemaMigrator).
    expect(migrateRecord(tasks, record({ name: 'Kept', priority: 'high', due: '2026-01-01T00:00:00.000Z' }), 2, 3)).toEqual({
      change: { data: {}, renamed: { heading: 'name' } },
    });
  });

  it('moves every value of one step’s renames at once: a swap and a shift lose nothing', () => {
    const swap = tasksWith([{ version: 2, rename: { name: 'priority', priority: 'name' } }]);
    expect(migrateRecord(swap, record({ name: 'low', priority: 'Ship' }), 1, 2)).toEqual({
      change: { data: { name: 'Ship', priority: 'low' }, renamed: { name: 'priority', priority: 'name' } },
    });
    const shift = tasksWith([{ version: 2, rename: { title: 'name', name: 'note' } }]);
    expect(migrateRecord(shift, record({ title: 'Ship', name: 'old name', priority: 'p' }), 1, 2)).toEqual({
      change: { data: { title: null, name: 'Ship', note: 'old name' }, renamed: { title: 'name', name: 'note' } },
    });
    // Across steps, a field followed through its renames keeps its first name.
    const across = tasksWith([
      { version: 2, rename: { name: 'label' } },
      { version: 3, rename: { note: 'name' } },
      { version: 4, rename: { label: 'note' } },
    ]);
    expect(migrateRecord(across, record({ name: 'Ship', note: 'n', priority: 'p' }), 1, 4)).toEqual({
      change: { data: { name: 'n', note: 'Ship' }, renamed: { name: 'note', note: 'name' } },
    });
  });

  it('answers the problems of what the steps leave, checked as an update of the class', () => {
    const typed = tasksWith([{ version: 2, update: () => ({ priority: 3, stray: 'x', version: 9 }) }]);
    expect(migrateRecord(typed, record({ name: 'a', priority: 'p' }), 1, 2)).toEqual({
      problems: ['version 2 update sets version, which the package manages'],
    });
    const undeclared = tasksWith([{ version: 2, update: () => ({ priority: 3, stray: 'x' }) }]);
    expect(migrateRecord(undeclared, record({ name: 'a', priority: 'p' }), 1, 2)).toEqual({
      problems: ['priority must be a string', 'stray is not a field of tasks'],
    });
    const cleared = tasksWith([{ version: 2, update: () => ({ name: null }) }]);
    expect(migrateRecord(cleared, record({ name: 'a', priority: 'p' }), 1, 2)).toEqual({ problems: ['name is required and cannot be cleared'] });
    const throwing = tasksWith([
      {
        version: 2,
        update: () => {
          throw new Error('bad data');
        },
      },
    ]);
    expect(migrateRecord(throwing, record({ name: 'a', priority: 'p' }), 1, 2)).toEqual({ problems: ['version 2 update failed: bad data'] });
    const waiting = tasksWith([{ version: 2, update: () => Promise.resolve({ priority: 'x' }) as never }]);
    expect(migrateRecord(waiting, record({ name: 'a', priority: 'p' }), 1, 2)).toEqual({
      problems: ['version 2 update returned a promise: it must return the fields to set, not wait for them'],
    });
    const odd = tasksWith([{ version: 2, update: () => 'x' as never }]);
    expect(migrateRecord(odd, record({ name: 'a', priority: 'p' }), 1, 2)).toEqual({
      problems: ['version 2 update must return an object of fields to set, or nothing'],
    });
  });

  it('gives update a frozen copy: it cannot change the record behind the step’s back', () => {
    const sneaky = tasksWith([
      {
        version: 2,
        update: (task: Record<string, unknown>) => {
          task.name = 'changed';
          return undefined;
        },
      },
    ]);
    expect(migrateRecord(sneaky, record({ name: 'a', priority: 'p' }), 1, 2)).toEqual({
      problems: [expect.stringMatching(/^version 2 update failed: .*read.only/)],
    });
  });
});
