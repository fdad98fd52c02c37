import type { ConfigurableModuleAsyncOptions } from '@nestjs/common';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';

/** Options of `EntitiesModule.forRootAsync()`: Nest's `useFactory`/`useClass`/`useExisting` for `EntitiesModuleOptions`. */
export interface EntitiesModuleAsyncOptions extends ConfigurableModuleAsyncOptions<EntitiesModuleOptions> {
  /**
   * Serves the metrics route at this path. Given here rather than in the factory's
   * `metrics.path`: Nest fixes routes before `useFactory` runs. The route answers 404 while
   * the factory's options leave metrics off.
   */
  metricsPath?: string;
}
