import { EntitiesException } from '../common/entities.exception.js';

/**
 * A principal may not do what it asked. `unauthenticated`: the action needs a principal and
 * there is none (401). `forbidden`: the principal lacks the permission (403). `concealed`:
 * the principal may not even see the record, so the answer is the same as for an id that
 * does not exist (404), and ids of records it may not see are never confirmed.
 */
export class AccessDeniedException extends EntitiesException {
  constructor(
    readonly reason: 'unauthenticated' | 'forbidden' | 'concealed',
    message: string,
  ) {
    super(message);
  }
}
