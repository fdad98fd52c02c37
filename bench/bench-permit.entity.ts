import { IsIn } from 'class-validator';
import { Audited, Composite, Entity, Field, Historize, Index } from 'nestjs-declarative-entities';

export const STATUSES = ['draft', 'submitted', 'approved', 'rejected'] as const;
export const COUNTIES = ['Travis', 'Harris', 'Dallas', 'Bexar', 'Tarrant'] as const;

/** Shaped like the sample's permits: 7 fields, a 3-field composite, a unique index, 2 historized fields, audited. */
@Entity('bench-permits')
@Composite(['client', 'county', 'status'])
@Audited()
export class BenchPermit {
  @Field() @Index({ unique: true }) number!: string;
  @Field() client!: string;
  @Field() county!: string;
  @Field() @IsIn(STATUSES) @Historize('full') status!: string;
  @Field() @Historize({ versions: 5 }) amount!: number;
  @Field() inspector!: string;
  @Field() notes!: string;
}

export function permitData(i: number): BenchPermit {
  return {
    number: `BP-${i}`,
    client: `client-${i % 200}`,
    county: COUNTIES[i % COUNTIES.length]!,
    status: STATUSES[i % STATUSES.length]!,
    amount: (i * 7919) % 100_000,
    inspector: `inspector-${i % 37}`,
    notes: 'routine inspection of the premises, nothing unusual to report',
  };
}
