import type { EntityDefinition } from '../metadata/entity-definition.interface.js';

/**
 * The entities of one store, by name and by class. A name keys the entity's databases and a
 * path its routes, so two entities sharing either fail start-up, naming both classes.
 */
export class EntityRegistry {
  private readonly byName = new Map<string, EntityDefinition>();
  /** Every write through a repository or transaction looks its entity up by class. */
  private readonly byTarget = new Map<Function, EntityDefinition>();
  private readonly routed = new Set<string>();

  /** Adds an entity; `false` when its class is registered already. */
  add(definition: EntityDefinition): boolean {
    const existing = this.byName.get(definition.name);
    if (existing?.target === definition.target) return false;
    if (existing) {
      throw new Error(`${definition.target.name}: entity name "${definition.name}" is already used by ${existing.target.name}`);
    }
    for (const other of this.byName.values()) {
      if (other.path === definition.path) {
        throw new Error(`${definition.target.name}: route path "/${definition.path}" is already used by ${other.target.name}`);
      }
    }
    this.byName.set(definition.name, definition);
    this.byTarget.set(definition.target, definition);
    return true;
  }

  /** One entity's routes may be served once, however many modules list it. */
  claimRoutes(definition: EntityDefinition): void {
    if (this.routed.has(definition.name)) {
      throw new Error(`${definition.target.name}: is listed in more than one EntitiesModule.forFeature(); list each entity once`);
    }
    this.routed.add(definition.name);
  }

  of(target: Function): EntityDefinition {
    const definition = this.byTarget.get(target);
    if (definition) return definition;
    throw new Error(`${target.name} is not an entity of this store: list it in EntitiesModule.forFeature()`);
  }

  named(name: string): EntityDefinition | undefined {
    return this.byName.get(name);
  }

  all(): EntityDefinition[] {
    return [...this.byName.values()];
  }
}
