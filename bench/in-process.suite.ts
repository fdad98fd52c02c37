import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { Module } from '@nestjs/common';
import { EntitiesMaintenance, EntitiesModule, EntityRepository, getRepositoryToken } from 'nestjs-declarative-entities';
import { BenchPermit } from './bench-permit.entity.js';
import { COUNTIES, permitData } from './permit-data.util.js';
import { interleaved, opsPerSecond, type Summary } from './measure.util.js';
import { RawLmdbStore } from './raw-lmdb.store.js';
import { allIds, recordCount } from './record-ids.util.js';

export interface ComparisonRow {
  operation: string;
  package: Summary;
  reference: Summary;
  /** package ÷ reference, medians. */
  ratio: number;
  target: string;
}

export interface InProcessOptions {
  rounds: number;
  seconds: number;
  /** Records loaded for the reads. */
  records: number;
  /** Records loaded for the unindexed filter. */
  scanRecords: number;
}

/**
 * The package's repository against hand-written lmdb-js doing the same logical work, on
 * the same machine in the same process, each on its own data directory.
 */
export async function runInProcessSuite(options: InProcessOptions, log: (line: string) => void): Promise<ComparisonRow[]> {
  const dirs = [mkdtempSync(join(tmpdir(), 'nde-bench-pkg-')), mkdtempSync(join(tmpdir(), 'nde-bench-raw-'))];
  @Module({ imports: [EntitiesModule.forRoot({ path: dirs[0] }), EntitiesModule.forFeature([BenchPermit])] })
  class BenchModule {}
  const moduleRef = await Test.createTestingModule({ imports: [BenchModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  const repo = app.get<EntityRepository<BenchPermit>>(getRepositoryToken(BenchPermit));
  const maintenance = app.get(EntitiesMaintenance);
  const raw = new RawLmdbStore(dirs[1]!);
  const rows: ComparisonRow[] = [];
  let serial = 0;
  try {
    log('creating records (package and raw)...');
    const created = await interleaved(
      options.rounds,
      () => opsPerSecond(() => repo.create(permitData(serial++)), { seconds: options.seconds, concurrency: 32 }),
      () => opsPerSecond(() => raw.create(permitData(serial++) as never), { seconds: options.seconds, concurrency: 32 }),
    );
    rows.push(row('create (32 in flight, durable)', created, '≥ 50% of raw'));

    await fill(repo, maintenance, raw, options.records, () => serial++);
    const pkgIds = await allIds(repo, options.records);
    const rawIds = [...raw.records.getKeys({ limit: options.records })] as string[];
    const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)]!;
    log(`findById over ${pkgIds.length} records...`);
    const reads = await interleaved(
      options.rounds,
      () => opsPerSecond(() => repo.findById(pick(pkgIds)), { seconds: options.seconds }),
      () => opsPerSecond(() => raw.findById(pick(rawIds)), { seconds: options.seconds }),
    );
    rows.push(row(`findById, random keys over ${options.records.toLocaleString('en')} records`, reads, '≥ 60% of raw'));

    log('updating with expected version...');
    const versions = new Map<string, number>();
    const updates = await interleaved(
      options.rounds,
      () =>
        opsPerSecond(
          async (i) => {
            const id = pkgIds[i % pkgIds.length]!;
            const record = await repo.update(id, { amount: i }, { expectedVersion: versions.get(id) ?? (await repo.findById(id))!.version });
            versions.set(id, record.version);
          },
          { seconds: options.seconds, concurrency: 32 },
        ),
      () =>
        opsPerSecond(
          async (i) => {
            const id = rawIds[(i * 7) % rawIds.length]!;
            const version = (raw.findById(id)!.version as number) ?? 1;
            await raw.update(id, version, { amount: i }).catch(() => undefined);
          },
          { seconds: options.seconds, concurrency: 32 },
        ),
    );
    rows.push(row('update with expected version (32 in flight, durable)', updates, '≥ 50% of raw'));

    log('listing 50 by composite prefix...');
    const lists = await interleaved(
      options.rounds,
      () =>
        opsPerSecond(
          // The default order (id): the planner merges the composite's runs of each status.
          (i) => repo.find({ where: { client: `client-${i % 200}`, county: COUNTIES[i % COUNTIES.length]! }, limit: 50 }),
          { seconds: options.seconds },
        ),
      () => opsPerSecond((i) => raw.listByPrefix(`client-${i % 200}`, COUNTIES[i % COUNTIES.length]!, 50), { seconds: options.seconds }),
    );
    rows.push(row('indexed list of 50 by composite prefix (default order, by id)', lists, '≥ 70% of raw'));

    await fill(repo, maintenance, raw, options.scanRecords, () => serial++);
    log(`unindexed filter over ${options.scanRecords} records...`);
    const scans = await interleaved(
      options.rounds,
      () => opsPerSecond(() => repo.find({ where: { inspector: 'nobody' }, limit: 50 }), { seconds: options.seconds }),
      () => opsPerSecond(() => raw.scanWhere('inspector', 'nobody', 50), { seconds: options.seconds }),
    );
    rows.push(row(`unindexed filter over ≥ ${options.scanRecords.toLocaleString('en')} records (full scan)`, scans, 'reported'));
  } finally {
    await app.close();
    await raw.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function row(operation: string, result: { a: Summary; b: Summary }, target: string): ComparisonRow {
  return { operation, package: result.a, reference: result.b, ratio: result.a.median / result.b.median, target };
}

/** Brings both stores to at least `count` records, in batches. */
async function fill(
  repo: EntityRepository<BenchPermit>,
  maintenance: EntitiesMaintenance,
  raw: RawLmdbStore,
  count: number,
  next: () => number,
): Promise<void> {
  const have = await recordCount(maintenance, repo.definition.name);
  for (let n = have; n < count; n += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - n) }, () => permitData(next()));
    await repo.createMany(batch);
  }
  // lmdb groups concurrent transactions into one commit; 1000 in flight keeps memory flat.
  for (let n = raw.records.getKeysCount(); n < count; n += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, count - n) }, () => raw.create(permitData(next()) as never)));
  }
}
