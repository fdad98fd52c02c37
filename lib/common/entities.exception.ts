/**
 * The base of this package's exceptions (metadata, queries, access, storage), so a caller tells
 * them from other errors with one `instanceof`. `name` is the subclass's, for stack traces and logs.
 */
export abstract class EntitiesException extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
