import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import Database from 'better-sqlite3';
import { EntitiesMaintenance, EntitiesModule, EntityRepository, getRepositoryToken } from 'nestjs-declarative-entities';
import { allIds, recordCount } from '../record-ids.util.js';
import { monotonicFactory } from 'ulid';
import { BenchPermit } from '../bench-permit.entity.js';
import { permitData } from '../permit-data.util.js';
import { RawLmdbStore } from '../raw-lmdb.store.js';
import { storeOf, type AppKind } from './bench-apps.js';
import { createBenchApp } from './bench-apps.js';

/**
 * Brings an app's store to `count` records of `permitData(i)` and writes a sample of their
 * ids to `<dir>/ids.json` for the load runs: `bench-seed <app> <dir> <count>`. Prints
 * `seeded <added> <ms>` (records added and the time they took).
 */
const [kind, dir, countText] = process.argv.slice(2) as [AppKind, string, string];
const count = Number(countText);
const SAMPLE = 20_000;
const started = performance.now();
let added = 0;
let ids: string[];

if (kind === 'package' || kind === 'package-cached') {
  @Module({ imports: [EntitiesModule.forRoot({ path: dir }), EntitiesModule.forFeature([BenchPermit])] })
  class SeedModule {}
  const app = await NestFactory.createApplicationContext(SeedModule, { logger: false });
  const repo = app.get<EntityRepository<BenchPermit>>(getRepositoryToken(BenchPermit));
  for (let have = await recordCount(app.get(EntitiesMaintenance), repo.definition.name); have < count; have += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - have) }, (_, k) => permitData(have + k));
    await repo.createMany(batch);
    added += batch.length;
  }
  ids = sample(await allIds(repo));
  await app.close();
} else if (kind === 'raw-lmdb') {
  const raw = new RawLmdbStore(dir);
  for (let have = raw.records.getKeysCount(); have < count; have += 1000) {
    // lmdb groups concurrent transactions into one commit.
    await Promise.all(Array.from({ length: Math.min(1000, count - have) }, (_, k) => raw.create(permitData(have + k) as never)));
    added += Math.min(1000, count - have);
  }
  ids = sample([...raw.records.getKeys({})] as string[]);
  await raw.close();
} else {
  // Let TypeORM create the schema as the app would, then load rows in large transactions.
  const app = await createBenchApp(kind, 'fastify', dir);
  await app.init();
  await app.close();
  const db = new Database(storeOf(kind, dir));
  db.pragma('journal_mode = WAL');
  const have = (db.prepare('SELECT count(*) AS n FROM bench_permits').get() as { n: number }).n;
  const nextId = monotonicFactory();
  const insert = db.prepare(
    'INSERT INTO bench_permits (id, number, client, county, status, amount, inspector, notes, version, createdAt, updatedAt) ' +
      "VALUES (@id, @number, @client, @county, @status, @amount, @inspector, @notes, 1, datetime('now'), datetime('now'))",
  );
  const load = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run({ id: nextId(), ...permitData(i) });
  });
  for (let from = have; from < count; from += 10_000) load(from, Math.min(count, from + 10_000));
  added = Math.max(0, count - have);
  db.pragma('wal_checkpoint(TRUNCATE)');
  ids = sample(db.prepare('SELECT id FROM bench_permits').pluck().all() as string[]);
  db.close();
}

writeFileSync(join(dir, 'ids.json'), JSON.stringify(ids));
process.stdout.write(`seeded ${added} ${Math.round(performance.now() - started)}\n`);

/** Up to SAMPLE ids spread evenly over all of them. */
function sample(all: string[]): string[] {
  const step = Math.max(1, Math.floor(all.length / SAMPLE));
  return all.filter((_, i) => i % step === 0).slice(0, SAMPLE);
}
