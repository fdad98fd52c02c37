import type { EntityPermissionRules, FieldPermissionRules } from '../metadata/decorator-options.interface.js';
import { entityPermissionReflector, recordPropertyFacts } from '../metadata/metadata.reflector.js';

/**
 * On a class: the permission string each action needs; an action left out needs
 * `'<entity name>:<action>'`, and `null` opens it to everyone. On a property: the
 * permission needed to read the field and to write it.
 */
export function Permission(rules: EntityPermissionRules | FieldPermissionRules): ClassDecorator & PropertyDecorator {
  return (target: object, property?: string | symbol) => {
    if (property === undefined) entityPermissionReflector.set(target, { ...rules });
    // The union lets a class rule reach a property; the definition reader refuses it there, naming the field.
    else recordPropertyFacts(target.constructor, String(property), { permission: { ...(rules as FieldPermissionRules) } });
  };
}
