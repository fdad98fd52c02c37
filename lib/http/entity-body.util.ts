import { BadRequestException, ValidationPipe, type Type } from '@nestjs/common';
import { compileBodyCheck, USE_PIPE } from './compiled-body-validator.util.js';

/** Checks the body of a write as Nest's ValidationPipe does. */
export interface BodyValidator {
  /**
   * The valid body, or a promise of it when the pipe checked it; a problem is thrown (or the
   * promise rejects) as the pipe's 400.
   */
  validate(body: unknown): unknown;
  /** @internal Whether the DTO's rules were compiled; false when the pipe checks every body. */
  readonly compiled: boolean;
}

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
 * The pipe of `createBodyPipe`, answered from the DTO's compiled rules where they reproduce it
 * exactly: writes are CPU-bound, and the pipe's copies and promises cost one about ten times what
 * the compiled rules do.
 */
export function createBodyValidator(dto: Type<object>): BodyValidator {
  const pipe = createBodyPipe(dto);
  const viaPipe = pipeValidator(pipe);
  const check = compileBodyCheck(dto, pipe.createExceptionFactory());
  if (!check) return viaPipe;
  return {
    validate: (body) => {
      const valid = check(body);
      return valid === USE_PIPE ? viaPipe.validate(body) : sentOnly(body, valid);
    },
    compiled: true,
  };
}

/** A body validator that leaves every body to `pipe`. */
export function pipeValidator(pipe: ValidationPipe): BodyValidator {
  return {
    validate: (body) => {
      const valid: unknown = pipe.transform(body, { type: 'body' });
      return valid instanceof Promise ? valid.then((checked: unknown) => sentOnly(body, checked)) : sentOnly(body, valid);
    },
    compiled: false,
  };
}

/**
 * The validated body with only the keys the client sent. The generated DTOs inherit the entity
 * class's property initialisers (mapped types copy them), and the pipe returns them as if sent:
 * a PATCH would reset every initialised field it did not name. Defaults are `@Field({ default })`.
 */
function sentOnly(body: unknown, valid: unknown): unknown {
  if (body === null || typeof body !== 'object' || valid === null || typeof valid !== 'object' || Array.isArray(valid)) return valid;
  const sent: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(valid)) if (Object.hasOwn(body, key)) sent[key] = value;
  return sent;
}

/**
 * Validates every element of a batch body with `validator`, prefixing each problem with the
 * element's index (`[3] amount must be a number`) so the client knows which one failed, and
 * answers the validated elements: stored as `POST /P` stores the same body, transformed.
 */
export async function validateBatch(validator: BodyValidator, body: unknown, maxItems: number): Promise<unknown[]> {
  if (!Array.isArray(body)) throw new BadRequestException('the request body must be a JSON array of records');
  if (body.length === 0) throw new BadRequestException('the batch is empty');
  if (body.length > maxItems) throw new BadRequestException(`a batch holds at most ${maxItems} records`);
  const problems: string[] = [];
  const valid: unknown[] = [];
  for (const [index, item] of body.entries()) {
    try {
      const checked = validator.validate(item);
      valid.push(checked instanceof Promise ? await checked : checked);
    } catch (error) {
      if (!(error instanceof BadRequestException)) throw error;
      const message = (error.getResponse() as { message?: string | string[] }).message ?? error.message;
      for (const problem of Array.isArray(message) ? message : [message]) problems.push(`[${index}] ${problem}`);
    }
  }
  if (problems.length > 0) throw new BadRequestException(problems);
  return valid;
}
