import type { EntityDefinition, ReferenceDefinition } from '../metadata/entity-definition.interface.js';
import { nameableReferences } from '../metadata/reference-names.util.js';
import { InvalidQueryException } from '../query/invalid-query.exception.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import { isRecordId } from '../storage/record-id.util.js';
import type { AccessPolicy } from './access-policy.interface.js';
import { checkQueryFields, decisionOf, readFor, unreadableTo } from './principal-access.util.js';
import type { PrincipalContext } from './principal-context.interface.js';

/** How many references one read may include. */
export const MAX_INCLUDES = 8;

/**
 * The references `include` names, checked before anything is read: each must be a named
 * reference whose field the caller may read (an unreadable field would leak through the
 * record it points to), and the caller must be allowed to read the entity referred to.
 */
export function includedReferences(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  context: PrincipalContext,
  include: readonly string[],
): ReferenceDefinition[] {
  if (!Array.isArray(include)) throw new InvalidQueryException('include must be a list of reference names');
  if (include.length > MAX_INCLUDES) throw new InvalidQueryException(`include names at most ${MAX_INCLUDES} references`);
  const includable = nameableReferences(definition, 'principal' in context);
  const references = include.map((name) => {
    const reference = includable.find((candidate) => candidate.as === name);
    if (reference) return reference;
    const names = includable.map((candidate) => candidate.as).join(', ');
    throw new InvalidQueryException(`cannot include ${String(name)}: ${definition.name} ${names ? `can include ${names}` : 'has no reference to include'}`);
  });
  if (new Set(include).size !== include.length) throw new InvalidQueryException('include names a reference twice');
  if ('principal' in context) {
    checkQueryFields(
      definition,
      unreadableTo(access, definition, context),
      references.map((reference) => reference.field),
      'id',
    );
  }
  // An entity the caller may not read at all is refused outright, as its own routes would.
  for (const reference of references) decisionOf(access, storage.referenceTarget(definition, reference), withoutDecision(context), 'read');
  return references;
}

/**
 * Adds to each record, under each reference's name, the record it refers to as the caller may
 * read it: `null` when the field is empty, the record is gone (or deleted), or the caller may
 * not see that one. Reads the snapshot the records were read from.
 */
export function withIncluded(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  context: PrincipalContext,
  records: readonly Record<string, unknown>[],
  references: readonly ReferenceDefinition[],
): Record<string, unknown>[] {
  if (references.length === 0) return records as Record<string, unknown>[];
  const targets = references.map((reference) => {
    const target = storage.referenceTarget(definition, reference);
    const table = storage.tablesOf(target).records;
    const read = new Map<string, Record<string, unknown> | null>();
    const caller = withoutDecision(context);
    return (id: unknown): Record<string, unknown> | null => {
      if (typeof id !== 'string' || !isRecordId(id)) return null;
      if (!read.has(id)) read.set(id, readFor(access, target, caller, table.get(id)));
      return read.get(id)!;
    };
  });
  return records.map((record) => {
    const included: Record<string, unknown> = Object.assign({}, record);
    references.forEach((reference, at) => (included[reference.as!] = targets[at]!(record[reference.field])));
    return included;
  });
}

/** The caller alone: a route's decision is for its own entity, never for the one referred to. */
function withoutDecision(context: PrincipalContext): PrincipalContext {
  return 'principal' in context ? { principal: context.principal } : {};
}
