import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { EntitiesModule, Entity, Field } from '../../lib/index.js';
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
});
