import { Module, type DynamicModule } from '@nestjs/common';
import { Cached, EntitiesModule } from 'nestjs-declarative-entities';
import { BenchPermit } from '../bench-permit.entity.js';

/** The package serving the benchmark entity at `/bench-permits`, with `@Cached` on or off. */
@Module({})
export class PackageAppModule {
  static register(path: string, cached: boolean): DynamicModule {
    // Decorators are plain functions: the cached variant decorates the same class in its own process.
    if (cached) Cached({ ttl: 60_000 })(BenchPermit);
    return { module: PackageAppModule, imports: [EntitiesModule.forRoot({ path }), EntitiesModule.forFeature([BenchPermit])] };
  }
}
