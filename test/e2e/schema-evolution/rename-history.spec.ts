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
