import { Injectable } from '@nestjs/common';
import { EntityRepository, InjectEntityRepository, type EntityDefinition, type Principal } from 'nestjs-declarative-entities';
import { Inspection } from './inspection.entity.js';
import { Permit } from './permit.entity.js';

/** A user's own service on top of the generated repositories. */
@Injectable()
export class PermitSummaryService {
  constructor(
    @InjectEntityRepository(Permit) private readonly permits: EntityRepository<Permit>,
    @InjectEntityRepository(Inspection) private readonly inspections: EntityRepository<Inspection>,
  ) {}

  /**
   * A permit with its inspections, read through the `permitId` index on behalf of the
   * principal: what it may not read is left out, as on the generated routes, and so are
   * hidden fields, which the repository returns to code.
   */
  async summary(permitId: string, principal: Principal | null) {
    const permit = await this.permits.findById(permitId, { principal });
    if (!permit) return null;
    const { items } = await this.inspections.find({ where: { permitId }, sort: 'scheduledFor', limit: 100 }, { principal });
    return { permit: withoutHidden(this.permits.definition, permit), inspections: items.map((item) => withoutHidden(this.inspections.definition, item)) };
  }

  /**
   * Approves a permit and schedules its final inspection in one transaction, checked
   * against the principal's permissions like the generated routes. Answers with what
   * changed only, so no field the approver may not read leaves the service.
   */
  async approve(permitId: string, inspector: string, principal: Principal | null) {
    return this.permits.transaction(
      (tx) => {
        const permit = tx.update(Permit, permitId, { status: 'approved' });
        const inspection = tx.create(Inspection, {
          permitId,
          inspector,
          scheduledFor: new Date(Date.now() + 7 * 24 * 3600 * 1000),
          outcome: 'scheduled',
        });
        return {
          permit: { id: permit.id, version: permit.version, status: permit.status },
          inspection: { id: inspection.id, inspector: inspection.inspector, scheduledFor: inspection.scheduledFor, outcome: inspection.outcome },
        };
      },
      { principal },
    );
  }
}

function withoutHidden<R extends object>(definition: EntityDefinition, record: R): Partial<R> {
  const copy: Partial<R> = { ...record };
  for (const field of definition.fields) if (field.hidden) delete copy[field.name as keyof R];
  return copy;
}
