import { Module, type DynamicModule } from '@nestjs/common';
import { Cached, EntitiesModule } from 'nestjs-declarative-entities';
import { BenchPermit } from '../bench-permit.entity.js';

/** The package serving the benchmark entity at `/bench-permits`, with `@Cached` on or off and the request context always on (`true`) or as by default. */
@Module({})
export class PackageAppModule {
  static register(path: string, variant: { cached: boolean; requestContext: boolean }): DynamicModule {
    // Decorators are plain functions: the cached variant decorates the same class in its own process.
    if (variant.cached) Cached({ ttl: 60_000 })(BenchPermit);
    const root = EntitiesModule.forRoot({ path, ...(variant.requestContext && { requestContext: true }) });
    return { module: PackageAppModule, imports: [root, EntitiesModule.forFeature([BenchPermit])] };
  }
}
