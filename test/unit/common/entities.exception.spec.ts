import { EntitiesException } from '../../../lib/common/entities.exception.js';
import { EntityMetadataException } from '../../../lib/metadata/entity-metadata.exception.js';
import { InvalidQueryException } from '../../../lib/query/invalid-query.exception.js';
import { AccessDeniedException } from '../../../lib/repository/access-denied.exception.js';
import { DamagedStoreException } from '../../../lib/storage/damaged-store.exception.js';
import { IdempotencyConflictException } from '../../../lib/storage/idempotency-conflict.exception.js';
import { InvalidRecordException } from '../../../lib/storage/invalid-record.exception.js';
import { RecordNotFoundException } from '../../../lib/storage/record-not-found.exception.js';
import { StorageFailureException } from '../../../lib/storage/storage-failure.exception.js';
import { UniqueConstraintException } from '../../../lib/storage/unique-constraint.exception.js';
import { VersionConflictException } from '../../../lib/storage/version-conflict.exception.js';

describe('EntitiesException', () => {
  const cause = new Error('ENOSPC');
  const thrown: [string, Error][] = [
    ['EntityMetadataException', new EntityMetadataException('Permit', 'status', 'is wrong')],
    ['InvalidQueryException', new InvalidQueryException('bad')],
    ['AccessDeniedException', new AccessDeniedException('forbidden', 'no')],
    ['DamagedStoreException', new DamagedStoreException('/data/data.mdb', 'is cut short')],
    ['IdempotencyConflictException', new IdempotencyConflictException('permits', 'k')],
    ['InvalidRecordException', new InvalidRecordException('permits', ['status is required'])],
    ['RecordNotFoundException', new RecordNotFoundException('permits', 'a'.repeat(70))],
    ['StorageFailureException', new StorageFailureException('disk full', true, { cause })],
    ['UniqueConstraintException', new UniqueConstraintException('permits', 'byNumber', ['number'])],
    ['VersionConflictException', new VersionConflictException('permits', 'a', 1, 2)],
  ];

  it.each(thrown)('is the base of %s, which keeps its own name', (name, error) => {
    expect(error).toBeInstanceOf(EntitiesException);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(String(error.stack)).toMatch(new RegExp(`^${name}: `));
  });

  it('keeps messages, fields and the cause', () => {
    expect(thrown[0]![1].message).toBe('Permit.status: is wrong');
    expect(thrown[6]![1]).toMatchObject({ entity: 'permits', id: `${'a'.repeat(64)}…` });
    expect(thrown[7]![1]).toMatchObject({ diskFull: true, cause });
    expect(thrown[9]![1]).toMatchObject({ message: 'permits "a" is at version 2, not 1', expectedVersion: 1, actualVersion: 2 });
  });
});
