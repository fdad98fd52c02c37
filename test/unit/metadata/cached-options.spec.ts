import { Cached, Entity, EntityMetadataException, Field } from '../../../lib/index.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';

/*
 * forRoot's `cache.ttl` is checked at start-up ("a number of milliseconds from 0",
 * lib/module/module-options-check.util.ts), but the same setting on @Cached({ ttl }) is taken
 * as given: a negative, NaN or string ttl starts and is handed to cache-manager on every read.
 */
describe('@Cached({ ttl })', () => {
  it.each([-5, Number.NaN, '5m'])('refuses ttl %p at start-up, naming the class', (ttl) => {
    @Entity('cached')
    @Cached({ ttl: ttl as number })
    class Cachy {
      @Field() name!: string;
    }
    expect(() => createEntityDefinition(Cachy)).toThrow(EntityMetadataException);
    expect(() => createEntityDefinition(Cachy)).toThrow(/Cachy/);
  });
});
