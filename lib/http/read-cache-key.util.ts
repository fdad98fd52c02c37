import { createHash } from 'node:crypto';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityAccess } from '../permission/entity-access.service.js';
import type { AccessDecision } from '../repository/access-policy.interface.js';
import { queryStringOf } from './entity-route-query.util.js';

/**
 * What a cached answer depends on besides the data: the fields the principal may not
 * read and, when records are filtered per principal, who it is and the grants in force.
 */
export function viewKeyOf(access: EntityAccess, definition: EntityDefinition, decision: AccessDecision): string {
  const hidden = [...access.unreadableFields(definition, decision)].sort().join(',');
  const records = decision.entityWide ? 'all' : `${digest(decision.principal?.id ?? '')}@${access.acl.version()}`;
  return `${records}|${hidden}`;
}

/** A query string short and plain enough to be its own key in any store (memcached takes 250 printable bytes). */
const PLAIN_QUERY = /^[\x21-\x7e]{0,64}$/;

/**
 * The cache key of a list: its query string (empty without one, whatever the path); a long one,
 * or one with bytes a store may refuse, digested. Hashing costs a list about 2% of its time.
 */
export function listKeyOf(url: string): string {
  const query = queryStringOf(url);
  return PLAIN_QUERY.test(query) ? `list?${query}` : `list#${digest(query)}`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}
