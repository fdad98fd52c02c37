import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';

/**
 * `EntityRecord<T>` maps `Date` fields to ISO strings and `EntityInput<T>` accepts `Date | string`
 * for them, but the conditional `T[K] extends Date` is false for an optional field
 * (`Date | undefined`), so optional date fields keep the type `Date` in records (runtime: a string)
 * and refuse ISO strings as input (runtime: accepted). And `update`'s patch type refuses `null`,
 * which README documents as clearing an optional field.
 */
const SOURCE = `
import { Defaulted, type EntityInput, type EntityRecord, type EntityRepository } from ${JSON.stringify(resolve('lib/index.js'))};
class Permit {
  declare readonly [Defaulted]?: 'status' | 'priority';
  number!: string;
  status!: string;
  priority?: number;
  issuedOn!: Date;
  expiresOn?: Date;
  note?: string;
}
declare const repo: EntityRepository<Permit>;
declare const record: EntityRecord<Permit>;
export const expires: string | undefined = record.expiresOn;
export const input: EntityInput<Permit> = { number: 'P-1', issuedOn: '2026-01-01', expiresOn: '2027-01-01' };
export const defaulted: EntityInput<Permit> = { number: 'P-1', issuedOn: new Date(), status: 'draft', priority: 2 };
export const created = repo.create({ number: 'P-2', issuedOn: new Date() });
export const status: string = record.status;
// @ts-expect-error a field without a default is still required
export const missing: EntityInput<Permit> = { issuedOn: new Date() };
// @ts-expect-error the marker is no field of a record
export const marker = record[Defaulted];
export const cleared = repo.update('id', { note: null });
export const moved = repo.update('id', { expiresOn: '2028-01-01' });
// @ts-expect-error a required field cannot be cleared
export const refused = repo.update('id', { number: null });
// @ts-expect-error a stored date is an ISO string
export const time = record.expiresOn?.getTime();
class Plain {
  number!: string;
  note?: string;
}
export const plain: EntityInput<Plain> = { number: 'P-3' };
// @ts-expect-error without the marker every required field is required
export const bare: EntityInput<Plain> = {};
`;

describe('EntityRecord / EntityInput / update patch types', () => {
  it('type optional Date fields as ISO strings, and let update clear with null', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hunt-types-'));
    try {
      const file = join(dir, 'usage.ts');
      writeFileSync(file, SOURCE);
      const program = ts.createProgram([file], {
        strict: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        skipLibCheck: true,
        noEmit: true,
        lib: ['lib.es2022.d.ts', 'lib.es2024.string.d.ts'],
        types: ['node'],
        typeRoots: [resolve('node_modules/@types')],
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .filter((d) => d.file?.fileName === file)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);
});
