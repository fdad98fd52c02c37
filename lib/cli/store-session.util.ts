import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import { LmdbEnvironment } from '../storage/lmdb-environment.store.js';
import { definitionsFromCatalog, readCatalogAt, type StoreCatalog } from '../storage/store-catalog.util.js';
import type { StoreWriter } from '../storage/store-writers.store.js';
import type { MigrationRunOptions } from '../storage/schema-migrator.service.js';
import { createStoreParts } from '../wiring/store-parts.factory.js';
import { CliFailure } from './cli-failure.exception.js';
import { EXIT_CODES } from './exit-code.constants.js';

/** How a command uses the store. */
export interface StoreAccess {
  /** Set by commands that change the store: they are listed as this writer, and refuse while another runs. */
  writerRole?: string;
  /** Change the store even though another writer is listed as running. */
  force?: boolean;
  /** The command changes records, grants or the log, which a replicated store takes only from its stream. */
  changesState?: boolean;
  /** The command reads only the log and the raw environment, so a store without a catalog will do. */
  withoutCatalog?: boolean;
  /**
   * Where `--path` holds no store yet, create one with this catalog, opened as an app
   * would open it, so the app later finds a store like one it made.
   */
  createWith?: StoreCatalog;
  /** Added to the message when `--path` holds no store. */
  missingStoreHint?: string;
  /** Open the store with these definitions rather than the catalog's (`migrate`: the user's classes, with their steps). */
  definitions?: EntityDefinition[];
  /**
   * Open the store as an app would (`migrate`): indexes built, history trimmed and migrations
   * run as `migration` says, then the catalog recorded; the checks above come first.
   */
  asApp?: { migration: MigrationRunOptions };
}

/** The store at `--path`, opened as an app would wire it (audit trail, grants), with the catalog's entities. */
export interface StoreSession {
  path: string;
  storage: EntityStorage;
  environment: LmdbEnvironment;
  definitions: EntityDefinition[];
  catalog?: StoreCatalog;
}

/** The absolute path of the store at `path`; fails with exit code 3 when there is none. */
export function storePath(path: string, hint = 'check --path'): string {
  const absolute = resolve(path);
  const missing = (why: string) => noStoreAt(absolute, why, hint);
  if (!existsSync(absolute)) throw missing('the directory does not exist');
  if (!statSync(absolute).isDirectory()) throw missing('it is not a directory');
  if (!existsSync(join(absolute, 'data.mdb'))) throw missing('the directory holds no data.mdb');
  return absolute;
}

function noStoreAt(absolute: string, why: string, hint = 'check --path'): CliFailure {
  return new CliFailure(`no store at ${absolute}: ${why} (${hint})`, EXIT_CODES.noStore);
}

/** Fails unless `target` can receive a copy of a store: no file, and no store in it yet. `doing` says what the command does there ("back up"). */
export function checkCopyTarget(target: string, doing: string): void {
  if (existsSync(target) && !statSync(target).isDirectory())
    throw new CliFailure(`${target} is not a directory; ${doing} into a new directory`, EXIT_CODES.failed);
  if (existsSync(join(target, 'data.mdb'))) throw new CliFailure(`${target} already holds a store; ${doing} into a new directory`, EXIT_CODES.failed);
}

/** Opens the store, runs `fn`, and closes the store however `fn` ends. */
export async function withStore<R>(path: string, access: StoreAccess, fn: (session: StoreSession) => Promise<R>): Promise<R> {
  const creating = access.createWith !== undefined && !existsSync(join(resolve(path), 'data.mdb'));
  // LMDB would fail on it with a bare EEXIST.
  if (creating && existsSync(resolve(path)) && !statSync(resolve(path)).isDirectory()) throw noStoreAt(resolve(path), 'it is not a directory');
  const absolute = creating ? resolve(path) : storePath(path, access.missingStoreHint);
  const catalog = creating ? access.createWith : await readCatalogAt(absolute);
  if (!catalog && !access.withoutCatalog) {
    throw new CliFailure(
      `the store at ${absolute} has no catalog of its entities: it was last opened by an older version of nestjs-declarative-entities. ` +
        'Start the app once with this version (it records the catalog as it opens the store), then run the command again.',
      EXIT_CODES.noCatalog,
    );
  }
  // A command that changes nothing opens the store read-only: it can then neither create a
  // database nor touch a byte of the store, whatever it finds there.
  const readOnly = access.writerRole === undefined && !creating;
  const environment = new LmdbEnvironment(absolute, {}, readOnly);
  const { storage } = createStoreParts(environment, catalog?.options ?? {});
  const definitions = access.definitions ?? definitionsFromCatalog(catalog?.entities ?? []);
  for (const definition of definitions) storage.register(definition);
  const admit = () => {
    if (access.writerRole !== undefined && !access.force) refuseIfOtherWriters(absolute, storage.otherWriters());
    if (access.changesState) refuseIfReplicated(absolute, storage.replicatedSeq());
  };
  try {
    if (creating || access.asApp) await storage.open(access.writerRole, { admit, migration: access.asApp?.migration });
    else await storage.attach(access.writerRole, admit);
    return await fn({ path: absolute, storage, environment, definitions, catalog });
  } finally {
    await storage.close();
  }
}

/** The definition of entity `name`, or a usage error listing the entities there are. */
export function entityNamed(session: StoreSession, name: string): EntityDefinition {
  const definition = session.definitions.find((candidate) => candidate.name === name);
  if (definition) return definition;
  const known = session.definitions.map((candidate) => candidate.name).join(', ') || 'none';
  throw new CliFailure(`the store has no entity "${name}" (its entities: ${known})`, EXIT_CODES.usage);
}

/**
 * Refuses to work from the catalog while the records are not at the versions it describes: a
 * migration cut short, or one the app that recorded the catalog has not finished. A tool
 * would otherwise take the fields of records already migrated, or not yet, for undeclared ones.
 * Only the entities a command works on (`definitions`) count: another's migration is no concern of it.
 */
export function refuseUnsettledSchemas(session: StoreSession, definitions: readonly EntityDefinition[] = session.definitions): void {
  for (const definition of definitions) {
    const { version, migrating } = session.storage.schema.of(definition.name);
    if (version === definition.version && !migrating) continue;
    const stored = migrating ? `part way from version ${version} to ${migrating.to}` : `at version ${version}`;
    throw new CliFailure(
      `the records of ${definition.name} are ${stored}, while the store's catalog describes version ${definition.version}: ` +
        'start the app (or run migrate) to finish the migration, then run this command again',
      EXIT_CODES.failed,
    );
  }
}

/** A change made by a tool to one instance of a replicated store would make it differ from the others for ever. */
function refuseIfReplicated(path: string, seq: number): void {
  if (seq === 0) return;
  throw new CliFailure(
    `the store at ${path} is replicated (it applied message ${seq} of its stream): this command would change it and no other instance. Make the change through the app.`,
    EXIT_CODES.replicated,
  );
}

/**
 * This command has already listed itself, so an app starting from now on is visible to
 * the next tool; any other live writer listed means the store is in use.
 */
function refuseIfOtherWriters(path: string, others: readonly StoreWriter[]): void {
  if (others.length === 0) return;
  const listed = others.map((writer) => `${writer.role} (pid ${writer.pid} on ${writer.host}, since ${writer.since})`).join('; ');
  throw new CliFailure(
    `the store at ${path} is open for writing by ${listed}. Stop it first; pass --force only if it is certainly not writing to this store.`,
    EXIT_CODES.writerRunning,
  );
}
