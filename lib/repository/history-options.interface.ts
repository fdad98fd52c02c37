import type { HistoryPage } from '../storage/field-history.store.js';
import type { PrincipalContext } from './principal-context.interface.js';

/**
 * `EntityRepository.history`'s options: on behalf of whom, and which values. With `field`, only
 * that field's; with `limit`, each field's newest `limit` values; with `before`, only values
 * older than that version. A field's next page is `before` the oldest version of the page
 * before: fields change at different versions, so page them one `field` at a time.
 */
export interface HistoryOptions extends PrincipalContext, HistoryPage {}
