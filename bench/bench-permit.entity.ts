import { IsIn } from 'class-validator';
import { Audited, Composite, Entity, Field, Historize, Index } from 'nestjs-declarative-entities';
import { STATUSES } from './permit-data.util.js';

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
