/**
 * Names, on an entity class, the fields a `default` fills, so that `EntityInput` (creates,
 * replaces) may leave them out while `EntityRecord` keeps them: TypeScript cannot see a
 * decorator's options. A `declare`d property emits nothing, at run time or in metadata:
 *
 * ```ts
 * class Permit {
 *   declare readonly [Defaulted]?: 'status' | 'priority';
 *   @Field({ default: 'draft' }) status!: string;
 * }
 * ```
 */
export const Defaulted: unique symbol = Symbol('nestjs-declarative-entities.defaulted');
