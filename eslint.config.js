// ESLint flat config. `npm run lint` runs it; `npm run lint:layers` runs it on lib/ only.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import boundaries from 'eslint-plugin-boundaries';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * The folder layers of lib/, lowest first. A folder may import itself and any folder of a lower
 * layer, never one of its own layer (siblings) nor a higher one. lib/index.ts, the public entry,
 * may import anything; nothing in lib may import it. A new folder of lib/ must be added here:
 * a file in a folder that is not listed is an error (boundaries/no-unknown-files).
 */
export const LAYERS = [
  ['common'],
  ['metadata'],
  ['decorators'],
  ['storage'],
  ['query'],
  ['repository'],
  ['audit', 'permission', 'cache', 'replication'],
  ['telemetry'],
  ['health'],
  ['http'],
  ['wiring'],
  ['module', 'cli'],
];

const folders = LAYERS.flat();
const below = (layer) => LAYERS.slice(0, layer).flat();

const layerPolicies = LAYERS.flatMap((layer, index) =>
  layer.map((folder) => ({
    from: { element: { type: folder } },
    allow: { to: { element: { types: { anyOf: [folder, ...below(index)] } } } },
  })),
);

export default defineConfig(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'dist-nest/**',
      'coverage/**',
      'data/**',
      'data-replicated/**',
      'bench/out/**',
      '.bench-out/**',
      'test/golden/**',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      // lib keys entity classes by `Function`, as reflect-metadata and Nest's own types do.
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // Control characters in regexes are deliberate here: key escaping and header/actor validation.
      'no-control-regex': 'off',
      // `_`-prefixed names are deliberately unused (kept for a signature or a destructured rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.{js,cjs,mjs}'],
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        require: 'readonly',
        module: 'writable',
        fetch: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests and benchmarks cast to reach internals and raw fixtures.
    files: ['test/**', 'bench/**', 'examples/**', 'sample/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The folder layers of lib/.
    files: ['lib/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: 'tsconfig.json' } },
      'boundaries/elements': folders.map((folder) => ({ type: folder, pattern: `lib/${folder}`, partialMatch: false })),
      'boundaries/files': [{ category: 'entry', pattern: 'lib/index.ts' }],
      'boundaries/legacy-templates': false,
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: [{ from: { file: { categories: 'entry' } }, allow: { to: { element: { types: { anyOf: folders } } } } }, ...layerPolicies],
        },
      ],
      // Every file of lib/ belongs to a layer, and every import inside lib/ resolves to one.
      'boundaries/no-unknown-files': 'error',
      'boundaries/no-unknown-dependencies': 'error',
    },
  },
  prettier,
);
