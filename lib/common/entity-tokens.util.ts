/** The injection token of the options given to `EntitiesModule.forRoot()` (or returned by `forRootAsync`'s factory). */
export const ENTITIES_MODULE_OPTIONS = 'nestjs-declarative-entities:options';
