import type { EntityRepository } from 'nestjs-declarative-entities';

/** Every record id, in id order, read through the public API a page at a time. */
export async function allIds(repo: EntityRepository<object>): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await repo.find({ limit: 1000, cursor });
    found.push(...page.items.map((record) => record.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return found;
}
