import type { CachedOptions } from '../metadata/decorator-options.interface.js';
import { cachedReflector } from '../metadata/metadata.reflector.js';

/** Reads of this entity are served through the cache; `ttl` in milliseconds. */
export function Cached(options: CachedOptions = {}): ClassDecorator {
  return (target) => cachedReflector.set(target, { ...options });
}
