import type { PipeTransform } from '@nestjs/common';
import { checkRecordId } from '../storage/record-id.util.js';

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
