import type { EntityDefinition } from '../../../lib/index.js';
import type { BodyVariant } from './body-mutations.util.js';

/** The routes of API.md, per entity. */
export type RouteKind =
  'create' | 'batch' | 'list' | 'read' | 'replace' | 'update' | 'delete' | 'history' | 'audit' | 'grants-list' | 'grants-add' | 'grants-remove';

/** Which record a case aims at, resolved when it runs: records come and go during a run. */
export type Target =
  { kind: 'live'; pick: number; suffix?: string } | { kind: 'deleted'; pick: number } | { kind: 'missing' } | { kind: 'garbage'; segment: string };

export type CursorUse = { mode: 'valid' | 'tampered' | 'other sort'; pick: number };

/** One generated request and what the server must do with it. */
export interface HostileCase extends BodyVariant {
  entity: EntityDefinition;
  route: RouteKind;
  target?: Target;
  /** Query string, already encoded. */
  query?: string;
  cursor?: CursorUse;
  /** `DELETE /P/:id/grants/:subject`'s subject segment, encoded. */
  subject?: string;
  headers: Record<string, string>;
  /** `If-Match` resolved against the target when the case runs. */
  ifMatch?: 'current' | 'stale';
  /** The `X-User` header; absent: the admin principal. */
  user?: string;
  /** Equality clauses every listed item must satisfy. */
  equalities?: [string, string][];
}

/** A case before its entity, route and headers are known. */
export type CaseDraft = Omit<HostileCase, 'entity' | 'route' | 'headers'> & { headers?: Record<string, string> };
