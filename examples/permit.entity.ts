import { Length } from 'class-validator';
import { Entity, Field, Index, Permission } from 'nestjs-declarative-entities';

/** The entity of the README's integration examples: anyone reads permits; filing one needs `permits:write`; its filer owns it. */
@Entity('permits')
@Permission({ read: null, create: 'permits:write', update: 'permits:write', delete: 'permits:admin', owner: 'createdBy' })
export class Permit {
  @Field({ immutable: true, example: 'BP-2026-0001' }) @Index({ unique: true }) @Length(3, 32) number!: string;
  @Field({ example: 'Acme Builders' }) @Length(1, 120) client!: string;
  @Field({ required: false }) createdBy?: string;
}
