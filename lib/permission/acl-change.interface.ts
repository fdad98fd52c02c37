import type { RecordRight } from './acl-subjects.util.js';

/** The rights a subject holds on one record after a grant or revoke; none removes its grant. */
export interface GrantChange {
  kind: 'acl.grant';
  entity: string;
  id: string;
  subject: string;
  rights: RecordRight[];
  /** The ACL version the change moves to. */
  version: string;
}

/** A user joins (`member`) or leaves a group. */
export interface MembershipChange {
  kind: 'acl.member';
  userId: string;
  /** The group's name, without `group:`. */
  group: string;
  member: boolean;
  /** The ACL version the change moves to. */
  version: string;
}

export type AclChange = GrantChange | MembershipChange;
