import 'reflect-metadata';
import { IsIn, Length, Max, MaxLength, Min, MinLength, ValidateIf } from 'class-validator';
import { readValidationConstraints } from '../../../lib/metadata/validation-constraints.reflector.js';

class Stacked {
  @Length(2, 10) @MinLength(5) code!: string;
  @MaxLength(4) @Length(1, 20) short!: string;
  @Min(1) @Min(3) @Max(9) @Max(7) count!: number;
  @IsIn(['a', 'b']) kind!: string;
  strict!: boolean;
  @MinLength(2) @MinLength(8, { validateIf: (o: Stacked) => o.strict }) conditionalRule!: string;
  @ValidateIf((o: Stacked) => o.strict) @MaxLength(3) conditionalField!: string;
}

describe('readValidationConstraints', () => {
  it('shows the tighter bound of stacked rules, whatever their order, as a value must pass each', () => {
    const constraints = readValidationConstraints(Stacked);
    expect(constraints.get('code')).toEqual({ minLength: 5, maxLength: 10 });
    expect(constraints.get('short')).toEqual({ minLength: 1, maxLength: 4 });
    expect(constraints.get('count')).toEqual({ minimum: 3, maximum: 7 });
    expect(constraints.get('kind')).toEqual({ enum: ['a', 'b'] });
  });

  it('shows no bound of a rule enforced only under a condition', () => {
    const constraints = readValidationConstraints(Stacked);
    expect(constraints.get('conditionalRule')).toEqual({ minLength: 2 });
    expect(constraints.get('conditionalField')).toBeUndefined();
  });
});
