import { IsIn, Length, Max, MaxLength, Min } from 'class-validator';
import { Audited, Composite, Entity, Field, Historize, Index, Permission } from '../../../lib/index.js';

/**
 * A test entity with every field type and option the package has (nested objects and
 * arrays are not field types yet), on a nested route path, for the hostile-input suite.
 */
@Entity({ name: 'specimens', path: 'lab/specimens' })
@Composite(['label', 'taken'])
@Composite(['flag', 'weight', 'state'], { name: 'flag_weight_state' })
@Historize({ versions: 3 })
@Permission({ read: null, create: null, update: 'specimens:write', delete: 'specimens:write' })
@Audited()
export class Specimen {
  /** Unique and unbounded: values past the index-key limit must stay exact. */
  @Field() @Index({ unique: true }) code!: string;
  @Field() label!: string;
  @Field({ required: false }) @Index() weight?: number;
  @Field({ required: false }) @Min(-1000) @Max(1000) grade?: number;
  @Field({ required: false }) @Index() flag?: boolean;
  @Field() taken!: Date;
  @Field({ required: false }) @Index() expires?: Date;
  @Field({ default: 'new' }) @IsIn(['new', 'kept', 'gone']) @Historize('full') state!: string;
  @Field({ immutable: true, required: false }) origin?: string;
  @Field({ required: false, hidden: true }) secret?: string;
  @Field({ required: false }) @Length(2, 8) tag?: string;
  @Field({ required: false }) @Permission({ read: 'specimens:lab', write: 'specimens:lab' }) assay?: number;
  @Field({ required: false }) @MaxLength(5000) note?: string;
}
