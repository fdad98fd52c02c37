import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { ENTITIES_MODULE_OPTIONS } from '../common/entity-tokens.util.js';

export const { ConfigurableModuleClass: EntitiesCoreModuleBase } = new ConfigurableModuleBuilder<EntitiesModuleOptions>({
  optionsInjectionToken: ENTITIES_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .build();
