import { ValidationPipe, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsIn, Length } from 'class-validator';
import { Audited, Cached, Entity, Field, Historize, Index, Permission, Reference, type EntitiesModuleOptions } from '../../../lib/index.js';
import { AppModule, SAMPLE_ROLES } from '../../../sample/app.module.js';
import { demoPrincipal } from '../../../sample/demo-principal.util.js';
import { Inspection } from '../../../sample/inspection.entity.js';
import { Permit } from '../../../sample/permit.entity.js';
import { createTestApp, type Platform } from '../../support/test-app.util.js';
import type { Roles } from './access-rules.util.js';
import type { RouteAction } from './route-table.util.js';

/** Someone sending requests: the `X-User` header the demo principal resolver reads, or none. */
export interface Actor {
  name: string;
  header?: string;
}

/** An app to attack: who uses it, who owns which records, which grants exist. */
export interface AccessScenario {
  name: string;
  entities: Type<object>[];
  roles: Roles;
  boot(platform: Platform, path: string): Promise<INestApplication>;
  actors: Actor[];
  /** The actor holding every permission: sets up records and reads them back. */
  admin: Actor;
  /** Actors that each create one record of every entity over HTTP, as themselves. */
  owners: Actor[];
  /** Record grants to set up, `on` the admin's record of the entity. */
  grants: { subject: string; entity: string; rights: ('read' | 'update' | 'delete')[] }[];
  /** Bodies for routes the package did not generate, by OpenAPI template. */
  handWrittenBodies: Record<string, unknown>;
  /** What routes the package did not generate do to other entities after their own action, by OpenAPI template. */
  handWrittenEffects: Record<string, { entity: string; action: RouteAction }[]>;
}

/** Claims: a read rule with the owner rule, field rules, a hidden field, grants and a cache; everything the sample's permits do not have. */
@Entity('claims')
@Permission({ read: 'claims:read', create: 'claims:file', update: 'claims:review', delete: 'claims:close', owner: 'filedBy' })
@Historize('full')
@Audited()
@Cached({ ttl: 60_000 })
export class Claim {
  @Field() @Length(1, 80) title!: string;
  @Field() @Index() tag!: string;
  @Field({ default: 'open' }) @IsIn(['open', 'paid']) state!: string;
  @Field({ required: false }) filedBy?: string;
  @Field({ required: false }) @Permission({ read: 'claims:finance', write: 'claims:finance' }) @Index() payout?: number;
  @Field({ required: false, hidden: true }) adjusterNotes?: string;
}

/** Photos of a claim: anyone lists them, but below a claim only who may read that claim (`GET /claims/{id}/claim-photos`). */
@Entity('claim-photos')
@Permission({ read: null, create: 'claims:file', update: 'claims:review', delete: 'claims:close' })
export class ClaimPhoto {
  @Field() @Length(1, 80) caption!: string;
  @Field() @Reference(() => Claim, { onDelete: 'cascade' }) claimId!: string;
}

/**
 * The sample's own module, adapters and global pipe, as `createSampleApp` sets them up,
 * without the Swagger UI mount: on Fastify that mount loads `@fastify/static` through a
 * dynamic import Jest's VM modules cannot serve, and it adds no route of the app.
 */
async function bootSample(platform: Platform, path: string): Promise<INestApplication> {
  const bodyLimit = 1024 * 1024;
  const app =
    platform === 'fastify'
      ? await NestFactory.create<NestFastifyApplication>(AppModule.register(path), new FastifyAdapter({ bodyLimit }), { logger: false })
      : await NestFactory.create<NestExpressApplication>(AppModule.register(path), new ExpressAdapter(), { logger: false, bodyParser: false });
  if (platform === 'express') (app as NestExpressApplication).useBodyParser('json', { limit: bodyLimit });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }));
  await app.init();
  return app;
}

async function bootTestApp(entities: Type<object>[], roles: Roles, platform: Platform, path: string): Promise<INestApplication> {
  const module: Partial<EntitiesModuleOptions> = { getPrincipal: demoPrincipal, roles: roles as Record<string, string[]> };
  return (await createTestApp({ entities, platform, path, module })).app;
}

export const SAMPLE_SCENARIO: AccessScenario = {
  name: 'the sample app',
  entities: [Permit, Inspection],
  roles: SAMPLE_ROLES,
  boot: bootSample,
  actors: [
    { name: 'an anonymous caller' },
    { name: 'mallory (no roles)', header: 'mallory' },
    { name: 'trudy (no roles)', header: 'trudy' },
    { name: 'carl the clerk', header: 'carl:clerk' },
    { name: 'audrey the auditor', header: 'audrey:auditor' },
    { name: 'fiona from finance', header: 'fiona:finance' },
    { name: 'root', header: 'root:admin' },
  ],
  admin: { name: 'root', header: 'root:admin' },
  owners: [
    { name: 'mallory (no roles)', header: 'mallory' },
    { name: 'trudy (no roles)', header: 'trudy' },
    { name: 'carl the clerk', header: 'carl:clerk' },
  ],
  grants: [],
  handWrittenBodies: { '/permits/{id}/approve': { inspector: 'M. Allory' } },
  handWrittenEffects: { '/permits/{id}/approve': [{ entity: 'inspections', action: 'create' }] },
};

const CLAIM_ROLES: Roles = {
  filer: ['claims:file'],
  reviewer: ['claims:read', 'claims:review'],
  finance: ['claims:read', 'claims:finance'],
  closer: ['claims:read', 'claims:close'],
  admin: ['*'],
};

export const CLAIMS_SCENARIO: AccessScenario = {
  name: 'a claims app',
  entities: [Claim, ClaimPhoto],
  roles: CLAIM_ROLES,
  boot: (platform, path) => bootTestApp([Claim, ClaimPhoto], CLAIM_ROLES, platform, path),
  actors: [
    { name: 'an anonymous caller' },
    { name: 'olga the filer', header: 'olga:filer' },
    { name: 'oscar the filer', header: 'oscar:filer' },
    { name: 'nora (a read grant on one claim)', header: 'nora' },
    { name: 'zed (nothing)', header: 'zed' },
    { name: 'rita the reviewer', header: 'rita:reviewer' },
    { name: 'finn from finance', header: 'finn:finance' },
    { name: 'cleo the closer', header: 'cleo:closer' },
    { name: 'root', header: 'root:admin' },
  ],
  admin: { name: 'root', header: 'root:admin' },
  owners: [
    { name: 'olga the filer', header: 'olga:filer' },
    { name: 'oscar the filer', header: 'oscar:filer' },
  ],
  grants: [{ subject: 'nora', entity: 'claims', rights: ['read'] }],
  handWrittenBodies: {},
  handWrittenEffects: {},
};
