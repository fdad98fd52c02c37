import type { StorageOptions } from '../common/storage-options.interface.js';

/**
 * Whether `migrate` leaves pending migrations to the command line (`'manual'`); fails start-up
 * for a value that is not an option, and for `'manual'` on a `replicated` store.
 */
export function migratesManually(migrate: StorageOptions['migrate'], replicated: boolean): boolean {
  if (migrate !== undefined && migrate !== 'on-start' && migrate !== 'manual') {
    throw new Error(`EntitiesModule.forRoot migrate must be 'on-start' or 'manual', not ${JSON.stringify(migrate)}`);
  }
  // The command line changes no replicated store, so nothing could run the steps.
  if (migrate === 'manual' && replicated) {
    throw new Error("EntitiesModule.forRoot migrate: 'manual' cannot be used with replication: replicated instances migrate as they start");
  }
  return migrate === 'manual';
}
