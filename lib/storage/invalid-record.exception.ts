/** A write whose data does not fit the entity definition. `problems` name each field at fault. */
export class InvalidRecordException extends Error {
  constructor(
    readonly entity: string,
    readonly problems: readonly string[],
  ) {
    super(`${entity}: ${problems.join('; ')}`);
    this.name = 'InvalidRecordException';
  }
}
