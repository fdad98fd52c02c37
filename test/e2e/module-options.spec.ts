import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { Registry } from 'prom-client';
import { EntitiesModule, Entity, Field, Index } from '../../lib/index.js';
import { createEntityDefinition } from '../../lib/metadata/entity-definition.factory.js';
import { EntityStorage } from '../../lib/storage/entity-storage.store.js';
import { LmdbEnvironment } from '../../lib/storage/lmdb-environment.store.js';
import { makeTempDir } from '../support/temp-dir.util.js';

@Entity('option-notes')
class Note {
  @Field() text!: string;
}

/** Stands for an app's own configuration service, provided by a module of its own. */
@Injectable()
class StoreSettings {
  path = '';
  idempotencyTtl = 0;
}

@Module({ providers: [StoreSettings], exports: [StoreSettings] })
class SettingsModule {}

describe('EntitiesModule options', () => {
  it('takes forRootAsync options from a factory injected with a provider of an imported module', async () => {
    const dir = makeTempDir();
    @Module({
      imports: [
        EntitiesModule.forRootAsync({
          imports: [SettingsModule],
          inject: [StoreSettings],
          useFactory: (settings: StoreSettings) => ({ path: settings.path, idempotencyTtl: settings.idempotencyTtl }),
        }),
        EntitiesModule.forFeature([Note]),
      ],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(StoreSettings)
      .useValue({ path: join(dir.path, 'configured'), idempotencyTtl: 60_000 })
      .compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
      const created = await request(app.getHttpServer()).post('/option-notes').send({ text: 'stored where configured' }).expect(201);
      await request(app.getHttpServer())
        .get(`/option-notes/${created.body.id as string}`)
        .expect(200);
      expect(existsSync(join(dir.path, 'configured', 'data.mdb'))).toBe(true);
    } finally {
      await app.close();
      dir.remove();
    }
  });

  it('stores in ./data under the working directory when forRoot names no path', async () => {
    const dir = makeTempDir();
    const cwd = process.cwd();
    process.chdir(dir.path);
    @Module({ imports: [EntitiesModule.forRoot({}), EntitiesModule.forFeature([Note])] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
      await request(app.getHttpServer()).post('/option-notes').send({ text: 'in ./data' }).expect(201);
      expect(existsSync(join(dir.path, 'data', 'data.mdb'))).toBe(true);
    } finally {
      await app.close();
      process.chdir(cwd);
      dir.remove();
    }
  });

  it('fails start-up naming each option of a kind the package does not read, from forRoot and forRootAsync', async () => {
    const dir = makeTempDir();
    try {
      const start = async (root: DynamicModule) => {
        @Module({ imports: [root, EntitiesModule.forFeature([Note])] })
        class AppModule {}
        const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
        const app = moduleRef.createNestApplication({ logger: false });
        try {
          await app.init();
        } finally {
          await app.close();
        }
      };
      await expect(start(EntitiesModule.forRoot({ path: dir.path, maxBodyBytes: '1kb' as never, eventRetention: { maxEvents: -1 } }))).rejects.toThrow(
        'EntitiesModule options: maxBodyBytes must be a whole number of bytes above 0 (not a text such as "1kb"), not "1kb"; eventRetention.maxEvents must be a whole number from 0, not -1',
      );
      // Values read from the environment arrive as text: '1000' would have made keys never expire.
      await expect(start(EntitiesModule.forRootAsync({ useFactory: () => ({ path: dir.path, idempotencyTtl: '1000' as never }) }))).rejects.toThrow(
        'EntitiesModule options: idempotencyTtl must be a number of milliseconds above 0, not "1000"',
      );
      await expect(start(EntitiesModule.forRoot({ path: dir.path, requestContext: 'yes' as never, slowQueryMs: Number.NaN }))).rejects.toThrow(
        'slowQueryMs must be a number of milliseconds from 0, or false, not NaN; requestContext must be true, false or \'auto\', not "yes"',
      );
      // Settings of a kind of their own: a function, role lists, a secret, metrics, lmdb's tuning.
      await expect(
        start(
          EntitiesModule.forRoot({
            path: dir.path,
            getPrincipal: 'req.user' as never,
            roles: { admin: '*' } as never,
            cursorSecret: 123 as never,
            metrics: { enabled: 'no' as never, buckets: 'x' as never, prefix: '1bad' },
            lmdb: { mapSize: 1 << 30, overlappingSync: false } as never,
          }),
        ),
      ).rejects.toThrow(
        'EntitiesModule options: getPrincipal must be a function of the request, not "req.user"; ' +
          'roles must be an object of role names to arrays of permission strings, not {"admin":"*"}; ' +
          'cursorSecret must be a string or bytes, not 123; metrics.enabled must be true or false, not "no"; ' +
          'metrics.prefix must be letters, digits, "_" and ":", not starting with a digit, not "1bad"; ' +
          'metrics.buckets must be increasing numbers, not "x"; ' +
          'lmdb.overlappingSync is not a setting the package takes (only mapSize, pageSize, maxReaders)',
      );
      // A misspelt name would quietly change nothing: requirePermission (no "s") left every entity open.
      await expect(
        start(EntitiesModule.forRoot({ path: dir.path, requirePermission: true, cache: { tll: 5 }, metrics: { enabled: true, pth: '/m' } } as never)),
      ).rejects.toThrow(
        'EntitiesModule options: requirePermission is not a setting the package takes (see EntitiesModuleOptions); ' +
          'cache.tll is not a setting the package takes (only manager, ttl, all, maxEntries, timeout); ' +
          'metrics.pth is not a setting the package takes (only enabled, path, registry, prefix, buckets)',
      );
      // A config class's instance holds more than settings: only object literals are checked for unknown names.
      class DataConfig {
        constructor(
          readonly path: string,
          readonly env: string,
        ) {}
      }
      await expect(
        start(EntitiesModule.forRootAsync({ useFactory: () => new DataConfig(join(dir.path, 'configured'), 'production') })),
      ).resolves.toBeUndefined();
      for (const returned of [undefined, null, 'a path']) {
        await expect(start(EntitiesModule.forRootAsync({ useFactory: () => returned as never }))).rejects.toThrow(
          `EntitiesModule options must be an object (as forRootAsync's factory returns), not ${JSON.stringify(returned) ?? 'undefined'}`,
        );
      }
      expect(existsSync(join(dir.path, 'data.mdb'))).toBe(false);
    } finally {
      dir.remove();
    }
  });

  it('frees the metrics of a start that failed, so a retry in the same process fails for its own reason', async () => {
    const dir = makeTempDir();
    const registry = new Registry();
    try {
      @Entity('option-codes')
      class LooseCode {
        @Field() code!: string;
      }
      @Entity('option-codes')
      class UniqueCode {
        @Field() @Index({ unique: true }) code!: string;
      }
      const seeding = new EntityStorage(new LmdbEnvironment(dir.path));
      const loose = createEntityDefinition(LooseCode);
      seeding.register(loose);
      await seeding.open();
      await seeding.write((tx) => ['A', 'A'].forEach((code) => tx.create(loose, { code })));
      await seeding.close();
      const start = async () => {
        @Module({ imports: [EntitiesModule.forRoot({ path: dir.path, metrics: { enabled: true, registry } }), EntitiesModule.forFeature([UniqueCode])] })
        class FailingModule {}
        const moduleRef = await Test.createTestingModule({ imports: [FailingModule] }).compile();
        await moduleRef.createNestApplication({ logger: false }).init();
      };
      await expect(start()).rejects.toThrow(/unique index "code" cannot be built/);
      await expect(start()).rejects.toThrow(/unique index "code" cannot be built/);
      expect(await registry.getMetricsAsJSON()).toEqual([]);
    } finally {
      dir.remove();
    }
  });
});
