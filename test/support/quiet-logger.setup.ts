import { Logger } from '@nestjs/common';

// Keeps test output readable: the package logs query plans at debug level and start-up
// steps at log level. Tests that check logs install their own logger.
Logger.overrideLogger(['error', 'warn']);
