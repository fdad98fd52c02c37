import { InvalidQueryException } from './invalid-query.exception.js';

/** `value` when it is a whole number from 1 that a double holds exactly; else an error naming the option. */
export function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidQueryException(`${name} must be a positive integer`);
  return value;
}
