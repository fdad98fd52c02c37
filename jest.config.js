/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    // The sample imports the package by name; tests run it against the sources.
    '^nestjs-declarative-entities$': '<rootDir>/lib/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  setupFiles: ['<rootDir>/test/support/quiet-logger.setup.ts'],
  testTimeout: 30000,
  // Each test file's ES modules stay in the process that ran them (vm modules leak): run files in a
  // worker (with one CPU to spare, Jest would run them all in its own process) and start a new one
  // once it holds this much, or the whole suite outgrows the heap.
  workerIdleMemoryLimit: '1GB',
  reporters: ['default', '<rootDir>/test/support/summary.reporter.cjs'],
};
