import { EntitiesException } from '../common/entities.exception.js';

/**
 * The store was written by a newer version of the package, in a layout this version does not
 * know: reading it could misread records and writing it could damage them, so it is not opened.
 */
export class UnsupportedStoreFormatException extends EntitiesException {
  constructor(
    readonly path: string,
    readonly format: number,
    readonly supported: number,
  ) {
    super(
      `the store at ${path} has format ${format}, newer than the format ${supported} this version of nestjs-declarative-entities reads: upgrade the package`,
    );
  }
}
