/** The injection token of the options given to `EntitiesModule.forRoot()` (or returned by `forRootAsync`'s factory). */
export const ENTITIES_MODULE_OPTIONS = 'nestjs-declarative-entities:options';

/** The metrics route `EntitiesModule.forRoot`/`forRootAsync` serves (its path), or `false` for none: entity routes must not meet it. */
export const METRICS_ROUTE = 'nestjs-declarative-entities:metrics-route';
