import 'reflect-metadata';
import { HttpException, type Type } from '@nestjs/common';
import {
  Allow,
  buildMessage,
  IsDefined,
  IsEmail,
  IsIn,
  IsInt,
  IsPositive,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { Entity, Field, Permission } from '../../../lib/index.js';
import { createEntityDtos } from '../../../lib/http/entity-dto.factory.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';

const IsEven = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isEven',
      validator: {
        validate: (value) => typeof value === 'number' && value % 2 === 0,
        defaultMessage: buildMessage((each) => `${each}$property must be even`, options),
      },
    },
    options,
  );

@Entity('people')
@Permission({ owner: 'ownerId' })
class Person {
  @Field() @MinLength(2) @MaxLength(12) name!: string;
  @Field() @IsEmail() email!: string;
  @Field({ required: false }) @IsIn(['admin', 'member']) role?: string;
  @Field() @IsInt() @Min(0) @Max(150) age!: number;
  @Field({ default: 2 }) @IsPositive() @IsEven() score!: number;
  @Field({ required: false }) @Matches(/^[A-Z]{2}\d{3}$/, { message: '$property must look like AB123, not $value' }) code?: string;
  @Field({ required: false })
  @MinLength(3, { message: (args) => `${args.property} of ${args.targetName} is under ${String(args.constraints[0])}: ${String(args.value)}` })
  nickname?: string;
  @Field() @IsIn(['red', 'green'], { each: true }) colour!: string;
  @Field() birthday!: Date;
  @Field({ default: false }) active!: boolean;
  @Field({ immutable: true }) @IsString({ message: '$property must be text' }) badge!: string;
  @Field({ required: false }) ownerId?: string;
}

@Entity('notes')
class Note {
  @Field() @IsDefined() @MaxLength(8, { message: '' }) title!: string;
  @Field({ required: false }) @Allow() @Min(-1, { each: true }) weight?: number;
  @Field({ required: false }) status: string = 'draft';
  @Field({ required: false, type: 'date' }) due?: string;
  @Field() @Min(0) cost$$!: number;
}

/** An entity's generated bodies and, per field, values its rules accept. */
export interface BodyCase {
  name: string;
  create: Type<object>;
  update: Type<object>;
  good: Record<string, unknown[]>;
}

export const BODY_CASES: BodyCase[] = [
  {
    name: 'Person',
    ...createEntityDtos(createEntityDefinition(Person)),
    good: {
      name: ['Ada', 'Grace Hopper'],
      email: ['ada@example.com'],
      role: ['admin', 'member'],
      age: [0, 36, 150],
      score: [2, 4],
      code: ['AB123'],
      nickname: ['adalove'],
      colour: ['red', 'green'],
      birthday: ['1990-05-01', '2024-03-01T10:00:00.000Z'],
      active: [true, false],
      badge: ['b-1'],
    },
  },
  {
    name: 'Note',
    ...createEntityDtos(createEntityDefinition(Note)),
    good: { title: ['todo', 'x'], weight: [-1, 0, 3.5], status: ['open'], due: ['2024-12-31'], cost$$: [0, 12] },
  },
];

/** Wrong in one way or another for some field: types, bounds, formats, replacement patterns. */
export const ODD_VALUES: unknown[] = [
  ...[null, undefined, 0, -0, 1, 1.5, -1, 2, 151, 1e21, NaN, Infinity, -Infinity, true, false],
  ...['', ' ', 'x', 'AB12', 'ab123', 'a@b', '$&$1$$$value', '2024-02-30', 'red', 'x'.repeat(13), '150'],
  ...[[], ['red'], [1, 2], {}, { nested: 1 }],
];

/** Keys a body may hold besides the DTO's: prototype names, managed fields, the owner field. */
export const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'id', 'ownerId', 'extra', '0', ''];

export const validBody = (bodyCase: BodyCase): Record<string, unknown> =>
  Object.fromEntries(Object.entries(bodyCase.good).map(([field, values]) => [field, values[0]]));

/** An object with these own properties in this order, as JSON.parse builds it (`__proto__` included). */
export function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
}

/** A deep copy keeping own `__proto__` keys, holes and prototypes of plain and null-prototype objects. */
export function copyOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyOf);
  if (value === null || typeof value !== 'object') return value;
  const copy = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    Object.defineProperty(copy, key, { value: copyOf((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/** What validating one body came to, and whether it came synchronously. */
export interface Outcome {
  value?: unknown;
  status?: number;
  response?: unknown;
  thrown?: string;
  sync: boolean;
}

export async function outcomeOf(run: () => unknown): Promise<Outcome> {
  let result: unknown;
  try {
    result = run();
  } catch (error) {
    return { ...failure(error), sync: true };
  }
  if (!(result instanceof Promise)) return { value: result, sync: true };
  try {
    return { value: await result, sync: false };
  } catch (error) {
    return { ...failure(error), sync: false };
  }
}

function failure(error: unknown): Omit<Outcome, 'sync'> {
  if (error instanceof HttpException) return { status: error.getStatus(), response: error.getResponse() };
  return { thrown: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}

/** A body the compiled check answers itself: a plain object whose values (but those the pipe strips) are scalars. */
export function isFlat(body: unknown): boolean {
  if (body === null || typeof body !== 'object' || Object.getPrototypeOf(body) !== Object.prototype) return false;
  return Object.entries(body).every(([key, value]) => key === '__proto__' || key === 'prototype' || value === null || typeof value !== 'object');
}
