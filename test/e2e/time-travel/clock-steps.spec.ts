import { Audited, AuditService, Entity, EntityRepository, Field, getRepositoryToken, Historize } from '../../../lib/index.js';
import { api, withApp } from '../write-pipeline/write-pipeline.util.js';
import { installShiftedClock, restoreClock, setClockOffset, setTicking } from '../../support/shifted-clock.util.js';

@Entity('clocked-notes')
@Audited()
@Historize('full')
class Clocked {
  @Field() title!: string;
}

const HOUR = 60 * 60 * 1000;

/**
 * README (Records as they were, Audit): a change's time never comes before the one it follows,
 * whatever the wall clock does (an NTP step back): `updatedAt` is never before `createdAt`,
 * `?asOf=` answers the version in force then, and an audit entry is found by its own `at`.
 */
describe('the wall clock stepped back between two writes', () => {
  beforeAll(() => installShiftedClock());
  afterAll(() => restoreClock());
  afterEach(() => {
    setClockOffset(0);
    setTicking(false);
  });

  it('never gives a record an updatedAt before its createdAt', async () => {
    await withApp('express', [Clocked], async (t) => {
      const created = (await api(t).post('/clocked-notes').send({ title: 'v1' }).expect(201)).body;
      setClockOffset(-HOUR);
      const updated = (await api(t).patch(`/clocked-notes/${created.id}`).send({ title: 'v2' }).expect(200)).body;
      expect(updated.version).toBe(2);
      expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(updated.createdAt));
    });
  });

  it('answers ?asOf= before the creation 404, and at any later time a version made by then', async () => {
    await withApp('express', [Clocked], async (t) => {
      const created = (await api(t).post('/clocked-notes').send({ title: 'v1' }).expect(201)).body;
      setClockOffset(-HOUR);
      const updated = (await api(t).patch(`/clocked-notes/${created.id}`).send({ title: 'v2' }).expect(200)).body;
      setClockOffset(0);
      // The update could not be dated before the create: it takes the create's time, the clock's before it stepped back.
      expect(updated.updatedAt).toBe(created.createdAt);
      for (const asOf of [created.createdAt, new Date(Date.parse(created.createdAt) + HOUR / 2).toISOString()]) {
        const then = await api(t).get(`/clocked-notes/${created.id}`).query({ asOf }).expect(200);
        expect(then.body).toMatchObject({ version: 2, title: 'v2' });
      }
      const before = new Date(Date.parse(created.createdAt) - HOUR / 2).toISOString();
      expect((await api(t).get(`/clocked-notes/${created.id}`).query({ asOf: before })).status).toBe(404);
      const repo = t.app.get<EntityRepository<Clocked>>(getRepositoryToken(Clocked));
      expect(await repo.findAt(created.id, { asOf: before })).toBeNull();
    });
  });

  it('finds each audit entry by AuditService.find({ from, to }) around its own at, the trail in time order', async () => {
    await withApp('express', [Clocked], async (t) => {
      const created = (await api(t).post('/clocked-notes').send({ title: 'v1' }).expect(201)).body;
      setClockOffset(-HOUR);
      await api(t).patch(`/clocked-notes/${created.id}`).send({ title: 'v2' }).expect(200);
      await api(t).patch(`/clocked-notes/${created.id}`).send({ title: 'v3' }).expect(200);
      setClockOffset(0);
      const audit = t.app.get(AuditService);
      const trail = await audit.forRecord('clocked-notes', created.id);
      expect(trail.map((entry) => entry.action)).toEqual(['create', 'update', 'update']);
      expect(trail.map((entry) => entry.at)).toEqual([...trail.map((entry) => entry.at)].sort());
      for (const entry of trail) {
        const at = Date.parse(entry.at);
        const page = await audit.find({ entity: 'clocked-notes', id: created.id, from: new Date(at), to: new Date(at + 1) });
        expect(page.items.map((found) => found.auditId)).toContain(entry.auditId);
      }
      // An hour back, where the wall clock stood for the updates, the trail holds nothing.
      const stepped = await audit.find({ entity: 'clocked-notes', id: created.id, to: new Date(Date.parse(created.createdAt) - HOUR / 2) });
      expect(stepped.items).toEqual([]);
    });
  });

  it('finds an entry from its own at, and not before it, when the clock moves during the write', async () => {
    await withApp('express', [Clocked], async (t) => {
      // Each read of the clock is 1 ms after the one before, as when a millisecond ends mid-write.
      setTicking(true);
      const created = (await api(t).post('/clocked-notes').send({ title: 'v1' }).expect(201)).body;
      setTicking(false);
      const audit = t.app.get(AuditService);
      const [entry] = await audit.forRecord('clocked-notes', created.id);
      expect(entry!.at).toBe(created.createdAt);
      expect((await audit.find({ entity: 'clocked-notes', id: created.id, from: entry!.at })).items).toHaveLength(1);
      expect((await audit.find({ entity: 'clocked-notes', id: created.id, to: entry!.at })).items).toHaveLength(0);
    });
  });
});
