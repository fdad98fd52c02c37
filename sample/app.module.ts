import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { EntitiesModule, type ReplicationOptions } from 'nestjs-declarative-entities';
import { demoPrincipal } from './demo-principal.util.js';
import { HealthController } from './health.controller.js';
import { Inspection } from './inspection.entity.js';
import { PermitSummaryController } from './permit-summary.controller.js';
import { PermitSummaryService } from './permit-summary.service.js';
import { Permit } from './permit.entity.js';

export const SAMPLE_ROLES = {
  clerk: ['permits:write', 'inspections:write'],
  auditor: ['permits:audit'],
  finance: ['permits:finance'],
  admin: ['*'],
};

/**
 * The sample's root module, on the data directory `path`; Prometheus metrics at `/metrics`, health at `/health`.
 * With `replication`, one of several instances kept equal through NATS JetStream.
 */
@Module({})
export class AppModule {
  static register(path: string, replication?: { options: ReplicationOptions; cursorSecret?: string }): DynamicModule {
    return {
      module: AppModule,
      imports: [
        EntitiesModule.forRoot({
          path,
          getPrincipal: demoPrincipal,
          roles: SAMPLE_ROLES,
          metrics: { enabled: true },
          ...(replication && { replication: replication.options, cursorSecret: replication.cursorSecret }),
        }),
        EntitiesModule.forFeature([Permit, Inspection]),
        TerminusModule.forRoot(),
      ],
      controllers: [PermitSummaryController, HealthController],
      providers: [PermitSummaryService],
    };
  }
}
