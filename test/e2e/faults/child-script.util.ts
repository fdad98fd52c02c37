import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PACKAGE_ENTRY = join(ROOT, 'dist', 'index.js');

/**
 * Compiles a TypeScript child script of the fault suites into `outDir` and returns the path to
 * run with node. The script imports the package by name, as an app does; that import is pointed
 * at the built package (dist/), everything else resolves through a link to node_modules.
 */
export function compileChildScript(source: string, outDir: string): string {
  if (!existsSync(PACKAGE_ENTRY)) throw new Error(`${PACKAGE_ENTRY} is missing: build the package first (npm run build; npm test does it in pretest)`);
  const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
    fileName: source,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      useDefineForClassFields: false,
    },
  });
  const script = join(outDir, basename(source).replace(/\.ts$/, '.mjs'));
  writeFileSync(script, outputText.replace(/(["'])nestjs-declarative-entities\1/g, JSON.stringify(pathToFileURL(PACKAGE_ENTRY).href)));
  if (!existsSync(join(outDir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  return script;
}

/** A running child script: what it reported (`@@ <json>` lines) and everything it printed. */
export interface ChildRun {
  child: ChildProcess;
  reports: any[];
  output: () => string;
  /** Resolves once a line of output matches (rejects if the process ends first). */
  printed: (pattern: RegExp) => Promise<void>;
  /** The exit code, or the signal that ended it. */
  ended: Promise<number | string>;
}

export function runChildScript(script: string, args: readonly string[]): ChildRun {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'test' } });
  let output = '';
  let pendingLine = '';
  const reports: any[] = [];
  const watchers = new Set<{ pattern: RegExp; resolve: () => void }>();
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    const lines = (pendingLine + chunk.toString()).split('\n');
    pendingLine = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('@@ ')) reports.push(JSON.parse(line.slice(3)));
      for (const watcher of watchers) {
        if (watcher.pattern.test(line)) {
          watchers.delete(watcher);
          watcher.resolve();
        }
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ended = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? -1)));
  const printed = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (output.split('\n').some((line) => pattern.test(line))) return resolve();
      watchers.add({ pattern, resolve });
      void ended.then(() => reject(new Error(`the child ended before printing ${pattern}:\n${output}`)));
    });
  return { child, reports, output: () => output, printed, ended };
}
