import { EntitiesException } from '../common/entities.exception.js';

/**
 * The store's records of an entity are at a newer schema version than the code opening it
 * declares (`@Entity({ migrations })`): code that does not know the newer steps would misread
 * and overwrite those records, so the store is not opened.
 */
export class StoreSchemaNewerException extends EntitiesException {
  constructor(
    readonly entity: string,
    readonly stored: number,
    readonly declared: number,
  ) {
    super(
      `the records of ${entity} are at schema version ${stored}, newer than version ${declared} this code declares: ` +
        'run the code that migrated them (or a newer one)',
    );
  }
}

/** Migrations are run by the command line (`migrate: 'manual'`) and some have not run: the store is not opened. */
export class MigrationsPendingException extends EntitiesException {
  constructor(readonly pending: ReadonlyArray<{ entity: string; from: number; to: number }>) {
    super(
      `the store has migrations to run: ${pending.map(({ entity, from, to }) => `${entity} ${from} → ${to}`).join(', ')}. ` +
        'Run `npx nestjs-declarative-entities migrate --path <dir> --entities <compiled file exporting the entity classes>` ' +
        "(with --dry-run first), or open the store with migrate: 'on-start'",
    );
  }
}

/** A record cannot go through an entity's migration steps; the batch it was in stored nothing. */
export class MigrationFailedException extends EntitiesException {
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly problems: readonly string[],
  ) {
    super(`migrating ${entity} ${id} failed: ${problems.join('; ')}`);
  }
}
