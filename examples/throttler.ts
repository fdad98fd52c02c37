import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { EntitiesModule } from 'nestjs-declarative-entities';
import { Permit } from './permit.entity.js';

@Module({})
export class ThrottledAppModule {
  static register(path: string): DynamicModule {
    return {
      module: ThrottledAppModule,
      imports: [
        // 10 requests a minute per client IP and route; the 11th gets 429 with Retry-After.
        ThrottlerModule.forRoot([{ ttl: 60_000, limit: 10 }]),
        EntitiesModule.forRoot({ path }),
        EntitiesModule.forFeature([Permit]),
      ],
      // A global guard runs before the guards of every controller, the generated ones included.
      providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
    };
  }
}
