import type { HistoryPolicy } from '../metadata/decorator-options.interface.js';
import { classHistoryReflector, recordPropertyFacts } from '../metadata/metadata.reflector.js';

/**
 * History kept for a field: `'full'` every value, `{ versions: N }` the N most recent
 * values (the current one included), `'never'` none. On a class: the default for its fields.
 */
export function Historize(policy: HistoryPolicy): ClassDecorator & PropertyDecorator {
  return (target: object, property?: string | symbol) => {
    if (property === undefined) classHistoryReflector.set(target, policy);
    else recordPropertyFacts(target.constructor, String(property), { historize: policy });
  };
}
