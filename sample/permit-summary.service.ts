import { Injectable } from '@nestjs/common';
import { EntityRepository, InjectEntityRepository, type Principal } from 'nestjs-declarative-entities';
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
   * principal: the repository leaves out hidden fields and what the principal may not
   * read, as the generated routes do.
   */
  async summary(permitId: string, principal: Principal | null) {
    const permit = await this.permits.findById(permitId, { principal });
    if (!permit) return null;
    const { items } = await this.inspections.find({ where: { permitId }, sort: 'scheduledFor', limit: 100 }, { principal });
    return { permit, inspections: items };
  }

  /**
   * Approves a permit and schedules its final inspection in one transaction, checked
   * against the principal's permissions like the generated routes; the records it returns
   * are shaped for the principal too, so no field the approver may not read leaves the service.
   */
  async approve(permitId: string, inspector: string, principal: Principal | null) {
    return this.permits.transaction(
      (tx) => ({
        permit: tx.update(Permit, permitId, { status: 'approved' }),
        inspection: tx.create(Inspection, {
          permitId,
          inspector,
          scheduledFor: new Date(Date.now() + 7 * 24 * 3600 * 1000),
        }),
      }),
      { principal },
    );
  }
}
