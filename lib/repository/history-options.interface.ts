import type { HistoryPage } from '../storage/field-history.store.js';
import type { PrincipalContext } from './principal-context.interface.js';

/**
 * `EntityRepository.history`'s options: on behalf of whom, and which values of each field. With
 * `limit`, each field answers its newest `limit` values; with `before`, only values older than
 * that version: the next page of a field starts before the oldest version of the one before.
 */
export interface HistoryOptions extends PrincipalContext, HistoryPage {}
