import { Audited, Entity, Field, Historize } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp } from '../../support/test-app.util.js';
import { http } from '../support/e2e.util.js';

@Entity('hidden-later-clients')
@Audited()
class ClientV1 {
  @Field() name!: string;
  @Field({ required: false }) @Historize('full') taxId?: string;
}

/** The next release hides taxId. */
@Entity('hidden-later-clients')
@Audited()
class ClientV2 {
  @Field() name!: string;
  @Field({ required: false, hidden: true }) @Historize('full') taxId?: string;
}

@Entity('hidden-renamed-clients')
@Audited()
class RenamedV1 {
  @Field() name!: string;
  @Field({ required: false }) ssn?: string;
}

/** The next release renames ssn to taxId and hides it. */
@Entity({ name: 'hidden-renamed-clients', migrations: [{ version: 2, rename: { ssn: 'taxId' } }] })
@Audited()
class RenamedV2 {
  @Field() name!: string;
  @Field({ required: false, hidden: true }) taxId?: string;
}

/**
 * README (Decorators): a hidden field is never returned. One made hidden in a later release is
 * not returned by any route either, the audit trail included, whose earlier entries show its
 * values masked as entries written since do.
 */
describe('a field made hidden in a later release', () => {
  it('is masked in the audit trail written before, as in every other route', async () => {
    const dir = makeTempDir();
    try {
      let id = '';
      const first = await createTestApp({ entities: [ClientV1], path: dir.path });
      try {
        id = (await http(first).post('/hidden-later-clients').send({ name: 'Ada', taxId: 'SECRET-1' }).expect(201)).body.id;
        await http(first).patch(`/hidden-later-clients/${id}`).send({ taxId: 'SECRET-2' }).expect(200);
        await http(first).patch(`/hidden-later-clients/${id}`).send({ taxId: null }).expect(200);
      } finally {
        await first.close();
      }
      const second = await createTestApp({ entities: [ClientV2], path: dir.path });
      try {
        for (const path of ['', '?version=1', '/history', '/diff?from=1&to=2']) {
          expect({ path, body: JSON.stringify((await http(second).get(`/hidden-later-clients/${id}${path}`).expect(200)).body) }).not.toEqual({
            path,
            body: expect.stringContaining('SECRET'),
          });
        }
        const audit = await http(second).get(`/hidden-later-clients/${id}/audit`).expect(200);
        expect(audit.body.items.map((entry: { changes: Record<string, unknown> }) => entry.changes.taxId)).toEqual([
          { from: null, to: '[hidden]' },
          { from: '[hidden]', to: '[hidden]' },
          { from: '[hidden]', to: null },
        ]);
        expect(audit.body.items[0].changes.name).toEqual({ from: null, to: 'Ada' });
      } finally {
        await second.close();
      }
    } finally {
      dir.remove();
    }
  });

  it('is masked in the entries written under the name it had before a rename', async () => {
    const dir = makeTempDir();
    try {
      let id = '';
      const first = await createTestApp({ entities: [RenamedV1], path: dir.path });
      try {
        id = (await http(first).post('/hidden-renamed-clients').send({ name: 'Ada', ssn: 'SECRET-1' }).expect(201)).body.id;
      } finally {
        await first.close();
      }
      const second = await createTestApp({ entities: [RenamedV2], path: dir.path });
      try {
        const audit = await http(second).get(`/hidden-renamed-clients/${id}/audit`).expect(200);
        expect(JSON.stringify(audit.body)).not.toContain('SECRET');
        expect(audit.body.items[0].changes.ssn).toEqual({ from: null, to: '[hidden]' });
      } finally {
        await second.close();
      }
    } finally {
      dir.remove();
    }
  });
});
