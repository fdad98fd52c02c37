import { auditedReflector } from '../metadata/metadata.reflector.js';

/** Every create, replace, update and delete of this entity writes an audit entry. */
export function Audited(): ClassDecorator {
  return (target) => auditedReflector.set(target, true);
}
