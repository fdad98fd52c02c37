import { AclService, Entity, Field, getRepositoryToken, Index, Permission, type EntityRepository } from '../../../lib/index.js';
import { CapturingLogger, createObservedApp } from '../observability/observability-app.util.js';
import type { TestApp } from '../../support/test-app.util.js';

/**
 * README (Owner rule): an owner's list holds only its own records. One that reads no record
 * through a grant has its list narrowed to its own, so an index on the owner field answers
 * it rather than a walk over every record; one with grants in the entity still walks.
 */
@Entity('owned-notes')
@Permission({ read: 'notes:read', create: null, update: null, delete: null, owner: 'by' })
class OwnedNote {
  @Field() text!: string;
  @Field({ required: false }) @Index() by?: string;
}

describe('an owner-rule list', () => {
  let t: TestApp;
  let logger: CapturingLogger;
  let notes: EntityRepository<OwnedNote>;
  const principal = (id: string) => ({ id, permissions: [] as string[] });

  beforeAll(async () => {
    logger = new CapturingLogger();
    t = await createObservedApp({ entities: [OwnedNote], platform: 'express', logger, module: { slowQueryMs: 0 } });
    notes = t.app.get(getRepositoryToken(OwnedNote));
    for (const owner of ['ann', 'bob', 'cid']) {
      for (let n = 0; n < 5; n++) await notes.create({ text: `${owner}-${n}` }, { principal: principal(owner) });
    }
  });
  afterAll(() => t.close());

  async function listAs(id: string): Promise<{ texts: string[]; plan: string }> {
    logger.lines.length = 0;
    const texts: string[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await notes.find({ limit: 2, ...(cursor && { cursor }) }, { principal: principal(id) });
      texts.push(...page.items.map((note) => note.text));
      cursor = page.nextCursor;
    } while (cursor);
    return { texts, plan: logger.of('EntitiesQuery').at(-1)?.message ?? '' };
  }

  it("reads the owner's own records through the owner field's index, page by page", async () => {
    const { texts, plan } = await listAs('ann');
    expect(texts).toEqual(['ann-0', 'ann-1', 'ann-2', 'ann-3', 'ann-4']);
    expect(plan).toContain('index by by by=');
    expect((await listAs('dan')).texts).toEqual([]);
  });

  it('walks the records for a principal that holds a grant in the entity, and lists what it grants', async () => {
    const [granted] = (await notes.find({ where: { by: 'bob' }, limit: 1 })).items;
    await t.app.get(AclService).grant('cid', 'owned-notes', granted!.id, ['read']);
    const { texts, plan } = await listAs('cid');
    expect(texts).toEqual(['bob-0', 'cid-0', 'cid-1', 'cid-2', 'cid-3', 'cid-4']);
    expect(plan).toContain('scan records');
  });
});
