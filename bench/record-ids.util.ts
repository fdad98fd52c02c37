import type { EntitiesMaintenance, EntityRepository } from 'nestjs-declarative-entities';

/** Up to `limit` record ids (all by default), in id order, read through the public API a page at a time. */
export async function allIds(repo: EntityRepository<object>, limit = Infinity): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await repo.find({ limit: 1000, cursor });
    found.push(...page.items.map((record) => record.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor && found.length < limit);
  return found.slice(0, limit);
}

/** How many records an entity holds, from the store's own counts rather than by reading them. */
export async function recordCount(maintenance: EntitiesMaintenance, entity: string): Promise<number> {
  return (await maintenance.stat()).entities.find((stat) => stat.name === entity)?.records ?? 0;
}
