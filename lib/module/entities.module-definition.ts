import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { EntitiesModuleOptions } from './entities-module-options.interface.js';

export const {
  ConfigurableModuleClass: EntitiesCoreModuleBase,
  MODULE_OPTIONS_TOKEN: ENTITIES_MODULE_OPTIONS,
  OPTIONS_TYPE: ENTITIES_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ENTITIES_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<EntitiesModuleOptions>().setClassMethodName('forRoot').build();
