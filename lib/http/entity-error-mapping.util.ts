import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  GoneException,
  HttpException,
  HttpStatus,
  NotFoundException,
  PayloadTooLargeException,
  PreconditionFailedException,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { EntitiesLogger } from '../common/entities.logger.js';
import { InvalidQueryException } from '../query/invalid-query.exception.js';
import { ChangeTooLargeException } from '../replication/change-too-large.exception.js';
import { SeqNotAppliedException } from '../replication/seq-not-applied.exception.js';
import { AccessDeniedException } from '../repository/access-denied.exception.js';
import { IdempotencyConflictException } from '../storage/idempotency-conflict.exception.js';
import { InvalidRecordException } from '../storage/invalid-record.exception.js';
import { isLmdbError } from '../storage/lmdb-error.util.js';
import { RecordNotFoundException } from '../storage/record-not-found.exception.js';
import { PastStateGoneException } from '../storage/past-state-gone.exception.js';
import { StorageFailureException } from '../storage/storage-failure.exception.js';
import { ReferenceConflictException } from '../storage/reference-conflict.exception.js';
import { UniqueConstraintException } from '../storage/unique-constraint.exception.js';
import { VersionConflictException } from '../storage/version-conflict.exception.js';
import { VersionMatchedException } from '../storage/version-matched.exception.js';

const logger = new EntitiesLogger('EntitiesHttp');

/** The one place where the package's typed errors become HTTP answers; anything else is returned as it is. */
export function entityErrorToHttp(error: unknown): unknown {
  if (error instanceof HttpException) return error;
  if (error instanceof AccessDeniedException) return accessDeniedToHttp(error);
  if (error instanceof InvalidRecordException) return new BadRequestException(error.problems);
  if (error instanceof InvalidQueryException) return new BadRequestException(error.message);
  if (error instanceof RecordNotFoundException) return new NotFoundException(error.message);
  if (error instanceof PastStateGoneException) return new GoneException(error.message);
  if (error instanceof VersionConflictException) {
    return new PreconditionFailedException(`version ${error.expectedVersion} is stale; the record is at version ${error.actualVersion}`);
  }
  if (error instanceof VersionMatchedException) return new PreconditionFailedException(`the record is at version ${error.version}, which If-None-Match names`);
  if (error instanceof UniqueConstraintException || error instanceof ReferenceConflictException || error instanceof IdempotencyConflictException) {
    return new ConflictException(error.message);
  }
  if (error instanceof ChangeTooLargeException) return new PayloadTooLargeException(error.message);
  if (error instanceof StorageFailureException) {
    if (error instanceof SeqNotAppliedException) logger.warn(error.message);
    else logger.error(error.message, (error.cause as Error | undefined)?.stack);
    return error.diskFull
      ? new HttpException({ statusCode: 507, message: error.message, error: 'Insufficient Storage' }, HttpStatus.INSUFFICIENT_STORAGE)
      : new ServiceUnavailableException(error.message);
  }
  // A read from a failed environment (lmdb's MDB_PANIC and the like) is the store being down, not a bug.
  if (isLmdbError(error)) {
    logger.error(error.message, error.stack);
    return new ServiceUnavailableException('the store cannot be read right now');
  }
  return error;
}

/** 401, 403, or for a record the principal may not see, the same 404 as a missing id. */
function accessDeniedToHttp(error: AccessDeniedException): HttpException {
  switch (error.reason) {
    case 'unauthenticated':
      return new UnauthorizedException(error.message);
    case 'forbidden':
      return new ForbiddenException(error.message);
    case 'concealed':
      return new NotFoundException(error.message);
  }
}
