import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Audited, Entity, Field, Historize, Index, MigrationsPendingException, Permission, StoreSchemaNewerException } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { asPrincipal, expectErrorStatus, http, principalFromHeader } from '../support/e2e.util.js';

const RULES = { read: 'parcels:read', create: 'parcels:write', update: 'parcels:write', delete: 'parcels:write', history: 'parcels:read' };

/** As first deployed. */
@Entity('ev-parcels')
@Permission(RULES)
@Audited()
class ParcelV1 {
  @Field() @Historize('full') applicant!: string;
  @Field() county!: string;
  @Field({ required: false }) faxNumber?: string;
}

/** The next release: applicant renamed, fax numbers gone, a hidden review code and a county index. */
@Entity({
  name: 'ev-parcels',
  migrations: [
    { version: 2, description: 'applicant is the client', rename: { applicant: 'client' }, remove: ['faxNumber'] },
    { version: 3, fill: { reviewCode: 'R-0' }, update: (parcel) => ({ county: String(parcel.county).toUpperCase() }) },
  ],
})
@Permission(RULES)
@Audited()
class ParcelV3 {
  @Field() @Historize('full') client!: string;
  @Field() @Index() county!: string;
  @Field({ hidden: true }) reviewCode!: string;
}

const CLERK = asPrincipal({ id: 'clerk', permissions: ['parcels:read', 'parcels:write'] });

describe.each(PLATFORMS)('schema migrations through the app, on %s', (platform) => {
  let dir: ReturnType<typeof makeTempDir>;
  let t: TestApp | undefined;

  beforeEach(() => (dir = makeTempDir()));
  afterEach(async () => {
    await t?.close();
    t = undefined;
    dir.remove();
  });

  const start = (entity: typeof ParcelV1 | typeof ParcelV3, migrate?: 'manual') =>
    createTestApp({ entities: [entity], platform, path: dir.path, module: { getPrincipal: principalFromHeader, ...(migrate && { migrate }) } });

  /** Two parcels written by the first release, one changed once. */
  async function firstRelease(): Promise<string[]> {
    t = await start(ParcelV1);
    const ids: string[] = [];
    for (const [applicant, county] of [
      ['Ada', 'travis'],
      ['Grace', 'hays'],
    ]) {
      const created = await http(t).post('/ev-parcels').set(CLERK).send({ applicant, county, faxNumber: '555' }).expect(201);
      ids.push(created.body.id as string);
    }
    await http(t).patch(`/ev-parcels/${ids[0]}`).set(CLERK).send({ applicant: 'Ada L.' }).expect(200);
    await t.close();
    t = undefined;
    return ids;
  }

  it('serves the records as the new class describes them once the start has migrated them', async () => {
    const [ada, grace] = await firstRelease();
    t = await start(ParcelV3);

    const read = await http(t).get(`/ev-parcels/${ada}`).set(CLERK).expect(200);
    expect(read.body).toEqual(expect.objectContaining({ id: ada, client: 'Ada L.', county: 'TRAVIS', version: 3 }));
    expect(Object.keys(read.body as object).sort()).toEqual(['client', 'county', 'createdAt', 'id', 'updatedAt', 'version']);
    expect(read.headers.etag).toBe('"3"');
    // The version moved on: a write made against the record as the old release served it is stale.
    expectErrorStatus(await http(t).patch(`/ev-parcels/${ada}`).set(CLERK).set('If-Match', '"2"').send({ county: 'BASTROP' }), 412);

    // The new index answers from the migrated values.
    const hays = await http(t).get('/ev-parcels?county=HAYS').set(CLERK).expect(200);
    expect(hays.body.items.map((parcel: { id: string }) => parcel.id)).toEqual([grace]);

    // The renamed field's history moved with it; the migration added no value to it.
    const history = await http(t).get(`/ev-parcels/${ada}/history`).set(CLERK).expect(200);
    expect(history.body.fields.client.map((entry: { value: string }) => entry.value)).toEqual(['Ada L.', 'Ada']);

    // The audit trail says which migration changed the record, and hides the hidden field's value.
    const audit = await http(t).get(`/ev-parcels/${ada}/audit`).set(CLERK).expect(200);
    expect(audit.body.items.at(-1)).toEqual(
      expect.objectContaining({
        action: 'update',
        version: 3,
        migration: 3,
        changes: expect.objectContaining({ county: { from: 'travis', to: 'TRAVIS' }, reviewCode: { from: null, to: '[hidden]' } }),
      }),
    );
    // Read as it was before the migration, a version answers what was stored then.
    const before = await http(t).get(`/ev-parcels/${ada}?version=2`).set(CLERK).expect(200);
    expect(before.body).toEqual(expect.objectContaining({ id: ada, county: 'travis', version: 2 }));
    expect(before.body).not.toHaveProperty('reviewCode');

    const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
    const entry = document.components!.schemas!.AuditEntry as { properties: Record<string, { type?: string }> };
    expect(entry.properties.migration).toEqual(expect.objectContaining({ type: 'integer' }));
  });

  it('refuses to start with code older than the records, and with migrate: manual while records wait', async () => {
    await firstRelease();
    await expect(start(ParcelV3, 'manual')).rejects.toThrow(MigrationsPendingException);
    t = await start(ParcelV3);
    await t.close();
    t = undefined;
    await expect(start(ParcelV1)).rejects.toThrow(StoreSchemaNewerException);
  });
});
