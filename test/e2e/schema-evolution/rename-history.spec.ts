import request from 'supertest';
import { EntitiesMaintenance, Entity, Field, Historize } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp } from '../../support/test-app.util.js';

/** First release: an optional, fully historized note. */
@Entity('rename-notes')
class NoteV1 {
  @Field() title!: string;
  @Field({ required: false }) @Historize('full') note?: string;
}

/** Second release: note renamed to remark by a migration step. */
@Entity({ name: 'rename-notes', migrations: [{ version: 2, rename: { note: 'remark' } }] })
class NoteV2 {
  @Field() title!: string;
  @Field({ required: false }) @Historize('full') remark?: string;
}

@Entity({ name: 'rename-memos', softDelete: true })
class MemoV1 {
  @Field() title!: string;
  @Field({ required: false }) @Historize('full') note?: string;
}

@Entity({ name: 'rename-memos', softDelete: true, migrations: [{ version: 2, rename: { note: 'remark' } }] })
class MemoV2 {
  @Field() title!: string;
  @Field({ required: false }) @Historize('full') remark?: string;
}

describe('a rename migration moves the history of every record (README: "the value moves, and so does the field\'s history")', () => {
  it('moves the history of a record whose renamed field is currently empty', async () => {
    const dir = makeTempDir();
    try {
      let id = '';
      const first = await createTestApp({ entities: [NoteV1], path: dir.path });
      try {
        id = (await request(first.server()).post('/rename-notes').send({ title: 't', note: 'first' }).expect(201)).body.id;
        await request(first.server()).patch(`/rename-notes/${id}`).send({ note: 'second' }).expect(200);
        await request(first.server()).patch(`/rename-notes/${id}`).send({ note: null }).expect(200);
        const before = await request(first.server()).get(`/rename-notes/${id}/history`).expect(200);
        expect(before.body.fields.note.map((e: { value: unknown }) => e.value)).toEqual([null, 'second', 'first']);
      } finally {
        await first.close();
      }

      const second = await createTestApp({ entities: [NoteV2], path: dir.path });
      try {
        const history = await request(second.server()).get(`/rename-notes/${id}/history`).expect(200);
        // The past values of note must now be the past values of remark, as for a record that held a note.
        expect(history.body.fields.remark.map((e: { value: unknown }) => e.value)).toEqual([null, 'second', 'first']);
        expect(second.app.get(EntitiesMaintenance).verify().problems).toEqual([]);
      } finally {
        await second.close();
      }
    } finally {
      dir.remove();
    }
  });

  it('moves it for a soft-deleted record, and leaves the versions of records without such history alone', async () => {
    const dir = makeTempDir();
    try {
      let cleared = '';
      let plain = '';
      const first = await createTestApp({ entities: [MemoV1], path: dir.path });
      try {
        cleared = (await request(first.server()).post('/rename-memos').send({ title: 't', note: 'first' }).expect(201)).body.id;
        await request(first.server()).patch(`/rename-memos/${cleared}`).send({ note: null }).expect(200);
        await request(first.server()).delete(`/rename-memos/${cleared}`).expect(204);
        plain = (await request(first.server()).post('/rename-memos').send({ title: 'never noted' }).expect(201)).body.id;
      } finally {
        await first.close();
      }
      const second = await createTestApp({ entities: [MemoV2], path: dir.path });
      try {
        await request(second.server()).post(`/rename-memos/${cleared}/restore`).send({}).expect(200);
        const history = await request(second.server()).get(`/rename-memos/${cleared}/history`).expect(200);
        expect(history.body.fields.remark.map((e: { value: unknown }) => e.value)).toEqual([null, 'first']);
        expect((await request(second.server()).get(`/rename-memos/${plain}`).expect(200)).body.version).toBe(1);
        expect(second.app.get(EntitiesMaintenance).verify().problems).toEqual([]);
      } finally {
        await second.close();
      }
    } finally {
      dir.remove();
    }
  });
});

/** First release: the applicant and a note, both kept whole. */
@Entity('rename-revert-notes')
class ApplicationV1 {
  @Field() @Historize('full') applicant!: string;
  @Field({ required: false }) @Historize('full') note?: string;
  @Field() title!: string;
}

/** Second release renames applicant to client and note to remark; the third renames client to holder. */
@Entity({ name: 'rename-revert-notes', migrations: [{ version: 2, rename: { applicant: 'client', note: 'remark' } }] })
class ApplicationV2 {
  @Field() @Historize('full') client!: string;
  @Field({ required: false }) @Historize('full') remark?: string;
  @Field() title!: string;
}

@Entity({
  name: 'rename-revert-notes',
  migrations: [
    { version: 2, rename: { applicant: 'client', note: 'remark' } },
    { version: 3, rename: { client: 'holder' } },
  ],
})
class ApplicationV3 {
  @Field() @Historize('full') holder!: string;
  @Field({ required: false }) @Historize('full') remark?: string;
  @Field() title!: string;
}

describe('a revert to a version from before rename migrations', () => {
  it('writes back the values the record had then, under the names they have now', async () => {
    const dir = makeTempDir();
    try {
      let id = '';
      const first = await createTestApp({ entities: [ApplicationV1], path: dir.path });
      try {
        id = (await request(first.server()).post('/rename-revert-notes').send({ applicant: 'Ada', note: 'first', title: 't1' }).expect(201)).body.id;
        await request(first.server()).patch(`/rename-revert-notes/${id}`).send({ applicant: 'Bea', note: null, title: 't2' }).expect(200);
      } finally {
        await first.close();
      }
      const second = await createTestApp({ entities: [ApplicationV2], path: dir.path });
      await second.close();
      const third = await createTestApp({ entities: [ApplicationV3], path: dir.path });
      try {
        // Versions 1 and 2 as written, version 3 by the rename, version 4 by the second rename.
        const current = await request(third.server()).get(`/rename-revert-notes/${id}`).expect(200);
        expect(current.body).toMatchObject({ version: 4, holder: 'Bea', title: 't2' });
        const reverted = await request(third.server()).post(`/rename-revert-notes/${id}/revert`).send({ toVersion: 1 }).expect(200);
        expect(reverted.body).toMatchObject({ version: 5, holder: 'Ada', remark: 'first', title: 't1' });
        const history = await request(third.server()).get(`/rename-revert-notes/${id}/history`).expect(200);
        expect(history.body.fields.holder.map((entry: { value: unknown }) => entry.value)).toEqual(['Ada', 'Bea', 'Ada']);
        expect(third.app.get(EntitiesMaintenance).verify().problems).toEqual([]);
      } finally {
        await third.close();
      }
    } finally {
      dir.remove();
    }
  });
});

/** First release: an optional note, not historized. */
@Entity('unrecorded-rename-notes')
class PlainNoteV1 {
  @Field() title!: string;
  @Field({ required: false }) note?: string;
}

/** Second release renames note to remark. */
@Entity({ name: 'unrecorded-rename-notes', migrations: [{ version: 2, rename: { note: 'remark' } }] })
class PlainNoteV2 {
  @Field() title!: string;
  @Field({ required: false }) remark?: string;
}

describe('a revert to a version from before a rename, of a record without the field when the rename ran', () => {
  it('writes the value back under its name of now, though no event of the record names the rename', async () => {
    const dir = makeTempDir();
    try {
      let id = '';
      const first = await createTestApp({ entities: [PlainNoteV1], path: dir.path });
      try {
        id = (await request(first.server()).post('/unrecorded-rename-notes').send({ title: 't', note: 'first' }).expect(201)).body.id;
        await request(first.server()).patch(`/unrecorded-rename-notes/${id}`).send({ note: null }).expect(200);
      } finally {
        await first.close();
      }
      const second = await createTestApp({ entities: [PlainNoteV2], path: dir.path });
      try {
        expect((await request(second.server()).get(`/unrecorded-rename-notes/${id}`).expect(200)).body).toMatchObject({ version: 2 });
        const reverted = await request(second.server()).post(`/unrecorded-rename-notes/${id}/revert`).send({ toVersion: 1 }).expect(200);
        expect(reverted.body).toMatchObject({ version: 3, title: 't', remark: 'first' });
      } finally {
        await second.close();
      }
    } finally {
      dir.remove();
    }
  });
});

/** Release 2 renames a to b; release 3 renames the new a to c. */
@Entity({ name: 'reused-names', migrations: [{ version: 2, rename: { a: 'b' } }] })
class ReusedV2 {
  @Field({ required: false }) b?: string;
  @Field({ required: false }) a?: string;
}

@Entity({
  name: 'reused-names',
  migrations: [
    { version: 2, rename: { a: 'b' } },
    { version: 3, rename: { a: 'c' } },
  ],
})
class ReusedV3 {
  @Field({ required: false }) b?: string;
  @Field({ required: false }) c?: string;
}

describe('a revert to a version written under a name a rename freed and a later one used again', () => {
  it('puts no value in a field it may not belong to', async () => {
    const dir = makeTempDir();
    try {
      let id = '';
      const first = await createTestApp({ entities: [ReusedV2], path: dir.path });
      try {
        id = (await request(first.server()).post('/reused-names').send({ a: 'N' }).expect(201)).body.id;
        await request(first.server()).patch(`/reused-names/${id}`).send({ a: null }).expect(200);
      } finally {
        await first.close();
      }
      const second = await createTestApp({ entities: [ReusedV3], path: dir.path });
      try {
        // No event of the record names the rename to c (a was empty then), and a meant b before it.
        const reverted = await request(second.server()).post(`/reused-names/${id}/revert`).send({ toVersion: 1 }).expect(200);
        expect(reverted.body).not.toHaveProperty('b');
        expect(reverted.body).toMatchObject({ version: 3 });
      } finally {
        await second.close();
      }
    } finally {
      dir.remove();
    }
  });
});

/** Release 2 renames a to b and declares a new a; release 3 removes b; release 4 renames the new a to c. */
@Entity({ name: 'removed-target-notes', migrations: [{ version: 2, rename: { a: 'b' } }] })
class RemovedTargetV2 {
  @Field() title!: string;
  @Field({ required: false }) b?: string;
  @Field({ required: false }) a?: string;
}

@Entity({ name: 'removed-target-notes' })
class RemovedTargetV1 {
  @Field() title!: string;
  @Field({ required: false }) a?: string;
}

@Entity({
  name: 'removed-target-notes',
  migrations: [
    { version: 2, rename: { a: 'b' } },
    { version: 3, remove: ['b'] },
    { version: 4, rename: { a: 'c' } },
  ],
})
class RemovedTargetV4 {
  @Field() title!: string;
  @Field({ required: false }) c?: string;
}

describe('a revert to a version written under a name whose field a later step removed', () => {
  it('does not write the value into the one other field the name came to mean', async () => {
    const dir = makeTempDir();
    try {
      let id = '';
      const first = await createTestApp({ entities: [RemovedTargetV1], path: dir.path });
      try {
        id = (await request(first.server()).post('/removed-target-notes').send({ title: 't', a: 'OLD-A' }).expect(201)).body.id;
        await request(first.server()).patch(`/removed-target-notes/${id}`).send({ a: null }).expect(200);
      } finally {
        await first.close();
      }
      await (await createTestApp({ entities: [RemovedTargetV2], path: dir.path })).close();
      const last = await createTestApp({ entities: [RemovedTargetV4], path: dir.path });
      try {
        const reverted = await request(last.server()).post(`/removed-target-notes/${id}/revert`).send({ toVersion: 1 }).expect(200);
        expect(reverted.body).toMatchObject({ title: 't' });
        expect(reverted.body).not.toHaveProperty('c');
      } finally {
        await last.close();
      }
    } finally {
      dir.remove();
    }
  });
});
