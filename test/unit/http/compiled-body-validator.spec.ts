import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { Transform } from 'class-transformer';
import {
  IsIn,
  IsString,
  MinLength,
  registerDecorator,
  Validate,
  ValidateBy,
  ValidateIf,
  ValidateNested,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import fc from 'fast-check';
import { createBodyPipe, createBodyValidator, pipeValidator, validateBatch, type BodyValidator } from '../../../lib/http/entity-body.util.js';
import { BODY_CASES, copyOf, isFlat, objectOf, ODD_KEYS, ODD_VALUES, outcomeOf, validBody, type BodyCase, type Outcome } from './body-validator-cases.util.js';

/**
 * Validates `body` with the compiled validator and with Nest's ValidationPipe (as the package
 * runs it: keeping the keys the body sent), each on its own copy, and expects the same.
 */
async function expectSameAsPipe(validator: BodyValidator, dto: Type<object>, body: unknown): Promise<Outcome> {
  const pipe = pipeValidator(createBodyPipe(dto));
  const [compiledBody, pipeBody] = [copyOf(body), copyOf(body)];
  const compiled = await outcomeOf(() => validator.validate(compiledBody));
  const piped = await outcomeOf(() => pipe.validate(pipeBody));
  expect({ ...compiled, sync: undefined }).toStrictEqual({ ...piped, sync: undefined });
  // The pipe strips prototype keys from the body itself, and a batch goes on with its items.
  expect(compiledBody).toStrictEqual(pipeBody);
  return compiled;
}

/** Also expects the compiled rules, not the pipe, to have answered a body they can. */
async function expectCompiledSameAsPipe(validator: BodyValidator, dto: Type<object>, body: unknown): Promise<Outcome> {
  const compiled = await expectSameAsPipe(validator, dto, body);
  if (isFlat(body)) expect(compiled.sync).toBe(true);
  return compiled;
}

function handPicked(bodyCase: BodyCase): unknown[] {
  const valid = validBody(bodyCase);
  const json = JSON.stringify(valid);
  const bodies: unknown[] = [null, undefined, 'text', 42, true, [], [valid], {}, valid, Object.assign(Object.create(null) as object, valid)];
  bodies.push({ ...valid, extra: 1 }, { zeta: 1, ...valid, alpha: [1], beta: {} });
  bodies.push(JSON.parse(`{"__proto__":{"admin":true},"constructor":1,"prototype":{"x":1},${json.slice(1)}`));
  bodies.push({ ...valid, toString: 'x', valueOf: null, hasOwnProperty: 1, constructor: { a: 1 } });
  // Enough long unknown keys to pass the pipe's million characters of messages.
  bodies.push(Object.fromEntries(Array.from({ length: 120 }, (_, index) => [`${index}`.padStart(5000, 'k'), 1])));
  for (const key of ODD_KEYS) bodies.push(objectOf([...Object.entries(valid), [key, 1]]));
  for (const field of Object.keys(valid)) {
    const { [field]: _left, ...without } = valid;
    bodies.push(without);
    for (const value of ODD_VALUES) bodies.push({ ...valid, [field]: value });
  }
  return bodies;
}

describe.each(BODY_CASES)('the compiled validator of $name', (bodyCase) => {
  const dtos = { create: bodyCase.create, update: bodyCase.update };

  it.each(Object.entries(dtos))('is compiled for the %s body', (_verb, dto) => {
    expect(createBodyValidator(dto).compiled).toBe(true);
  });

  it.each(Object.entries(dtos))('answers as the ValidationPipe on hand-picked %s bodies', async (_verb, dto) => {
    const validator = createBodyValidator(dto);
    for (const body of handPicked(bodyCase)) await expectCompiledSameAsPipe(validator, dto, body);
  });

  it.each(Object.entries(dtos))('answers as the ValidationPipe on generated %s bodies', async (_verb, dto) => {
    const validator = createBodyValidator(dto);
    const fields = Object.keys(bodyCase.good);
    const anyValue = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...ODD_VALUES, ...Object.values(bodyCase.good).flat()) },
      { weight: 2, arbitrary: fc.oneof(fc.string({ maxLength: 14 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    );
    const key = fc.oneof(fc.constantFrom(...fields), fc.constantFrom(...ODD_KEYS), fc.string({ maxLength: 6 }));
    const ABSENT = Symbol('absent');
    const shaped = fc
      .tuple(
        fc.record(
          Object.fromEntries(
            fields.map((field) => [
              field,
              fc.oneof(
                { weight: 20, arbitrary: fc.constantFrom(...bodyCase.good[field]!) },
                { weight: 1, arbitrary: fc.constant(ABSENT) },
                { weight: 1, arbitrary: anyValue },
              ),
            ]),
          ),
        ),
        fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(key, anyValue), { maxLength: 3 }) }),
      )
      .map(([known, extra]) => objectOf([...Object.entries(known).filter(([, value]) => value !== ABSENT), ...extra]));
    const loose = fc.array(fc.tuple(key, anyValue), { maxLength: 10 }).map(objectOf);
    const body = fc.oneof({ weight: 6, arbitrary: shaped }, { weight: 2, arbitrary: loose }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
    let passed = 0;
    await fc.assert(
      fc.asyncProperty(body, async (generated) => {
        if ((await expectCompiledSameAsPipe(validator, dto, generated)).status === undefined) passed++;
      }),
      { numRuns: 400 },
    );
    // Valid bodies are the ones whose copy the pipe returns: they must be common, not a fluke.
    expect(passed).toBeGreaterThan(40);
  });

  it('checks a batch as the pipe did, item by item with their index', async () => {
    const valid = validBody(bodyCase);
    const batch = [
      valid,
      { ...valid, extra: 1 },
      null,
      JSON.parse(`{"__proto__":{"a":1},${JSON.stringify(valid).slice(1)}`),
      { ...valid, [Object.keys(valid)[0]!]: 7 },
    ];
    const [compiledBatch, pipeBatch] = [copyOf(batch), copyOf(batch)];
    const compiled = await outcomeOf(() => validateBatch(createBodyValidator(bodyCase.create), compiledBatch, 10));
    const piped = await outcomeOf(() => validateBatch(pipeValidator(createBodyPipe(bodyCase.create)), pipeBatch, 10));
    expect(compiled).toStrictEqual(piped);
    expect((compiled.response as { message: string[] }).message.some((message) => message.startsWith('[1] '))).toBe(true);
    expect(compiledBatch).toStrictEqual(pipeBatch);
    const validBatch = [valid, JSON.parse(`{"__proto__":{"a":1},${JSON.stringify(valid).slice(1)}`)];
    const [compiledValid, pipeValid] = [copyOf(validBatch), copyOf(validBatch)];
    expect(await outcomeOf(() => validateBatch(createBodyValidator(bodyCase.create), compiledValid, 10))).toStrictEqual(
      await outcomeOf(() => validateBatch(pipeValidator(createBodyPipe(bodyCase.create)), pipeValid, 10)),
    );
  });
});

class Inner {
  @IsString() label!: string;
}

class WithNested {
  @IsString() name!: string;
  @ValidateNested() inner!: Inner;
}

class WithCondition {
  @IsIn(['a', 'b']) kind!: string;
  @ValidateIf((object: WithCondition) => object.kind === 'a') @IsString() name!: string;
}

/** Declared async, which ValidateBy cannot say (it drops its `async` option). */
const Later = (): PropertyDecorator => (prototype, property) =>
  registerDecorator({
    name: 'later',
    async: true,
    target: prototype.constructor,
    propertyName: String(property),
    validator: { validate: (value: unknown) => Promise.resolve(value === 'ok') },
  });

class WithAsync {
  @Later() name!: string;
}

@ValidatorConstraint({ name: 'shouting' })
class Shouting implements ValidatorConstraintInterface {
  validate(value: unknown) {
    return typeof value === 'string' && value === value.toUpperCase();
  }
  defaultMessage() {
    return '$property must shout';
  }
}

class WithConstraintClass {
  @Validate(Shouting) name!: string;
}

class WithTransform {
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value)) @IsString() @MinLength(2) name!: string;
}

class Unruled {
  name!: string;
}

/** A promise where a boolean is declared: class-validator awaits it all the same. */
class WithHiddenPromise {
  @ValidateBy({ name: 'sneaky', validator: { validate: (value) => Promise.resolve(value === 'ok') as unknown as boolean } }) name!: string;
}

const FALLBACK_BODIES: unknown[] = [
  {},
  { name: 'ok' },
  { name: ' ok ' },
  { name: 'OK', extra: 1 },
  { name: 'no', kind: 'b' },
  { name: 1, kind: 'a' },
  { name: 'x', inner: { label: 1 } },
  { name: 'x', inner: { label: 'y' } },
  null,
  [],
];

describe('a body validator and the entity class’s property initialisers', () => {
  const note = BODY_CASES.find((bodyCase) => bodyCase.name === 'Note')!;

  it.each([
    ['compiled', () => createBodyValidator(note.update)],
    ['through the pipe', () => pipeValidator(createBodyPipe(note.update))],
  ])('returns only the keys the body sent (%s), so a PATCH never resets an initialised field', async (_path, make) => {
    const validator = make();
    expect(await validator.validate({ title: 'todo' })).toStrictEqual({ title: 'todo' });
    expect(await validator.validate({ status: 'open' })).toStrictEqual({ status: 'open' });
    expect(await validator.validate({})).toStrictEqual({});
  });
});

describe('the compiled validator falls back to the ValidationPipe', () => {
  it.each([WithNested, WithCondition, WithAsync, WithConstraintClass, WithTransform, Unruled])('for every body of %p', async (dto) => {
    const validator = createBodyValidator(dto);
    expect(validator.compiled).toBe(false);
    for (const body of FALLBACK_BODIES) await expectSameAsPipe(validator, dto, body);
  });

  it('from the first constraint that answers with a promise on', async () => {
    const validator = createBodyValidator(WithHiddenPromise);
    expect(validator.compiled).toBe(true);
    for (const body of FALLBACK_BODIES) await expectSameAsPipe(validator, WithHiddenPromise, body);
    expect(validator.validate({ name: 'ok' })).toBeInstanceOf(Promise);
  });
});
