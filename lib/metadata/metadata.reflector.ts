import 'reflect-metadata';
import type {
  CachedOptions,
  CompositeOptions,
  EntityOptions,
  EntityPermissionRules,
  FieldOptions,
  FieldPermissionRules,
  HistoryPolicy,
  IndexOptions,
  ReferenceOptions,
} from './decorator-options.interface.js';
import type { Type } from '@nestjs/common';
import { METADATA_KEYS } from '../common/metadata.constants.js';

type Target = object;

/**
 * Facts recorded by property decorators, keyed by property name. Each decorator fills
 * its own slot, so they stack in any order.
 */
export interface PropertyFacts {
  field?: FieldOptions;
  index?: IndexOptions;
  historize?: HistoryPolicy;
  permission?: FieldPermissionRules;
  reference?: ReferenceFacts;
}

export interface ReferenceFacts extends ReferenceOptions {
  target: () => Type<object>;
}

export interface CompositeFacts extends CompositeOptions {
  fields: readonly string[];
}

/**
 * A typed handle on one class-level metadata key. `get` sees inherited values because
 * `Reflect.getMetadata` walks the prototype chain, so entity classes can extend each other.
 */
class ClassReflector<T> {
  constructor(private readonly key: string) {}

  get(target: Target): T | undefined {
    return Reflect.getMetadata(this.key, target) as T | undefined;
  }

  set(target: Target, value: T): void {
    Reflect.defineMetadata(this.key, value, target);
  }

  /** The class's own value, never one it inherits. */
  getOwn(target: Target): T | undefined {
    return Reflect.getOwnMetadata(this.key, target) as T | undefined;
  }
}

export const entityReflector = new ClassReflector<EntityOptions>(METADATA_KEYS.entity);
export const classHistoryReflector = new ClassReflector<HistoryPolicy>(METADATA_KEYS.historize);
export const entityPermissionReflector = new ClassReflector<EntityPermissionRules>(METADATA_KEYS.permission);
export const auditedReflector = new ClassReflector<boolean>(METADATA_KEYS.audited);
export const cachedReflector = new ClassReflector<CachedOptions>(METADATA_KEYS.cached);
/** The injection token of an entity class's repository; its own, as a subclass is an entity of its own. */
export const repositoryTokenReflector = new ClassReflector<symbol>(METADATA_KEYS.repositoryToken);

const propertiesReflector = new ClassReflector<Record<string, PropertyFacts>>(METADATA_KEYS.properties);
const compositesReflector = new ClassReflector<readonly CompositeFacts[]>(METADATA_KEYS.composites);

/** Merges one decorator's facts into a property's entry, copying so subclasses never mutate a parent's map. */
export function recordPropertyFacts(target: Target, property: string, facts: PropertyFacts): void {
  const current = propertiesReflector.get(target) ?? {};
  propertiesReflector.set(target, { ...current, [property]: { ...current[property], ...facts } });
}

export function readPropertyFacts(target: Target): Readonly<Record<string, PropertyFacts>> {
  return propertiesReflector.get(target) ?? {};
}

export function recordComposite(target: Target, composite: CompositeFacts): void {
  compositesReflector.set(target, [...(compositesReflector.get(target) ?? []), composite]);
}

export function readComposites(target: Target): readonly CompositeFacts[] {
  return compositesReflector.get(target) ?? [];
}

/** The property's TypeScript type as emitted by `emitDecoratorMetadata`. */
export function readDesignType(prototype: Target, property: string): unknown {
  return Reflect.getMetadata('design:type', prototype, property);
}
