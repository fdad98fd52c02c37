import { join } from 'node:path';
import { Entity, Field } from '../../../lib/index.js';
import { createTestApp, PLATFORMS } from '../../support/test-app.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { http } from '../support/e2e.util.js';

/** README (Time travel): a revert writes version N's values back; a field N did not have is cleared, not defaulted. */
@Entity('tickets')
class Ticket {
  @Field() title!: string;
  @Field({ required: false, default: 'normal' }) priority?: string;
}

@Entity('tickets')
class TicketLater {
  @Field() title!: string;
  @Field({ required: false, default: 'normal' }) priority?: string;
  @Field({ required: false, default: 'web' }) channel?: string;
  @Field({ default: 'open' }) state!: string;
}

describe.each(PLATFORMS)('revert and defaults on %s', (platform) => {
  const dir = makeTempDir('nde-revert-defaults-');
  afterAll(() => dir.remove());

  it('brings back a cleared field cleared', async () => {
    const t = await createTestApp({ entities: [Ticket], platform, path: join(dir.path, 'cleared') });
    try {
      const { id } = (await http(t).post('/tickets').send({ title: 'a' }).expect(201)).body;
      const cleared = (await http(t).patch(`/tickets/${id}`).send({ priority: null }).expect(200)).body;
      expect(cleared).not.toHaveProperty('priority');
      await http(t).patch(`/tickets/${id}`).send({ priority: 'high' }).expect(200);
      const reverted = (await http(t).post(`/tickets/${id}/revert`).send({ toVersion: 2 }).expect(200)).body;
      expect(reverted).not.toHaveProperty('priority');
      expect(reverted.version).toBe(4);
      const first = (await http(t).post(`/tickets/${id}/revert`).send({ toVersion: 1 }).expect(200)).body;
      expect(first.priority).toBe('normal');
    } finally {
      await t.close();
    }
  });

  it('leaves out an optional field added since, and fills a required one with its default', async () => {
    const path = join(dir.path, 'added');
    const before = await createTestApp({ entities: [Ticket], platform, path });
    const { id } = (await http(before).post('/tickets').send({ title: 'a' }).expect(201)).body;
    await before.close();
    const t = await createTestApp({ entities: [TicketLater], platform, path });
    try {
      await http(t).patch(`/tickets/${id}`).send({ title: 'b', channel: 'phone', state: 'closed' }).expect(200);
      const reverted = (await http(t).post(`/tickets/${id}/revert`).send({ toVersion: 1 }).expect(200)).body;
      expect(reverted).toMatchObject({ title: 'a', priority: 'normal', state: 'open', version: 3 });
      expect(reverted).not.toHaveProperty('channel');
    } finally {
      await t.close();
    }
  });
});
