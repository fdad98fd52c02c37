import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createNestApp, type Platform } from './nest-app.util.js';
import { PackageAppModule } from './package-app.module.js';
import { RawLmdbAppModule } from './raw-lmdb-app.module.js';
import { TypeOrmAppModule } from './typeorm-app.module.js';

/** The apps the HTTP suite compares; each serves the same routes under `/bench-permits`. */
export const APP_KINDS = ['package', 'package-cached', 'package-context', 'raw-lmdb', 'typeorm-normal', 'typeorm-full'] as const;
export type AppKind = (typeof APP_KINDS)[number];

/** Where an app keeps its data inside its directory: lmdb uses the directory, SQLite one file in it. */
export function storeOf(kind: AppKind, dir: string): string {
  return kind.startsWith('typeorm') ? join(dir, 'bench.sqlite') : dir;
}

export async function createBenchApp(kind: AppKind, platform: Platform, dir: string): Promise<INestApplication> {
  const module = kind.startsWith('package')
    ? PackageAppModule.register(dir, { cached: kind === 'package-cached', requestContext: kind === 'package-context' })
    : kind === 'raw-lmdb'
      ? RawLmdbAppModule.register(dir)
      : TypeOrmAppModule.register(storeOf(kind, dir), kind === 'typeorm-full' ? 'FULL' : 'NORMAL');
  return createNestApp(module, platform);
}
