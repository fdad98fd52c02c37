import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

/**
 * The folder layers of lib/ (eslint.config.js, boundaries plugin): a folder may import itself and
 * any lower layer, never a sibling of its own layer nor a higher layer; lib/index.ts may import
 * anything and nothing in lib may import it; a folder missing from the table is an error.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LIB = join(ROOT, 'lib');

/** The layer table of the issue, lowest first: the config must enforce exactly this. */
const LAYERS = [
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
const layerOf = new Map(LAYERS.flatMap((folders, layer) => folders.map((folder) => [folder, layer] as const)));
const mayImport = (from: string, to: string) => from === to || layerOf.get(to)! < layerOf.get(from)!;

/** One real module of each folder of lib/ that exists now, so that each import resolves. */
const targets = new Map(
  LAYERS.flat()
    .filter((folder) => existsSync(join(LIB, folder)))
    .map((folder) => [folder, readdirSync(join(LIB, folder)).find((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))!] as const)
    .filter(([, file]) => file !== undefined),
);
const folders = [...targets.keys()];
const specifier = (folder: string) => `../${folder}/${targets.get(folder)!.replace(/\.ts$/, '.js')}`;

const BOUNDARIES = /^boundaries\//;
const eslint = new ESLint({ cwd: ROOT });

/** The boundaries messages of `code` linted as if it were the file `filePath` (relative to the root). */
async function boundariesErrors(code: string, filePath: string): Promise<{ line: number; ruleId: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  const fatal = result!.messages.filter((message) => message.fatal);
  expect(fatal).toEqual([]);
  return result!.messages.filter((message) => BOUNDARIES.test(message.ruleId ?? '')).map(({ line, ruleId }) => ({ line, ruleId: ruleId! }));
}

describe('folder layers of lib/ (eslint boundaries)', () => {
  it('knows a module of every folder of lib/ but wiring (which may not exist yet)', () => {
    const actual = readdirSync(LIB, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(actual.filter((folder) => !layerOf.has(folder))).toEqual([]);
    expect(folders.length).toBeGreaterThanOrEqual(14);
  });

  it.each([
    ['lib/storage/probe.ts', '../http/route.gate.js', 'storage imports http'],
    ['lib/common/probe.ts', '../metadata/entity-definition.interface.js', 'common imports metadata'],
    ['lib/permission/probe.ts', '../audit/audit.service.js', 'permission imports its sibling audit'],
    ['lib/module/probe.ts', '../cli/main.js', 'module imports its sibling cli'],
  ])('%s importing %s is an error (%s)', async (filePath, from) => {
    expect(existsSync(join(LIB, from.replace(/^\.\.\//, '').replace(/\.js$/, '.ts')))).toBe(true);
    for (const code of [`import '${from}';\n`, `import type { X } from '${from}';\nexport type Y = X;\n`, `export * from '${from}';\n`]) {
      expect(await boundariesErrors(code, filePath)).toEqual([{ line: 1, ruleId: 'boundaries/dependencies' }]);
    }
    expect(await boundariesErrors(`export const load = () => import('${from}');\n`, filePath)).toEqual([{ line: 1, ruleId: 'boundaries/dependencies' }]);
  });

  it('lets a folder import a lower layer and itself', async () => {
    expect(
      await boundariesErrors(
        `import { RouteGate } from './route.gate.js';\nimport { nextRecordId } from '../storage/record-id.util.js';\nexport { RouteGate, nextRecordId };\n`,
        'lib/http/probe.ts',
      ),
    ).toEqual([]);
  });

  it.each(folders)('from lib/%s, an import is an error exactly where the table forbids it', async (from) => {
    const code = folders.map((to) => `import '${specifier(to)}';`).join('\n') + '\n';
    const expected = folders.flatMap((to, index) => (mayImport(from, to) ? [] : [{ line: index + 1, ruleId: 'boundaries/dependencies' }]));
    expect(await boundariesErrors(code, `lib/${from}/probe.ts`)).toEqual(expected);
  });

  it('lets lib/index.ts import any folder, and no folder import lib/index.ts', async () => {
    const code = folders.map((to) => `export * from './${specifier(to).slice(3)}';`).join('\n') + '\n';
    expect(await boundariesErrors(code, 'lib/index.ts')).toEqual([]);
    expect(await boundariesErrors(`import '../index.js';\n`, 'lib/common/probe.ts')).toEqual([{ line: 1, ruleId: 'boundaries/dependencies' }]);
    expect(await boundariesErrors(`import '../index.js';\n`, 'lib/cli/probe.ts')).toEqual([{ line: 1, ruleId: 'boundaries/dependencies' }]);
  });

  it('rejects a file in a folder that the table does not place, and an import of one', async () => {
    expect(await boundariesErrors(`import '../common/${targets.get('common')!.replace(/\.ts$/, '.js')}';\n`, 'lib/unplaced/probe.ts')).toContainEqual({
      line: 1,
      ruleId: 'boundaries/no-unknown-files',
    });
    expect(await boundariesErrors(`import '../unplaced/thing.js';\n`, 'lib/http/probe.ts')).toEqual([
      { line: 1, ruleId: 'boundaries/no-unknown-dependencies' },
    ]);
  });

  it('finds no boundaries error in the real lib/', async () => {
    const results = await eslint.lintFiles(['lib']);
    expect(results.length).toBeGreaterThan(50);
    const errors = results.flatMap((result) =>
      result.messages
        .filter((message) => message.fatal || BOUNDARIES.test(message.ruleId ?? ''))
        .map((message) => `${result.filePath.slice(ROOT.length + 1)}:${message.line} ${message.ruleId}: ${message.message}`),
    );
    expect(errors).toEqual([]);
  });
});
