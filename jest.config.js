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
  reporters: ['default', '<rootDir>/test/support/summary.reporter.cjs'],
};
