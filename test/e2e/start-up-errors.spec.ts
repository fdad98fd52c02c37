import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { EntitiesModule, Entity, EntityMetadataException, Field, getRepositoryToken, Index, Reference } from '../../lib/index.js';
import { createEntityDefinition } from '../../lib/metadata/entity-definition.factory.js';
import { EntityStorage } from '../../lib/storage/entity-storage.store.js';
import { LmdbEnvironment } from '../../lib/storage/lmdb-environment.store.js';
import { makeTempDir } from '../support/temp-dir.util.js';
import { startUpFailure } from '../support/start-up-failure.util.js';
import { createTestApp } from '../support/test-app.util.js';

@Entity('startup-sites')
class Site {
  @Field() name!: string;
}

describe('start-up errors between entities', () => {
  it('refuses two entities on one name, naming both classes', async () => {
    @Entity({ name: 'startup-sites', path: 'other-sites' })
    class OtherSite {
      @Field() name!: string;
    }
    const failure = await startUpFailure([Site, OtherSite]);
    expect(failure).toBeInstanceOf(EntityMetadataException);
    expect((failure as Error).message).toBe('OtherSite: entity name "startup-sites" is already used by Site');
  });

  it('refuses two entities on one route path, naming both classes', async () => {
    @Entity({ name: 'startup-places', path: 'startup-sites' })
    class Place {
      @Field() name!: string;
    }
    const failure = await startUpFailure([Site, Place]);
    expect(failure).toBeInstanceOf(EntityMetadataException);
    expect((failure as Error).message).toBe('Place: route path "/startup-sites" is already used by Site');
  });

  it('refuses a route path that differs from another only in case (Express matches routes ignoring case)', async () => {
    @Entity({ name: 'startup-upper-sites', path: 'Startup-Sites' })
    class UpperSite {
      @Field() name!: string;
    }
    const failure = await startUpFailure([Site, UpperSite]);
    expect(failure).toBeInstanceOf(EntityMetadataException);
    expect((failure as Error).message).toBe('UpperSite: route path "/Startup-Sites" differs only in case from the path of Site');
  });

  it('refuses two nested routes under one entity whose names differ only in case (Express matches routes ignoring case), and takes such names otherwise', async () => {
    @Entity({ name: 'Startup-Notes', path: 'startup-upper-notes' })
    class UpperNote {
      @Field() @Reference(() => Site) siteId!: string;
    }
    @Entity({ name: 'startup-notes', path: 'startup-lower-notes' })
    class LowerNote {
      @Field() @Reference(() => Site) siteId!: string;
    }
    const failure = await startUpFailure([Site, UpperNote, LowerNote]);
    expect(failure).toBeInstanceOf(EntityMetadataException);
    expect((failure as Error).message).toMatch(
      /the nested route \/startup-sites\/:id\/startup-notes differs only in case from \/startup-sites\/:id\/Startup-Notes \(of UpperNote\)|the nested route \/startup-sites\/:id\/Startup-Notes differs only in case from \/startup-sites\/:id\/startup-notes \(of LowerNote\)/,
    );
    // Without nested routes (no reference), names that differ only in case are two entities like any others.
    @Entity({ name: 'Startup-Logs', path: 'startup-upper-logs' })
    class UpperLog {
      @Field() text!: string;
    }
    @Entity({ name: 'startup-logs', path: 'startup-lower-logs' })
    class LowerLog {
      @Field() text!: string;
    }
    expect(await startUpFailure([UpperLog, LowerLog])).toBeUndefined();
  });

  it("refuses a route path under another entity's, whose /:id routes would answer it", async () => {
    @Entity({ name: 'startup-archive', path: 'startup-sites/archive' })
    class Archive {
      @Field() name!: string;
    }
    const inner = await startUpFailure([Site, Archive]);
    expect(inner).toBeInstanceOf(EntityMetadataException);
    expect((inner as Error).message).toBe('Archive: route path "/startup-sites/archive" lies under the path of Site');
    const outer = await startUpFailure([Archive, Site]);
    expect((outer as Error).message).toBe('Site: route path "/startup-sites" holds the path of Archive');
  });

  it('serves two entity classes that share a class name, each from its own store', async () => {
    const [First, Second] = [0, 1].map((n) => {
      @Entity(`startup-ledger-${n}`)
      class Ledger {
        @Field() label!: string;
      }
      return Ledger;
    });
    const t = await createTestApp({ entities: [First!, Second!] });
    try {
      expect((await request(t.server()).post('/startup-ledger-0').send({ label: 'first' })).status).toBe(201);
      expect((await request(t.server()).get('/startup-ledger-0')).body.items).toHaveLength(1);
      expect((await request(t.server()).get('/startup-ledger-1')).body.items).toEqual([]);
      expect(getRepositoryToken(First!)).not.toBe(getRepositoryToken(Second!));
      expect(getRepositoryToken(First!)).toBe(getRepositoryToken(First!));
    } finally {
      await t.close();
    }
  });

  it('refuses an entity listed in two forFeature() calls', async () => {
    const failure = await startUpFailure([Site], [Site]);
    expect(failure).toBeInstanceOf(EntityMetadataException);
    expect((failure as Error).message).toBe('Site: is listed in more than one EntitiesModule.forFeature(); list each entity once');
  });

  it('refuses a reference whose nested list route would shadow a route of the entity referred to', async () => {
    @Entity({ name: 'history', path: 'startup-history' })
    class History {
      @Field() @Reference(() => Site) siteId!: string;
    }
    const failure = await startUpFailure([Site, History]);
    expect(failure).toBeInstanceOf(EntityMetadataException);
    expect((failure as Error).message).toBe('History.siteId: the nested route /startup-sites/:id/history would shadow a route of Site');
    @Entity({ name: 'Audit', path: 'startup-audit' })
    class Audit {
      @Field() @Reference(() => Site) siteId!: string;
    }
    expect(((await startUpFailure([Site, Audit])) as Error).message).toBe(
      'Audit.siteId: the nested route /startup-sites/:id/Audit would shadow a route of Site',
    );
  });

  it('refuses a reference to a class that is not an entity of the store, naming the field', async () => {
    @Entity('startup-orphans')
    class Orphan {
      @Field() @Reference(() => Site) siteId!: string;
    }
    const failure = await startUpFailure([Orphan]);
    expect(failure).toBeInstanceOf(EntityMetadataException);
    expect((failure as Error).message).toBe(
      'Orphan.siteId: @Reference(() => Site) refers to a class that is not an entity of this store; list it in EntitiesModule.forFeature()',
    );
  });

  it('refuses a second forRoot in one app, whose entities would have gone to the first store, before opening either', async () => {
    const dir = makeTempDir();
    try {
      @Entity('startup-feature-notes')
      class FeatureNote {
        @Field() text!: string;
      }
      @Module({ imports: [EntitiesModule.forRoot({ path: join(dir.path, 'feature') }), EntitiesModule.forFeature([FeatureNote])] })
      class FeatureModule {}
      @Module({ imports: [EntitiesModule.forRoot({ path: join(dir.path, 'root') }), EntitiesModule.forFeature([Site]), FeatureModule] })
      class TwoRootsModule {}
      const app = (await Test.createTestingModule({ imports: [TwoRootsModule] }).compile()).createNestApplication({ logger: false });
      try {
        await expect(app.init()).rejects.toThrow(
          'EntitiesModule.forRoot() is imported 2 times in this app; import it once (its entities would all use one store)',
        );
      } finally {
        await app.close();
      }
      expect(existsSync(join(dir.path, 'root', 'data.mdb')) || existsSync(join(dir.path, 'feature', 'data.mdb'))).toBe(false);
    } finally {
      dir.remove();
    }
  });
});

describe('a start that fails once the store is open', () => {
  @Entity('startup-codes')
  class LooseCode {
    @Field() code!: string;
  }

  @Entity('startup-codes')
  class UniqueCode {
    @Field() @Index({ unique: true }) code!: string;
  }

  it('closes the store and leaves this process listed as no writer, even when the app is never closed', async () => {
    const dir = makeTempDir();
    try {
      const seeding = new EntityStorage(new LmdbEnvironment(dir.path));
      const loose = createEntityDefinition(LooseCode);
      seeding.register(loose);
      await seeding.open();
      await seeding.write((tx) => ['A', 'A'].forEach((code) => tx.create(loose, { code })));
      await seeding.close();

      @Module({ imports: [EntitiesModule.forRoot({ path: dir.path }), EntitiesModule.forFeature([UniqueCode])] })
      class FailingModule {}
      const moduleRef = await Test.createTestingModule({ imports: [FailingModule] }).compile();
      // A unique index over duplicate values fails the start after the process is listed as a writer.
      await expect(moduleRef.createNestApplication({ logger: false }).init()).rejects.toThrow(/unique index "code" cannot be built/);

      const reader = new EntityStorage(new LmdbEnvironment(dir.path));
      reader.register(loose);
      await reader.attach();
      try {
        expect(reader.writers()).toEqual([]);
      } finally {
        await reader.close();
      }
    } finally {
      dir.remove();
    }
  });
});
