/** A query that cannot be run as written; the message names the parameter at fault. */
export class InvalidQueryException extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidQueryException';
  }
}
