import { createHash } from 'node:crypto';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityAccess } from '../permission/entity-access.service.js';
import type { AccessDecision } from '../repository/access-policy.interface.js';

/**
 * What a cached answer depends on besides the data: the fields the principal may not
 * read and, when records are filtered per principal, who it is and the grants in force.
 */
export function viewKeyOf(access: EntityAccess, definition: EntityDefinition, decision: AccessDecision): string {
  const hidden = [...access.unreadableFields(definition, decision)].sort().join(',');
  const records = decision.entityWide ? 'all' : `${digest(decision.principal?.id ?? '')}@${access.acl.version()}`;
  return `${records}|${hidden}`;
}

/** The cache key of a list: its query string, digested; empty without one, whatever the path. */
export function listKeyOf(url: string): string {
  const query = url.indexOf('?');
  return `list:${digest(query === -1 ? '' : url.slice(query + 1))}`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}
