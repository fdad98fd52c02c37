import { BadRequestException, ValidationPipe, type Type } from '@nestjs/common';

/** Validation as users of Nest expect it: unknown properties refused and named. */
export function createBodyPipe(dto: Type<object>): ValidationPipe {
  return new ValidationPipe({
    expectedType: dto,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
}

/**
 * Validates every element of a batch body with `pipe`, prefixing each problem with the
 * element's index (`[3] amount must be a number`) so the client knows which one failed.
 */
export async function validateBatch(pipe: ValidationPipe, dto: Type<object>, body: unknown, maxItems: number): Promise<unknown[]> {
  if (!Array.isArray(body)) throw new BadRequestException('the request body must be a JSON array of records');
  if (body.length === 0) throw new BadRequestException('the batch is empty');
  if (body.length > maxItems) throw new BadRequestException(`a batch holds at most ${maxItems} records`);
  const problems: string[] = [];
  for (const [index, item] of body.entries()) {
    try {
      await pipe.transform(item, { type: 'body', metatype: dto });
    } catch (error) {
      if (!(error instanceof BadRequestException)) throw error;
      const message = (error.getResponse() as { message?: string | string[] }).message ?? error.message;
      for (const problem of Array.isArray(message) ? message : [message]) problems.push(`[${index}] ${problem}`);
    }
  }
  if (problems.length > 0) throw new BadRequestException(problems);
  return body;
}
