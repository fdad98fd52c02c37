import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { renamedNamesOf } from '../metadata/entity-migrations.util.js';

/** Per entity: each name the class declares again after a migration renamed it away → the fields its old values may be in now. */
const reusedNames = new WeakMap<EntityDefinition, ReadonlyArray<readonly [string, readonly string[]]>>();

/**
 * The fields to leave out of a record's past states, diffs and changes for a principal who may
 * not read `unreadable`: those, and each name the class declares again after a migration renamed
 * it away to a field hidden or unreadable to it. A value written under that name before the rename
 * belongs to the field it became, and a state rebuilt from the log does not say which one it
 * meant: the strictest rule applies, as on the audit route.
 */
export function pastUnreadable(definition: EntityDefinition, unreadable: ReadonlySet<string>): ReadonlySet<string> {
  let reused = reusedNames.get(definition);
  if (!reused) {
    reused = [...renamedNamesOf(definition.migrations)]
      .filter(([was]) => definition.fieldsByName.has(was))
      .map(([was, { names }]) => [was, [...names]] as const);
    reusedNames.set(definition, reused);
  }
  const more = reused.filter(([was, names]) => !unreadable.has(was) && names.some((name) => unreadable.has(name) || definition.fieldsByName.get(name)?.hidden));
  return more.length === 0 ? unreadable : new Set([...unreadable, ...more.map(([was]) => was)]);
}
