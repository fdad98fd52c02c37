import { Logger } from '@nestjs/common';
import { currentRequestId } from './request-context.util.js';

/**
 * Nest's `Logger`, with the id of the request being served in front of each message, so a
 * line from deep in the store can be matched with the request's `X-Request-Id` and audit
 * entry. Outside a request the message is left as it is.
 */
export class EntitiesLogger extends Logger {
  override log(message: unknown, ...optionalParams: unknown[]): void {
    super.log(tagged(message), ...optionalParams);
  }

  override error(message: unknown, ...optionalParams: unknown[]): void {
    super.error(tagged(message), ...optionalParams);
  }

  override warn(message: unknown, ...optionalParams: unknown[]): void {
    super.warn(tagged(message), ...optionalParams);
  }

  override debug(message: unknown, ...optionalParams: unknown[]): void {
    super.debug(tagged(message), ...optionalParams);
  }

  override verbose(message: unknown, ...optionalParams: unknown[]): void {
    super.verbose(tagged(message), ...optionalParams);
  }

  override fatal(message: unknown, ...optionalParams: unknown[]): void {
    super.fatal(tagged(message), ...optionalParams);
  }
}

function tagged(message: unknown): unknown {
  const requestId = currentRequestId();
  return requestId === undefined || typeof message !== 'string' ? message : `[request ${requestId}] ${message}`;
}
