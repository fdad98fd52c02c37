import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiResponse, ApiServiceUnavailableResponse } from '@nestjs/swagger';

/**
 * What every generated controller answers on any route, whatever the entity: the request id
 * it echoes, and the store's own failures (see README, Durability and limits).
 */
export function StoreRouteDocs(): ClassDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'X-Request-Id',
      required: false,
      description:
        "The request's id, at most 128 letters, digits and _ . : @ / + = -: sent back in X-Request-Id, kept in logs and audit entries; a new UUID when absent or not such a token",
    }),
    ApiServiceUnavailableResponse({
      description:
        'The store cannot be read or written right now (an I/O error, a store stopped after a failed write, a replicated write not confirmed in time); nothing was changed',
    }),
    ApiResponse({ status: 507, description: 'Writes only: the disk holding the store is full; nothing was changed' }),
  );
}
