import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { FieldConstraints } from './entity-definition.interface.js';

/**
 * Reads the class-validator rules that OpenAPI can express, so the document shows the
 * same limits the validation pipe enforces.
 */
export function readValidationConstraints(target: Function): Map<string, FieldConstraints> {
  const byProperty = new Map<string, FieldConstraints>();
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(target, '', true, false);
  // A rule under a condition (`@ValidateIf`, or its own `validateIf`) is not always enforced: no bound to document.
  const conditional = new Set(metadatas.filter((meta) => meta.type === ValidationTypes.CONDITIONAL_VALIDATION).map((meta) => meta.propertyName));
  for (const meta of metadatas) {
    if (conditional.has(meta.propertyName) || (meta as { validateIf?: unknown }).validateIf !== undefined) continue;
    const constraints = byProperty.get(meta.propertyName) ?? {};
    const [first] = (meta.constraints ?? []) as unknown[];
    switch (meta.name) {
      case 'isIn':
        constraints.enum = first as unknown[];
        break;
      case 'isEnum':
        // Numeric TS enums also map names back from values; keep only the values.
        constraints.enum = Object.values(first as Record<string, unknown>).filter(
          (v) => !(typeof v === 'string' && typeof (first as Record<string, unknown>)[v] === 'number'),
        );
        break;
      case 'isInt':
        constraints.integer = true;
        break;
      case 'matches':
        // `@Matches('^a', 'i')` passes the flags second; a RegExp carries its own.
        if (first instanceof RegExp && first.flags === '') constraints.pattern = first.source;
        else if (typeof first === 'string' && !(meta.constraints as unknown[])[1]) constraints.pattern = first;
        break;
      // Rules stack (`@Length(2, 10) @MinLength(5)`): a value must pass each, so the tighter bound holds.
      case 'min':
        constraints.minimum = atLeast(constraints.minimum, first as number);
        break;
      case 'max':
        constraints.maximum = atMost(constraints.maximum, first as number);
        break;
      case 'minLength':
        constraints.minLength = atLeast(constraints.minLength, first as number);
        break;
      case 'maxLength':
        constraints.maxLength = atMost(constraints.maxLength, first as number);
        break;
      case 'isLength':
        constraints.minLength = atLeast(constraints.minLength, first as number);
        if ((meta.constraints as unknown[])[1] !== undefined) constraints.maxLength = atMost(constraints.maxLength, (meta.constraints as number[])[1]!);
        break;
      default:
        continue;
    }
    byProperty.set(meta.propertyName, constraints);
  }
  return byProperty;
}

function atLeast(bound: number | undefined, rule: number): number {
  return bound === undefined ? rule : Math.max(bound, rule);
}

function atMost(bound: number | undefined, rule: number): number {
  return bound === undefined ? rule : Math.min(bound, rule);
}
