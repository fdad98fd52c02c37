import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { ENTITIES_MODULE_OPTIONS } from '../common/entity-tokens.util.js';

export const {
  ConfigurableModuleClass: EntitiesCoreModuleBase,
  OPTIONS_TYPE: ENTITIES_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ENTITIES_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<EntitiesModuleOptions>({ optionsInjectionToken: ENTITIES_MODULE_OPTIONS }).setClassMethodName('forRoot').build();
