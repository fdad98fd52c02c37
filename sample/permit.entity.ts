import { IsIn, IsOptional, IsString, Length, Min } from 'class-validator';
import { Audited, Cached, Composite, Defaulted, Entity, Field, Historize, Index, Permission } from 'nestjs-declarative-entities';

export const PERMIT_STATUSES = ['draft', 'submitted', 'approved', 'rejected'] as const;

/**
 * A building permit: the sample's main entity, using every decorator. A public register:
 * anyone, signed in or not, reads permits and their history and files one (a signed-in filer
 * owns it); changing one needs a clerk, deleting one or managing its grants an admin.
 */
@Entity('permits')
@Composite(['client', 'county', 'status'])
@Historize({ versions: 5 })
@Permission({
  read: null,
  create: null,
  update: 'permits:write',
  delete: 'permits:admin',
  history: null,
  audit: 'permits:audit',
  admin: 'permits:admin',
  owner: 'createdBy',
})
@Audited()
@Cached({ ttl: 30_000 })
export class Permit {
  /** Lets creates in code leave `status` out, as HTTP bodies may (a type-only marker). */
  declare readonly [Defaulted]?: 'status';

  @Field({ immutable: true, description: 'Permit number, unique', example: 'BP-2026-0001' })
  @Index({ unique: true })
  @Length(3, 32)
  number!: string;

  @Field({ description: 'Client name', example: 'Acme Builders' })
  @Length(1, 120)
  client!: string;

  @Field({ description: 'County', example: 'Travis' })
  @IsString()
  county!: string;

  @Field({ default: 'draft', description: 'Workflow status', example: 'draft' })
  @IsIn(PERMIT_STATUSES)
  @Historize('full')
  status!: string;

  @Field({ required: false, description: 'Estimated cost in dollars', example: 250000 })
  @Min(0)
  @Index()
  estimatedCost?: number;

  @Field({ required: false, description: 'When the permit was issued', example: '2026-11-01T00:00:00.000Z' })
  issuedAt?: Date;

  @Field({ required: false, description: 'Permit fee in dollars; only the finance role reads or sets it', example: 1200 })
  @Permission({ read: 'permits:finance', write: 'permits:finance' })
  @Min(0)
  fee?: number;

  @Field({ required: false, description: 'Principal id of the creator, set by the package (owner rule)' })
  createdBy?: string;

  @Field({ required: false, hidden: true, description: 'Internal reviewer notes; stored, never returned' })
  @IsOptional()
  @Historize('never')
  internalNotes?: string;
}
