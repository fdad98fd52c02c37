import type { PipeTransform } from '@nestjs/common';
import { RECORD_ID } from '../storage/record-id.util.js';
import { RecordNotFoundException } from '../storage/record-not-found.exception.js';

/**
 * The `:id` of a generated route: an id no record can have is answered 404 at once, before it
 * reaches lmdb, whose keys it may not even fit (a 500 otherwise).
 */
export class RecordIdPipe implements PipeTransform<string, string> {
  constructor(private readonly entity: string) {}

  transform(id: string): string {
    return checkRecordId(this.entity, id);
  }
}

/** `id`, when a record of `entity` can have it; a `RecordNotFoundException` otherwise. */
export function checkRecordId(entity: string, id: string): string {
  if (!RECORD_ID.test(id)) throw new RecordNotFoundException(entity, id.length > 64 ? `${id.slice(0, 64)}…` : id);
  return id;
}
