import { Audited, AuditService, Entity, EntityRepository, Field, getRepositoryToken } from '../../../lib/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('ledger-accounts')
@Audited()
class Account {
  @Field() code!: string;
  @Field({ required: false }) balance?: number;
}

/**
 * `transaction(fn, ctx)`: "ctx is the default of each call". EntityTransaction.withDefaults
 * merges with Object.assign, so a call context that merely carries an optional key set to
 * `undefined` (`{ actor: opts.actor, expectedVersion: opts.version }`) wipes the default.
 */
describe('transaction defaults and a call context with undefined keys', () => {
  let t: TestApp;
  let accounts: EntityRepository<Account>;
  let audit: AuditService;
  beforeAll(async () => {
    t = await createTestApp({ entities: [Account] });
    accounts = t.app.get(getRepositoryToken(Account));
    audit = t.app.get(AuditService);
  });
  afterAll(async () => t?.close());

  it('keeps the default actor when the call passes actor: undefined', async () => {
    const account = await accounts.create({ code: 'A' });
    const options: { actor?: string; expectedVersion?: number } = {};
    await accounts.transaction((tx) => tx.update(Account, account.id, { balance: 10 }, { actor: options.actor, expectedVersion: options.expectedVersion }), {
      actor: 'alice',
    });
    const trail = await audit.forRecord('ledger-accounts', account.id);
    expect(trail.at(-1)).toMatchObject({ action: 'update', actor: 'alice' });
  });

  it('keeps the default expectedVersion when the call passes expectedVersion: undefined', async () => {
    const account = await accounts.create({ code: 'B' });
    await accounts.update(account.id, { balance: 1 }); // now at version 2
    await expect(
      accounts.transaction((tx) => tx.update(Account, account.id, { balance: 2 }, { expectedVersion: undefined }), { expectedVersion: 1 }),
    ).rejects.toThrow(/version/);
  });
});
