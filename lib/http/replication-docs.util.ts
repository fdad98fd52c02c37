import { METHOD_METADATA } from '@nestjs/common/constants.js';
import { ApiHeader } from '@nestjs/swagger';

const MIN_SEQ = ApiHeader({
  name: 'X-Entities-Min-Seq',
  required: false,
  description:
    'Answer only once this instance has applied this replicated seq (the X-Entities-Seq a write answered, on any instance); 503 if it has not in time. Writes answer X-Entities-Seq.',
});
const DOCUMENTED = Symbol('replication documented');

/**
 * Adds the replication headers to the OpenAPI description of every route of a generated
 * controller (its class and the generated classes it extends). Done when the controller is
 * built, once the app's options are known: only apps that replicate have these headers, and the
 * routes are declared before `forRoot` is read.
 */
export function documentReplication(prototype: object): void {
  for (let current: object | null = prototype; current && current !== Object.prototype; current = Object.getPrototypeOf(current) as object | null) {
    const marked = current as { [DOCUMENTED]?: true };
    if (Object.prototype.hasOwnProperty.call(marked, DOCUMENTED)) continue;
    marked[DOCUMENTED] = true;
    for (const name of Object.getOwnPropertyNames(current)) {
      const descriptor = Object.getOwnPropertyDescriptor(current, name)!;
      if (typeof descriptor.value === 'function' && Reflect.hasMetadata(METHOD_METADATA, descriptor.value)) MIN_SEQ(current, name, descriptor);
    }
  }
}
