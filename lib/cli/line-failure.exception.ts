/** A line that cannot be imported; the whole batch holding it is rolled back. */
export class LineFailure extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}
