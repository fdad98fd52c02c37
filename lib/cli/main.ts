#!/usr/bin/env node
import { Logger, type LoggerService } from '@nestjs/common';
import { CommanderError } from 'commander';
import { CliFailure } from './cli-failure.exception.js';
import { createCliProgram, USAGE_HINT } from './cli-program.factory.js';
import { watchStdout } from './cli-output.util.js';
import { EXIT_CODES } from './exit-code.constants.js';

/** The package's log lines go to stderr, so stdout carries only a command's data (an export, events). */
const stderrLogger: LoggerService = {
  log: (message: unknown) => process.stderr.write(`${String(message)}\n`),
  error: (message: unknown) => process.stderr.write(`error: ${String(message)}\n`),
  warn: (message: unknown) => process.stderr.write(`warning: ${String(message)}\n`),
};
Logger.overrideLogger(stderrLogger);
watchStdout();

const program = createCliProgram();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeOf(error);
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has printed its message already, except when it found no command to run (its help).
    if (error.code === 'commander.help' && error.exitCode !== 0) {
      process.stderr.write(`error: expected one of the commands ${program.commands.map((command) => command.name()).join(', ')} ${USAGE_HINT}\n`);
    }
    // --help and --version end well.
    return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
  }
  if (error instanceof CliFailure) {
    process.stderr.write(`error: ${error.message}\n`);
    return error.exitCode;
  }
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_CODES.failed;
}
