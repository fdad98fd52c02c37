import type { ExitCode } from './exit-code.constants.js';

/** A failure the command line reports as its message alone, ending with `exitCode`. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}
