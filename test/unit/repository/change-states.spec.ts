import type { EntityEvent, StoredRecord } from '../../../lib/storage/entity-event.interface.js';
import { ChangeStates } from '../../../lib/repository/change-states.util.js';

const at = '2026-12-07T10:00:00.000Z';
let seq = 0;
const event = (id: string, type: EntityEvent['type'], version: number, data?: Record<string, unknown>): EntityEvent => ({
  seq: ++seq,
  eventId: `e${seq}`,
  entity: 'things',
  id,
  type,
  version,
  at,
  ...(data && { data }),
});
const created = (id: string): StoredRecord => ({ id, version: 1, createdAt: at, updatedAt: at, n: 0 }) as StoredRecord;

/** What a caught-up subscription keeps: the states of records changed in its last reads, not those of records long quiet. */
describe('ChangeStates once caught up', () => {
  it('lets go a record no read changed for eight rounds, and keeps one changed in each', () => {
    const states = new ChangeStates();
    const folds: string[] = [];
    const stateOf = (change: EntityEvent) =>
      states.stateOf(change, () => {
        folds.push(change.id);
        return change.type === 'created' ? created(change.id) : ({ ...created(change.id), version: change.version, n: change.version } as StoredRecord);
      });
    stateOf(event('quiet', 'created', 1, { n: 0 }));
    stateOf(event('busy', 'created', 1, { n: 0 }));
    expect(folds).toEqual(['quiet', 'busy']);

    for (let round = 1; round <= 8; round++) {
      stateOf(event('busy', 'updated', round + 1, { n: round }));
      states.caughtUp();
    }
    // Eight rounds without a change: still kept, its next change one step from its state.
    expect(stateOf(event('quiet', 'updated', 2, { n: 1 }))).toMatchObject({ version: 2, n: 1 });
    expect(folds).toEqual(['quiet', 'busy']);

    for (let round = 9; round <= 17; round++) {
      stateOf(event('busy', 'updated', round + 1, { n: round }));
      states.caughtUp();
    }
    expect(stateOf(event('busy', 'updated', 19, { n: 18 }))).toMatchObject({ version: 19, n: 18 });
    expect(folds).toEqual(['quiet', 'busy']);
    // Nine rounds without a change: let go, so its next change is read from the log.
    stateOf(event('quiet', 'updated', 3, { n: 2 }));
    expect(folds).toEqual(['quiet', 'busy', 'quiet']);
  });
});
