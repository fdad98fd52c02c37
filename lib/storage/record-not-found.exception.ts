/** No live record of `entity` has this id. */
export class RecordNotFoundException extends Error {
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${JSON.stringify(id)} not found`);
    this.name = 'RecordNotFoundException';
  }
}
