import { accessSync, constants, createReadStream, fstatSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { FIELD_TYPES, STORAGE_NAME } from '../common/metadata.constants.js';
import type { CatalogEntity, StoreCatalog } from '../storage/store-catalog.util.js';
import { CliFailure } from './cli-failure.exception.js';
import { EXIT_CODES } from './exit-code.constants.js';
import type { ExportHeader } from './export-line.interface.js';
import type { InputLine } from './import-batch.util.js';

/** The input of `import`: a file, or stdin for `-` or none. */
export function openInput(file: string | undefined): NodeJS.ReadableStream {
  if (file === undefined || file === '-') {
    // Waiting for someone to type NDJSON is never what was meant.
    if (process.stdin.isTTY)
      throw new CliFailure('import reads an export from a file argument or from stdin (< file.ndjson); stdin is a terminal', EXIT_CODES.usage);
    return process.stdin;
  }
  // A pipe or a device reads as well as a file: `import <(gunzip -c export.ndjson.gz)`, `import /dev/stdin`.
  let readable: boolean;
  try {
    // Asked without opening it: a pipe opened and closed again would end its writer.
    accessSync(file, constants.R_OK);
    readable = !statSync(file).isDirectory();
  } catch {
    readable = false;
  }
  if (!readable) throw new CliFailure(`cannot read ${file}: not a readable file`, EXIT_CODES.usage);
  return createReadStream(file);
}

/** The input's size in bytes when it is a file (or stdin redirected from one), else 0. */
export function inputSize(file: string | undefined): number {
  const stat = file === undefined || file === '-' ? fstatSync(0) : statSync(file);
  return stat.isFile() ? stat.size : 0;
}

/** Non-empty lines with their line numbers, read lazily; `bytes` counts the blank lines before a line too. */
export async function* inputLines(input: NodeJS.ReadableStream): AsyncGenerator<InputLine & { bytes: number }> {
  let number = 0;
  let bytes = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    number++;
    bytes += Buffer.byteLength(text) + 1;
    if (text.trim() === '') continue;
    // A byte order mark, which editors on Windows put before the first line, is no part of the JSON.
    yield { number, text: number === 1 ? text.replace(/^\uFEFF/, '') : text, bytes };
    bytes = 0;
  }
}

/** The catalog of an export's first line, or `undefined` when the line is a record. */
export function headerCatalog(line: InputLine): StoreCatalog | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.text);
  } catch {
    return undefined;
  }
  const catalog = (parsed as Partial<ExportHeader> | null)?.catalog;
  if (catalog === undefined) return undefined;
  if (!Array.isArray(catalog?.entities) || !catalog.entities.every(isCatalogEntity) || catalog.options === null || typeof catalog.options !== 'object') {
    throw new CliFailure(`line ${line.number}: the catalog line is malformed`, EXIT_CODES.failed);
  }
  return catalog;
}

const FIELD_TYPE_SET: ReadonlySet<string> = new Set(FIELD_TYPES);
const DELETE_RULES: ReadonlySet<string> = new Set(['restrict', 'cascade', 'setNull']);

/** Enough of an entity's shape that a store can be created from it; names end up as database names. */
function isCatalogEntity(entity: unknown): boolean {
  const { name, path, fields, indexes, references } = (entity ?? {}) as Partial<CatalogEntity>;
  return (
    typeof name === 'string' &&
    STORAGE_NAME.test(name) &&
    typeof path === 'string' &&
    Array.isArray(fields) &&
    fields.every((field) => typeof field?.name === 'string' && FIELD_TYPE_SET.has(field.type)) &&
    Array.isArray(indexes) &&
    indexes.every((index) => typeof index?.name === 'string' && STORAGE_NAME.test(index.name) && Array.isArray(index.fields)) &&
    (references === undefined ||
      (Array.isArray(references) &&
        references.every((reference) => typeof reference?.field === 'string' && typeof reference.target === 'string' && DELETE_RULES.has(reference.onDelete))))
  );
}
