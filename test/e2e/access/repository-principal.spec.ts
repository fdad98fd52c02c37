import {
  AccessDeniedException,
  AclService,
  Entity,
  EntityRepository,
  Field,
  getRepositoryToken,
  InvalidRecordException,
  Permission,
  type Principal,
} from '../../../lib/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';
import { unique } from '../support/e2e.util.js';
import { missingId } from './access.util.js';

@Entity('docs')
@Permission({ read: 'docs:read', create: 'docs:create', update: 'docs:update', delete: 'docs:delete' })
class RepoDoc {
  @Field() title!: string;
  @Field() tag!: string;
  @Field({ required: false })
  @Permission({ read: 'docs:secret', write: 'docs:secret' })
  secret?: string;
}

@Entity('memos')
@Permission({ read: 'memos:read', create: null, update: 'memos:update', owner: 'ownerId' })
class RepoMemo {
  @Field() title!: string;
  @Field({ required: false }) ownerId?: string;
}

type Reason = AccessDeniedException['reason'];

/** Expects `call` to fail with AccessDeniedException for `reason`. */
async function expectDenied(call: () => Promise<unknown>, reason: Reason): Promise<void> {
  let caught: unknown;
  try {
    await call();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AccessDeniedException);
  expect((caught as AccessDeniedException).reason).toBe(reason);
}

describe('repository calls made with a principal', () => {
  let t: TestApp;
  let acl: AclService;
  let docs: EntityRepository<RepoDoc>;
  let memos: EntityRepository<RepoMemo>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [RepoDoc, RepoMemo] });
    acl = t.app.get(AclService);
    docs = t.app.get(getRepositoryToken(RepoDoc));
    memos = t.app.get(getRepositoryToken(RepoMemo));
  });

  afterAll(async () => {
    await t?.close();
  });

  async function twoDocs(): Promise<{ tag: string; a: string; b: string }> {
    const tag = unique('tag');
    const a = (await docs.create({ title: 'a', tag, secret: 'sa' })).id;
    const b = (await docs.create({ title: 'b', tag, secret: 'sb' })).id;
    return { tag, a, b };
  }

  describe('a principal without an id (a user object naming it `sub`, say)', () => {
    it('counts as no principal: it owns no record without an owner and holds no permission it lists', async () => {
      const seeded = await memos.create({ title: 'no owner' });
      const idless = { permissions: ['memos:update'] } as unknown as Principal;
      await expectDenied(() => memos.findById(seeded.id, { principal: idless }), 'unauthenticated');
      await expectDenied(() => memos.find({}, { principal: idless }), 'unauthenticated');
      await expectDenied(() => memos.update(seeded.id, { title: 'taken over' }, { principal: idless }), 'unauthenticated');
      await expectDenied(() => memos.update(seeded.id, { title: 'taken over' }, { principal: { id: '' } as Principal }), 'unauthenticated');
      expect(await memos.findById(seeded.id)).toEqual(expect.objectContaining({ title: 'no owner', version: 1 }));
    });
  });

  describe('an anonymous caller (principal: null)', () => {
    it("is refused with reason 'unauthenticated' by find, findById, update, create and delete", async () => {
      const { tag, a } = await twoDocs();
      await expectDenied(() => docs.find({ where: { tag } }, { principal: null }), 'unauthenticated');
      await expectDenied(() => docs.findById(a, { principal: null }), 'unauthenticated');
      await expectDenied(() => docs.update(a, { title: 'x' }, { principal: null }), 'unauthenticated');
      await expectDenied(() => docs.create({ title: 'x', tag }, { principal: null }), 'unauthenticated');
      await expectDenied(() => docs.delete(a, { principal: null }), 'unauthenticated');
      expect(await docs.findById(a)).toEqual(expect.objectContaining({ version: 1 }));
    });

    it('is checked as anonymous, not trusted, when the principal key is present but undefined', async () => {
      const { a } = await twoDocs();
      await expectDenied(() => docs.findById(a, { principal: undefined }), 'unauthenticated');
      await expectDenied(() => docs.update(a, { title: 'x' }, { principal: undefined }), 'unauthenticated');
    });
  });

  describe('a principal without permissions or grants', () => {
    const nobody: Principal = { id: 'nobody' };

    it("is refused with reason 'forbidden' whatever the id, existing or not", async () => {
      const { tag, a } = await twoDocs();
      await expectDenied(() => docs.find({ where: { tag } }, { principal: nobody }), 'forbidden');
      await expectDenied(() => docs.findById(a, { principal: nobody }), 'forbidden');
      await expectDenied(() => docs.findById(missingId(), { principal: nobody }), 'forbidden');
      await expectDenied(() => docs.update(a, { title: 'x' }, { principal: nobody }), 'forbidden');
      await expectDenied(() => docs.update(missingId(), { title: 'x' }, { principal: nobody }), 'forbidden');
      expect(await docs.findById(a)).toEqual(expect.objectContaining({ version: 1, title: 'a' }));
    });
  });

  describe('a principal holding a grant', () => {
    it('finds and reads only the records it was granted; others read as missing (null)', async () => {
      const { tag, a, b } = await twoDocs();
      const grantee = { id: unique('grantee') };
      await acl.grant(grantee.id, 'docs', a, ['read']);
      expect((await docs.find({ where: { tag } }, { principal: grantee })).items.map((doc) => doc.id)).toEqual([a]);
      expect((await docs.findById(a, { principal: grantee }))?.id).toBe(a);
      expect(await docs.findById(b, { principal: grantee })).toBeNull();
      expect(await docs.findById(missingId(), { principal: grantee })).toBeNull();
    });

    it("is refused with 'concealed' updating a record it may not read, and 'forbidden' one it may only read", async () => {
      const { a, b } = await twoDocs();
      const grantee = { id: unique('grantee') };
      await acl.grant(grantee.id, 'docs', a, ['read']);
      await expectDenied(() => docs.update(b, { title: 'x' }, { principal: grantee }), 'concealed');
      await expectDenied(() => docs.update(a, { title: 'x' }, { principal: grantee }), 'forbidden');
      await expectDenied(() => docs.delete(a, { principal: grantee }), 'forbidden');
      await expectDenied(() => docs.replace(b, { title: 'x', tag: 't' }, { principal: grantee }), 'concealed');
      expect((await docs.findById(a))?.version).toBe(1);
      expect((await docs.findById(b))?.version).toBe(1);
    });

    it('is held to the same rules inside a transaction run with its principal, which then changes nothing', async () => {
      const { a, b } = await twoDocs();
      const grantee = { id: unique('grantee') };
      await acl.grant(grantee.id, 'docs', a, ['read', 'update']);
      await expectDenied(
        () =>
          docs.transaction(
            (tx) => {
              tx.update(RepoDoc, a, { title: 'allowed' });
              tx.update(RepoDoc, b, { title: 'not allowed' });
            },
            { principal: grantee },
          ),
        'concealed',
      );
      expect((await docs.findById(a))?.title).toBe('a');
      expect((await docs.findById(b))?.title).toBe('b');
    });

    it('reads the history of a granted record only', async () => {
      const { a, b } = await twoDocs();
      const grantee = { id: unique('grantee') };
      await acl.grant(grantee.id, 'docs', a, ['read']);
      expect((await docs.history(a, { principal: grantee }))?.id).toBe(a);
      expect(await docs.history(b, { principal: grantee })).toBeNull();
    });

    it('updates a record it was granted update on', async () => {
      const { a } = await twoDocs();
      const grantee = { id: unique('grantee') };
      await acl.grant(grantee.id, 'docs', a, ['read', 'update']);
      const updated = await docs.update(a, { title: 'granted edit' }, { principal: grantee });
      expect(updated).toEqual(expect.objectContaining({ title: 'granted edit', version: 2 }));
    });
  });

  describe('a principal holding the permissions', () => {
    const reader: Principal = { id: 'reader', permissions: ['docs:read', 'docs:update'] };

    it('reads every record, without the fields it may not read', async () => {
      const { tag, a } = await twoDocs();
      const page = await docs.find({ where: { tag } }, { principal: reader });
      expect(page.items).toHaveLength(2);
      for (const item of page.items) expect(item).not.toHaveProperty('secret');
      expect(await docs.findById(a, { principal: reader })).not.toHaveProperty('secret');
      expect((await docs.findById(a, { principal: { id: 'cleared', permissions: ['docs:read', 'docs:secret'] } }))?.secret).toBe('sa');
    });

    it("is refused with 'forbidden' filtering or sorting on a field it may not read", async () => {
      const { tag } = await twoDocs();
      await expectDenied(() => docs.find({ where: { tag, secret: 'sa' } }, { principal: reader }), 'forbidden');
      await expectDenied(() => docs.find({ where: { tag }, sort: '-secret' }, { principal: reader }), 'forbidden');
    });

    it("is refused with 'forbidden' writing a field it may not write, changing nothing", async () => {
      const { a } = await twoDocs();
      await expectDenied(() => docs.update(a, { secret: 'forged' }, { principal: reader }), 'forbidden');
      expect(await docs.findById(a)).toEqual(expect.objectContaining({ secret: 'sa', version: 1 }));
    });
  });

  describe('the owner rule', () => {
    it('lets the owner read and update its own records, and conceals the others', async () => {
      const owner = { id: unique('owner') };
      const mine = await memos.create({ title: 'mine' }, { principal: owner });
      expect(mine.ownerId).toBe(owner.id);
      const theirs = await memos.create({ title: 'theirs', ownerId: 'someone-else' });
      expect((await memos.find({}, { principal: owner })).items.map((memo) => memo.id)).toEqual([mine.id]);
      expect(await memos.findById(theirs.id, { principal: owner })).toBeNull();
      expect((await memos.update(mine.id, { title: 'edited' }, { principal: owner })).title).toBe('edited');
      await expectDenied(() => memos.update(theirs.id, { title: 'x' }, { principal: owner }), 'concealed');
    });

    it("lets the owner delete its own record without memos:delete, conceals another's, and refuses an anonymous delete", async () => {
      const owner = { id: unique('owner') };
      const mine = await memos.create({ title: 'mine' }, { principal: owner });
      const theirs = await memos.create({ title: 'theirs', ownerId: 'someone-else' });
      await expectDenied(() => memos.delete(theirs.id, { principal: owner }), 'concealed');
      await expectDenied(() => memos.delete(mine.id, { principal: null }), 'unauthenticated');
      await memos.delete(mine.id, { principal: owner });
      expect(await memos.findById(mine.id)).toBeNull();
      expect(await memos.findById(theirs.id)).toEqual(expect.objectContaining({ version: 1 }));
    });

    it('refuses another owner from a checked call, as a request body would, takes the owner as it is back, and any from trusted code', async () => {
      const owner = { id: unique('owner') };
      const refusal = /memos: property ownerId should not exist/;
      await expect(memos.create({ title: 'claimed', ownerId: 'someone-else' }, { principal: owner })).rejects.toThrow(InvalidRecordException);
      await expect(memos.createMany([{ title: 'a' }, { title: 'b', ownerId: 'someone-else' }], { principal: owner })).rejects.toThrow(
        'memos: [1] property ownerId should not exist',
      );
      const mine = await memos.create({ title: 'mine', ownerId: owner.id }, { principal: owner });
      expect(mine.ownerId).toBe(owner.id);
      await expect(memos.update(mine.id, { ownerId: 'someone-else' }, { principal: owner })).rejects.toThrow(refusal);
      await expect(memos.replace(mine.id, { title: 'all', ownerId: 'someone-else' }, { principal: owner })).rejects.toThrow(refusal);
      await expect(memos.transaction((tx) => tx.update(RepoMemo, mine.id, { ownerId: 'x' }), { principal: owner })).rejects.toThrow(refusal);
      expect(await memos.findById(mine.id)).toEqual(expect.objectContaining({ ownerId: owner.id, version: 1 }));
      // A record read and sent back names its owner as it is.
      const read = (await memos.findById(mine.id, { principal: owner }))!;
      expect(await memos.replace(mine.id, { ...read, title: 'edited' }, { principal: owner })).toEqual(
        expect.objectContaining({ title: 'edited', ownerId: owner.id, version: 2 }),
      );
      expect(await memos.update(mine.id, { ownerId: owner.id, title: 'patched' }, { principal: owner })).toEqual(
        expect.objectContaining({ title: 'patched', ownerId: owner.id, version: 3 }),
      );
      expect((await memos.update(mine.id, { ownerId: 'handed-over' })).ownerId).toBe('handed-over');
    });

    it('keeps the owner when its owner reverts the record to an earlier version', async () => {
      const owner = { id: unique('owner') };
      const mine = await memos.create({ title: 'first' }, { principal: owner });
      await memos.update(mine.id, { title: 'second' }, { principal: owner });
      const reverted = await memos.revert(mine.id, 1, { principal: owner });
      expect(reverted).toEqual(expect.objectContaining({ title: 'first', ownerId: owner.id, version: 3 }));
    });
  });

  describe('trusted calls (no principal key)', () => {
    it('read and write everything, every field included', async () => {
      const { tag, a } = await twoDocs();
      const page = await docs.find({ where: { tag }, sort: 'secret' });
      expect(page.items.map((doc) => doc.secret)).toEqual(['sa', 'sb']);
      expect((await docs.findById(a))?.secret).toBe('sa');
      expect(await docs.update(a, { secret: 'trusted' })).toEqual(expect.objectContaining({ secret: 'trusted', version: 2 }));
      await docs.delete(a);
      expect(await docs.findById(a)).toBeNull();
    });

    it('are not checked even with other options given', async () => {
      const { a } = await twoDocs();
      expect((await docs.update(a, { title: 'by job' }, { actor: 'nightly-job' })).title).toBe('by job');
    });
  });
});
