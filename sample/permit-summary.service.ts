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

  /** A permit with its inspections, read through the `permitId` index. */
  async summary(permitId: string) {
    const permit = await this.permits.findById(permitId);
    if (!permit) return null;
    const { items } = await this.inspections.find({ where: { permitId }, sort: 'scheduledFor', limit: 100 });
    return { permit, inspections: items };
  }

  /**
   * Approves a permit and schedules its final inspection in one transaction, checked
   * against the principal's permissions like the generated routes.
   */
  approve(permitId: string, inspector: string, principal: Principal | null) {
    return this.permits.transaction(
      (tx) => {
        const permit = tx.update(Permit, permitId, { status: 'approved' });
        const inspection = tx.create(Inspection, {
          permitId,
          inspector,
          scheduledFor: new Date(Date.now() + 7 * 24 * 3600 * 1000),
          outcome: 'scheduled',
        });
        return { permit, inspection };
      },
      { principal },
    );
  }
}
