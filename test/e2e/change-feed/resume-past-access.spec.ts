import { AclService, Entity, Field, getRepositoryToken, Historize, Permission, type EntityChange, type EntityRepository } from '../../../lib/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity({ name: 'resumed-secrets', softDelete: true })
@Historize('full')
@Permission({ read: 'secrets:read', create: null, update: null, delete: null, owner: 'by' })
class Secret {
  @Field() text!: string;
  @Field({ required: false }) by?: string;
}

/**
 * README (Live changes): a resumed feed's past versions carry `record` only as `?version=`
 * gives them. An owner or a read grantee reads the past of records that still exist and that
 * it may read now; a record since deleted, hard or soft, keeps its past from them.
 */
describe('a resumed change feed gives owners and grantees the past ?version= gives them', () => {
  let t: TestApp;
  let secrets: EntityRepository<Secret>;
  beforeAll(async () => {
    t = await createTestApp({ entities: [Secret] });
    secrets = t.app.get(getRepositoryToken(Secret));
  });
  afterAll(() => t.close());

  const lastSeq = async () => (await secrets.events({ afterSeq: 0, limit: 1_000_000 })).at(-1)?.seq ?? 0;

  /** The texts of the changes after `afterSeq` the principal is told of (null: without record). */
  async function resumed(afterSeq: number, principal: { id: string; permissions: string[] }, count: number): Promise<(string | null)[]> {
    const abort = new AbortController();
    const got: EntityChange<object>[] = [];
    for await (const change of secrets.subscribe({ afterSeq, signal: abort.signal, principal })) {
      got.push(change);
      if (got.length === count) abort.abort();
    }
    return got.map((change) => (change.record as { text?: string } | undefined)?.text ?? null);
  }

  it("an owner gets a live record's past versions, as ?version= does", async () => {
    const start = await lastSeq();
    const alice = { id: 'alice', permissions: [] };
    const secret = await secrets.create({ text: 'v1' }, { principal: alice });
    await secrets.update(secret.id, { text: 'v2' }, { principal: alice });
    expect(await secrets.findAt(secret.id, { version: 1 }, { principal: alice })).toMatchObject({ text: 'v1' });
    expect(await resumed(start, alice, 2)).toEqual(['v1', 'v2']);
  });

  it('an owner does not get the past of a record since deleted, which ?version= answers 404', async () => {
    const start = await lastSeq();
    const alice = { id: 'alice', permissions: [] };
    const secret = await secrets.create({ text: 'v1 secret' }, { principal: alice });
    await secrets.update(secret.id, { text: 'v2 secret' }, { principal: alice });
    await secrets.delete(secret.id, { principal: alice });
    expect(await secrets.findAt(secret.id, { version: 1 }, { principal: alice })).toBeNull();
    expect(await resumed(start, alice, 3)).toEqual([null, null, null]);
  });

  it('a read grantee does not get the past of a soft-deleted record, whose grants stay', async () => {
    const start = await lastSeq();
    const secret = await secrets.create({ text: 'g1 secret', by: 'zed' });
    await secrets.update(secret.id, { text: 'g2 secret' });
    await t.app.get(AclService).grant('gina', 'resumed-secrets', secret.id, ['read']);
    const gina = { id: 'gina', permissions: [] };
    expect(await resumed(start, gina, 2)).toEqual(['g1 secret', 'g2 secret']);
    await secrets.delete(secret.id);
    expect(await secrets.findAt(secret.id, { version: 1 }, { principal: gina })).toBeNull();
    expect(await resumed(start, gina, 3)).toEqual([null, null, null]);
  });
});
