import { createRequire } from 'node:module';
import type { Type } from '@nestjs/common';
import {
  getMetadataStorage,
  ValidationTypes,
  type MetadataStorage,
  type ValidationArguments,
  type ValidationError,
  type ValidatorConstraintInterface,
} from 'class-validator';

/** What a compiled check returns for a body only Nest's ValidationPipe can judge exactly. */
export const USE_PIPE = Symbol('use the ValidationPipe');

/** Returns the valid body as the pipe would, throws the pipe's exception, or returns `USE_PIPE`. */
export type BodyCheck = (body: unknown) => unknown;

type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];
interface Validator {
  name: string;
  instance: ValidatorConstraintInterface;
}
type Plain = Record<string, unknown>;

interface Rule {
  metadata: ValidationMetadata;
  validators: Validator[];
}

interface PropertyRules {
  name: string;
  optional: ValidationMetadata[];
  defined: Rule[];
  custom: Rule[];
}

// The types whose `constructor` Nest's stripProtoKeys leaves in place.
const NEST_BUILT_INS: unknown[] = [Date, RegExp, Error, Map, Set, WeakMap, WeakSet];
const TRANSFORMER_MAPS = ['_typeMetadatas', '_transformMetadatas', '_exposeMetadatas', '_excludeMetadatas'];
const require = createRequire(import.meta.url);

/**
 * Compiles the class-validator rules of `dto` into a check that answers as Nest's ValidationPipe
 * (`whitelist`, `forbidNonWhitelisted`, `forbidUnknownValues`, no `transform`) does for a plain
 * object of scalars, at a fraction of its cost: the pipe copies the body through class-transformer
 * twice and builds validation errors for every property, valid or not. Each step below mirrors
 * one of the pipe, class-transformer's `plainToInstance`/`classToPlain` or class-validator's
 * executor, in their order, so that callbacks (messages, constraints, conditions) see the same
 * arguments. `undefined` when a rule is one it does not reproduce (nested, ValidateIf, a
 * constraint class of the app's own or an async one, class-transformer rules...): the pipe then
 * judges every body. The pipe also judges any body that is not a plain object of scalars, and
 * every body once a constraint has answered with a promise.
 */
export function compileBodyCheck(dto: Type<object>, toException: (errors: ValidationError[]) => unknown): BodyCheck | undefined {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(dto, '', false, false);
  if (metadatas.length === 0 || hasTransformerRules(dto)) return undefined;
  const grouped = storage.groupByPropertyName(metadatas);
  const properties: PropertyRules[] = [];
  for (const name of Object.keys(grouped)) {
    const rules = propertyRules(storage, dto.prototype as object, name, grouped[name]);
    if (!rules) return undefined;
    properties.push(rules);
  }
  let synchronous = true;

  return (body) => {
    if (!synchronous || body === null || typeof body !== 'object' || Object.getPrototypeOf(body) !== Object.prototype) return USE_PIPE;
    const plain = body as Plain;
    stripPrototypeKeys(plain);
    const entity = new dto() as Plain;
    for (const key of Object.keys(plain)) {
      // plainToInstance leaves out a key that would shadow an accessor or a method of the instance.
      const descriptor = Object.getOwnPropertyDescriptor(dto.prototype, key);
      if ((descriptor && !descriptor.set) || entity[key] instanceof Function) continue;
      entity[key] = plain[key];
    }
    const keys = Object.keys(entity);
    const problems: ValidationError[] = [];
    for (const key of keys) {
      // class-transformer copies objects deeply, and the pipe also reaches into them.
      if (!isScalar(entity[key])) return USE_PIPE;
      if (!grouped[key] || grouped[key].length === 0) problems.push(problem(key, { [ValidationTypes.WHITELIST]: `property ${key} should not exist` }));
    }
    for (const property of properties) {
      const value = entity[property.name];
      if (!property.optional.every((metadata) => (metadata.constraints[0] as (object: object, value: unknown) => boolean)(entity, value))) continue;
      const constraints: Record<string, string> = {};
      if (!runRules(entity, value, property.defined, constraints) || !runRules(entity, value, property.custom, constraints)) {
        synchronous = false;
        return USE_PIPE;
      }
      if (Object.keys(constraints).length > 0) problems.push(problem(property.name, constraints, []));
    }
    if (problems.length > 0) throw toException(problems);
    const valid: Plain = {};
    for (const key of keys) valid[key] = entity[key];
    return valid;
  };
}

/**
 * What the compiled rules of `dto`'s property `name` say of `value` given alone, as the body
 * check would (class-validator's messages; none when it passes), or `undefined` when they are
 * beyond the compiled check (class-transformer rules, `@ValidateIf`, a constraint class of the
 * app's own, which may need the app's container to be built, an async rule).
 */
export function propertyProblems(dto: Type<object>, name: string, value: unknown): string[] | undefined {
  const storage = getMetadataStorage();
  if (hasTransformerRules(dto, name)) return undefined;
  const metadatas = storage.getTargetValidationMetadatas(dto, '', false, false).filter((metadata) => metadata.propertyName === name);
  const rules = propertyRules(storage, dto.prototype as object, name, metadatas);
  if (!rules) return undefined;
  const entity = Object.assign(Object.create(dto.prototype) as Plain, { [name]: value });
  if (!rules.optional.every((metadata) => (metadata.constraints[0] as (object: object, value: unknown) => boolean)(entity, value))) return [];
  const constraints: Record<string, string> = {};
  if (!runRules(entity, value, rules.defined, constraints) || !runRules(entity, value, rules.custom, constraints)) return undefined;
  return Object.values(constraints);
}

/** The rules of one property, or `undefined` when one of them is beyond the compiled check. */
function propertyRules(storage: MetadataStorage, prototype: object, name: string, metadatas: ValidationMetadata[]): PropertyRules | undefined {
  // An inherited name (`constructor`, `toString`) reads a value no body can set.
  if (name in prototype) return undefined;
  const rules: PropertyRules = { name, optional: [], defined: [], custom: [] };
  for (const metadata of metadatas) {
    if (metadata.validateIf) return undefined;
    if (metadata.type === ValidationTypes.WHITELIST) continue;
    if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION && metadata.name === 'isOptional') {
      rules.optional.push(metadata);
      continue;
    }
    if (metadata.type !== ValidationTypes.CUSTOM_VALIDATION && metadata.type !== ValidationTypes.IS_DEFINED) return undefined;
    const constraints = storage.getTargetValidatorConstraints(metadata.constraintCls);
    // Only the classes registerDecorator wraps around a validator object (the built-ins, ValidateBy):
    // a constraint class of the app's own may be asynchronous without saying so.
    if (metadata.constraintCls?.name !== 'CustomConstraint' || constraints.length === 0 || constraints.some((constraint) => constraint.async)) {
      return undefined;
    }
    // The container's lookup is a scan of every constraint it has made, on each use in the executor;
    // registerDecorator's wrappers hold no state, so the first instance answers as any other would.
    const validators = constraints.map(({ name, instance }) => ({ name, instance: instance as ValidatorConstraintInterface }));
    (metadata.type === ValidationTypes.IS_DEFINED ? rules.defined : rules.custom).push({ metadata, validators });
  }
  return rules;
}

/** Runs `rules` as class-validator's executor does, into `constraints`; false when one answered with a promise. */
function runRules(entity: Plain, value: unknown, rules: Rule[], constraints: Record<string, string>): boolean {
  for (const { metadata, validators } of rules) {
    for (const validator of validators) {
      const valid: unknown = validator.instance.validate(value, argumentsOf(entity, value, metadata));
      if (valid !== null && typeof valid === 'object' && typeof (valid as { then?: unknown }).then === 'function') return false;
      if (!valid) constraints[validator.name ? validator.name : metadata.type] = messageOf(entity, value, metadata, validator);
    }
  }
  return true;
}

function messageOf(entity: Plain, value: unknown, metadata: ValidationMetadata, validator: Validator): string {
  const args = argumentsOf(entity, value, metadata);
  let message: unknown = metadata.message || '';
  if (!metadata.message && validator.instance.defaultMessage instanceof Function) message = validator.instance.defaultMessage(args);
  return replaceMessageTokens(message, args);
}

function argumentsOf(entity: Plain, value: unknown, metadata: ValidationMetadata): ValidationArguments {
  return {
    targetName: (entity.constructor as Function | undefined)?.name as string,
    property: metadata.propertyName,
    object: entity,
    value,
    constraints: metadata.constraints,
  };
}

/** class-validator's `ValidationUtils.replaceMessageSpecialTokens`, which it does not export. */
function replaceMessageTokens(message: unknown, args: ValidationArguments): string {
  let text: string | undefined;
  if (message instanceof Function) text = message(args) as string;
  else if (typeof message === 'string') text = message;
  if (text && Array.isArray(args.constraints)) {
    args.constraints.forEach((constraint: unknown, index) => {
      text = text!.replace(new RegExp(`\\$constraint${index + 1}`, 'g'), constraintToString(constraint));
    });
  }
  if (text && args.value !== undefined && args.value !== null && ['string', 'boolean', 'number'].includes(typeof args.value)) {
    text = text.replace(/\$value/g, String(args.value));
  }
  if (text) text = text.replace(/\$property/g, args.property);
  if (text) text = text.replace(/\$target/g, args.targetName);
  return text as string;
}

function constraintToString(constraint: unknown): string {
  if (Array.isArray(constraint)) return constraint.join(', ');
  return `${typeof constraint === 'symbol' ? constraint.description : constraint}`;
}

function problem(property: string, constraints: Record<string, string>, children?: ValidationError[]): ValidationError {
  return { property, constraints, children } as ValidationError;
}

function isScalar(value: unknown): boolean {
  return value === null || value === undefined || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** Nest's stripProtoKeys on the one object a flat body is, in place as it does. */
function stripPrototypeKeys(body: Plain): void {
  delete body['__proto__'];
  delete body['prototype'];
  if (!NEST_BUILT_INS.includes(body['constructor'])) delete body['constructor'];
}

/** Whether class-transformer has rules for `dto` or a class it extends, of `property` when given (true when its storage cannot be read). */
function hasTransformerRules(dto: Function, property?: string): boolean {
  try {
    const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as {
      defaultMetadataStorage: Record<string, Map<unknown, Map<string | undefined, unknown>>>;
    };
    for (let type: unknown = dto; typeof type === 'function' && type !== Function.prototype; type = Object.getPrototypeOf(type)) {
      for (const map of TRANSFORMER_MAPS) {
        const byProperty = defaultMetadataStorage[map]!.get(type);
        // Of one property: its own rules, or a class-wide @Expose/@Exclude.
        if (byProperty && (property === undefined || byProperty.has(property) || byProperty.has(undefined))) return true;
      }
    }
    return false;
  } catch {
    return true;
  }
}
