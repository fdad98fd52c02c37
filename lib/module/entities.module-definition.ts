import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { ENTITIES_MODULE_OPTIONS, METRICS_ROUTE } from '../common/entity-tokens.util.js';

export const { ConfigurableModuleClass: EntitiesCoreModuleBase } = new ConfigurableModuleBuilder<EntitiesModuleOptions>({
  optionsInjectionToken: ENTITIES_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  // The route `EntitiesModule` serves metrics at, known when the module is declared (with
  // `forRootAsync`, before the factory's options): the repositories check entity paths against it.
  .setExtras({ metricsRoute: false as string | false }, (definition, { metricsRoute }) => ({
    ...definition,
    providers: [...(definition.providers ?? []), { provide: METRICS_ROUTE, useValue: metricsRoute }],
    exports: [...(definition.exports ?? []), METRICS_ROUTE],
  }))
  .build();
