import { STORAGE_NAME } from '../common/metadata.constants.js';
import { InvalidRecordException } from '../storage/invalid-record.exception.js';
import { isRecordId } from '../storage/record-id.util.js';

/** What a grant allows on one record. */
export type RecordRight = 'read' | 'update' | 'delete';

export const RECORD_RIGHTS: readonly RecordRight[] = ['read', 'update', 'delete'];
export const GROUP_PREFIX = 'group:';
const SUBJECT = /^(group:)?[^\s\u0000]{1,200}$/;

export function groupName(group: string): string {
  const name = group.startsWith(GROUP_PREFIX) ? group.slice(GROUP_PREFIX.length) : group;
  checkSubject(name);
  return name;
}

/** Whether `subject` is a user id or `group:<name>` that can hold grants and memberships. */
export function isSubject(subject: unknown): boolean {
  return typeof subject === 'string' && SUBJECT.test(subject) && subject.isWellFormed() && subject !== GROUP_PREFIX;
}

export function checkSubject(subject: string): void {
  if (!isSubject(subject)) throw new InvalidRecordException('grants', ['subject must be a user id or group:<name> (1 to 200 characters, no spaces)']);
}

/** A principal id that spells a group subject would hold that group's grants; it is no user id. */
export function isUserId(id: unknown): boolean {
  return isSubject(id) && !(id as string).startsWith(GROUP_PREFIX);
}

export function checkUserId(id: string): void {
  if (!isUserId(id)) throw new InvalidRecordException('grants', ['user id must be 1 to 200 characters, no spaces, not group:<name>']);
}

export function isRecord(entity: unknown, id: unknown): boolean {
  return typeof entity === 'string' && STORAGE_NAME.test(entity) && isRecordId(id);
}

export function checkRecord(entity: string, id: string): void {
  if (!isRecord(entity, id)) throw new InvalidRecordException('grants', ['entity must be an entity name and id a record id']);
}

export function checkRights(rights: readonly RecordRight[]): RecordRight[] {
  if (!Array.isArray(rights) || rights.length === 0 || rights.some((right) => !RECORD_RIGHTS.includes(right))) {
    throw new InvalidRecordException('grants', [`rights must be a non-empty list of ${RECORD_RIGHTS.join(', ')}`]);
  }
  return [...new Set(rights)];
}
