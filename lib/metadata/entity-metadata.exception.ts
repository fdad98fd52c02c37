/** Wrong decorator metadata, found while reading an entity class at start-up. */
export class EntityMetadataException extends Error {
  constructor(className: string, field: string | undefined, problem: string) {
    super(`${field === undefined ? className : `${className}.${field}`}: ${problem}`);
    this.name = 'EntityMetadataException';
  }
}
