import { BadRequestException } from '@nestjs/common';

/** The body of `POST /P/:id/revert`: `{ "toVersion": N }` and nothing else (`version` in a body is the record's own, and ignored). */
export function revertVersionOf(body: unknown): number {
  const { toVersion, ...rest } = body as { toVersion?: unknown };
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new BadRequestException(`property ${extra[0]} should not exist`);
  if (typeof toVersion !== 'number' || !Number.isSafeInteger(toVersion) || toVersion < 1) throw new BadRequestException('toVersion must be a positive integer');
  return toVersion;
}
