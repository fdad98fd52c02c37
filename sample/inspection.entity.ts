import { IsIn, Length } from 'class-validator';
import { Composite, Defaulted, Entity, Field, Historize, Index, Permission, Reference } from 'nestjs-declarative-entities';
import { Permit } from './permit.entity.js';

/**
 * An inspection of a permit's site: `permitId` refers to a `Permit`, checked on every write;
 * deleting the permit deletes its inspections. A deleted inspection is kept (`softDelete`):
 * `GET /inspections?deleted=only` lists them, `POST /inspections/:id/restore` brings one back
 * and `DELETE /inspections/:id?purge=true` removes it for good. They are listed at
 * `GET /permits/:id/inspections`, and `?include=permit` reads each with its permit. The
 * schedule is public; clerks schedule and record inspections; deleting one needs `inspections:delete`
 * and managing grants `inspections:admin`, the defaults, which only the admin role holds.
 */
@Entity({ name: 'inspections', path: 'inspections', softDelete: true })
@Composite(['permitId', 'scheduledFor'])
@Permission({ read: null, create: 'inspections:write', update: 'inspections:write' })
export class Inspection {
  declare readonly [Defaulted]?: 'outcome';

  @Field({ immutable: true, description: 'Id of the inspected permit', example: '01JD3Q4ZB6WQ6V4M9KX2T8R7HN' })
  @Index()
  @Reference(() => Permit, { onDelete: 'cascade' })
  permitId!: string;

  @Field({ description: 'Inspector name', example: 'R. Diaz' })
  @Length(1, 80)
  inspector!: string;

  @Field({ description: 'Scheduled date and time', example: '2026-12-01T09:00:00.000Z' })
  scheduledFor!: Date;

  @Field({ default: 'scheduled', example: 'scheduled' })
  @IsIn(['scheduled', 'passed', 'failed', 'cancelled'])
  @Historize('full')
  outcome!: string;

  @Field({ required: false, example: false })
  reinspectionNeeded?: boolean;
}
