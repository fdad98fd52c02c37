import { performance } from 'node:perf_hooks';
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { AclService, getRepositoryToken, type EntityDefinition, type EntityRepository, type Principal } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { demoPrincipal } from '../../../sample/demo-principal.util.js';
import type { Platform } from '../../support/test-app.util.js';
import { createBody, filterableFields } from './definition-arbitraries.util.js';
import { describeExchange, errorShapeProblem, messageOf, ViolationLog } from './error-contract.util.js';
import type { HostileCase } from './hostile-case.interface.js';
import { ADMIN_USER, aimAt, buildRequest, refineExpectation, type Aim, type Pool, type SentRequest } from './hostile-request.util.js';
import { jsonText, type JsonText } from './json-text.util.js';
import type { RawClient, RawResponse } from './raw-http.util.js';
import {
  expectedFields,
  fieldProblems,
  ISO_TIMESTAMP,
  queryValueOf,
  satisfiesEquality,
  ULID,
  unseenFields,
  viewProblems,
  type WriteMode,
} from './round-trip.util.js';

const MAX_CURSORS = 40;
const MAX_LOOKUP_QUERY = 8_000;

type Data = Record<string, unknown>;

/** What answering one request cost this process (client and server alike: the app runs in it). */
interface Timing {
  elapsed: number;
  cpuMs: number;
  loopActiveMs: number;
}

/**
 * Sends generated cases to one app and judges every answer against API.md: no 5xx, no
 * hang, Nest's error shape, a refused request changes nothing, an accepted one stored
 * exactly what was sent. Problems are collected, not thrown, so one run shows them all.
 */
/** Entities in an order that seeds each after the ones it refers to. */
function referredFirst(definitions: readonly EntityDefinition[], storage: EntityStorage): EntityDefinition[] {
  const ordered: EntityDefinition[] = [];
  const visit = (definition: EntityDefinition) => {
    if (ordered.includes(definition)) return;
    for (const reference of definition.references) {
      const target = definitions.find((candidate) => candidate.name === storage.referenceTarget(definition, reference).name);
      if (target && target !== definition && !ordered.includes(target)) visit(target);
    }
    ordered.push(definition);
  };
  for (const definition of definitions) visit(definition);
  return ordered;
}

export class HostileRunner {
  readonly violations = new ViolationLog();
  readonly statuses = new Map<string, number>();
  cases = 0;
  slowest = { ms: 0, request: '' };
  private readonly pools = new Map<string, Pool>();
  private readonly storage: EntityStorage;
  private readonly acl: AclService;

  constructor(
    private readonly platform: Platform,
    private readonly client: RawClient,
    private readonly app: INestApplication,
    private readonly roles: Readonly<Record<string, readonly string[]>>,
    /**
     * A request that keeps the (in-process) server's event loop busy this long stalls every
     * other client. Busy means both: the loop was active (not waiting for I/O) that long, and
     * the process spent that much CPU time. Either alone misleads here: wall-clock and loop
     * time stretch while a shared machine runs other work, and the process's CPU time counts
     * V8's parallel GC threads, which a request building a 10 MB body wakes without blocking
     * the loop. A request that never answers is caught by the client's timeout.
     */
    private readonly stallMs: number,
  ) {
    this.storage = app.get(EntityStorage);
    this.acl = app.get(AclService);
  }

  /** Creates `count` valid records per entity over HTTP, so record routes have targets from the first case. */
  async seed(definitions: readonly EntityDefinition[], count: number, seed: number): Promise<void> {
    for (const definition of referredFirst(definitions, this.storage)) {
      const references = definition.references.map((reference) => ({
        field: reference.field,
        pool: this.poolOf(this.storage.referenceTarget(definition, reference)),
      }));
      for (const [n, generated] of fc.sample(createBody(definition), { numRuns: count, seed }).entries()) {
        // A reference names a seeded record of its entity: a made-up id would only get 409s.
        const body: Record<string, JsonText> = { ...generated };
        for (const { field, pool } of references) if (pool.live.length > 0) body[field] = pool.live[n % pool.live.length]!;
        const response = await this.client.send({
          method: 'POST',
          path: `/${definition.path}`,
          headers: { 'content-type': 'application/json', 'x-user': ADMIN_USER },
          body: jsonText(body),
        });
        if (response.status === 201) this.poolOf(definition).live.push((response.json as { id: string }).id);
      }
      if (this.poolOf(definition).live.length === 0) throw new Error(`could not seed ${definition.name}`);
    }
  }

  /** Sends `request` and measures what answering it cost the process. */
  private async timed(request: SentRequest): Promise<{ response: RawResponse; timing: Timing }> {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const loopBefore = performance.eventLoopUtilization();
    const response = await this.client.send(request);
    const cpu = process.cpuUsage(cpuBefore);
    return {
      response,
      timing: {
        elapsed: performance.now() - started,
        cpuMs: (cpu.user + cpu.system) / 1000,
        loopActiveMs: performance.eventLoopUtilization(loopBefore).active,
      },
    };
  }

  private stalled(timing: Timing): boolean {
    return timing.cpuMs > this.stallMs && timing.loopActiveMs > this.stallMs;
  }

  async run(testCase: HostileCase): Promise<void> {
    this.cases += 1;
    const pool = this.poolOf(testCase.entity);
    const aim = aimAt(testCase.target, pool);
    const repository = this.repository(testCase.entity);
    const before = aim.state === 'live' ? ((await repository.findById(aim.id!)) as Data | null) : null;
    const { expect, statuses } = refineExpectation(testCase, aim);
    const request = buildRequest(testCase, aim, before, pool);
    const seq = this.storage.log.lastSeq();
    const grants = aim.id === undefined ? undefined : JSON.stringify(this.acl.grantsOn(testCase.entity.name, aim.id));
    const label = `${request.method} ${testCase.route} [${testCase.kind}]`;
    let response: RawResponse;
    let timing: Timing;
    try {
      ({ response, timing } = await this.timed(request));
    } catch (error) {
      this.violations.add(`${label}: no answer (${(error as Error).message.split(' got ')[1] ?? (error as Error).message})`, () => describeExchange(request));
      return;
    }
    if (timing.elapsed > this.slowest.ms) this.slowest = { ms: timing.elapsed, request: describeExchange(request, `${response.status}`) };
    const statusClass = `${Math.floor(response.status / 100)}xx`;
    this.statuses.set(statusClass, (this.statuses.get(statusClass) ?? 0) + 1);
    const problem = (text: string) => this.violations.add(`${label}: ${text}`, () => describeExchange(request, response));
    // A refused request changes nothing, so a stall can be confirmed by sending it again: on a
    // shared machine one measurement can catch the process in a major collection or short of a core.
    if (this.stalled(timing) && response.status >= 400) timing = (await this.timed(request).catch(() => ({ timing }))).timing;
    if (this.stalled(timing)) {
      problem(
        `kept the server busy for over ${this.stallMs} ms (event loop active ${timing.loopActiveMs.toFixed(0)} ms, CPU time ${timing.cpuMs.toFixed(0)} ms)`,
      );
    }

    if (response.status >= 500 || response.status < 200 || (response.status >= 300 && response.status < 400)) {
      problem(`answered ${response.status}`);
      return;
    }
    if (response.status >= 400) {
      const shape = errorShapeProblem(this.platform, response);
      if (shape) problem(shape);
      if (this.storage.log.lastSeq() !== seq) problem(`refused with ${response.status}, yet the event log moved`);
      if (grants !== undefined && JSON.stringify(this.acl.grantsOn(testCase.entity.name, aim.id!)) !== grants)
        problem(`refused with ${response.status}, yet grants changed`);
      const conflict = response.status === 409 && ['create', 'batch', 'replace', 'update'].includes(testCase.route);
      if (expect === 'accept' && !conflict) problem(`refused valid input with ${response.status}`);
      if (expect === 'refuse' && statuses && !statuses.includes(response.status)) problem(`answered ${response.status}, not ${statuses.join(' or ')}`);
      const onTarget = aim.state === 'none' || aim.state === 'live';
      if (testCase.mentions !== undefined && onTarget && response.status === 400 && !messageOf(response).includes(testCase.mentions))
        problem('the 400 does not name the unknown property');
      return;
    }
    if (expect === 'refuse') problem(`accepted with ${response.status}`);
    await this.checkAccepted(testCase, aim, before, request, response, seq, pool, problem);
  }

  private async checkAccepted(
    testCase: HostileCase,
    aim: Aim,
    before: Data | null,
    request: SentRequest,
    response: RawResponse,
    seq: number,
    pool: Pool,
    problem: (text: string) => void,
  ): Promise<void> {
    const definition = testCase.entity;
    const repository = this.repository(definition);
    const principal = principalOf(request);
    const unseen = unseenFields(definition, principal, this.roles);
    const sent = () => JSON.parse(request.body!.toString('utf8')) as unknown;
    const moved = this.storage.log.lastSeq() - seq;
    const checkWrite = async (view: Data, body: Data, mode: WriteMode, previous: Data | undefined, lookup = true) => {
      const stored = (await repository.findById(view.id as string)) as Data | null;
      if (!stored) return problem(`answered ${response.status}, yet the record is not stored`);
      for (const text of fieldProblems(stored, expectedFields(definition, body, mode, previous, principal, this.roles))) problem(text);
      for (const text of viewProblems(view, stored, unseen)) problem(text);
      if (mode === 'create') {
        if (!ULID.test(String(stored.id)) || stored.id === body.id) problem('the new record did not get a fresh id');
        if (
          stored.version !== 1 ||
          !ISO_TIMESTAMP.test(String(stored.createdAt)) ||
          stored.createdAt !== stored.updatedAt ||
          stored.createdAt === body.createdAt
        ) {
          problem('the new record took managed fields from the body');
        }
        if (lookup) await this.checkLookup(definition, stored, problem);
      } else if (previous) {
        if (stored.createdAt !== previous.createdAt) problem('createdAt changed');
        const changed = stored.version !== previous.version;
        if (mode === 'replace' && stored.version !== (previous.version as number) + 1) problem('a replace did not add one to the version');
        if (changed && stored.version !== (previous.version as number) + 1) problem('the version moved by other than one');
        if (changed && stored.updatedAt === body.updatedAt) problem('updatedAt was taken from the body');
      }
    };
    switch (testCase.route) {
      case 'create': {
        if (moved !== 1) problem(`a create appended ${moved} events`);
        await checkWrite(response.json as Data, sent() as Data, 'create', undefined);
        pool.live.push((response.json as Data).id as string);
        return;
      }
      case 'batch': {
        const items = sent() as Data[];
        const views = response.json as Data[];
        if (!Array.isArray(views) || views.length !== items.length) return problem('the batch answer does not list every record');
        if (moved !== items.length) problem(`a batch of ${items.length} appended ${moved} events`);
        for (const [index, view] of views.entries()) {
          await checkWrite(view, items[index]!, 'create', undefined, index === 0);
          pool.live.push(view.id as string);
        }
        return;
      }
      case 'replace':
      case 'update': {
        if ((response.json as Data).id !== aim.id) return problem('the answer is another record');
        if (moved > 1 || (testCase.route === 'replace' && moved !== 1)) problem(`a ${testCase.route} appended ${moved} events`);
        await checkWrite(response.json as Data, sent() as Data, testCase.route, before ?? undefined);
        return;
      }
      case 'delete': {
        if (await repository.findById(aim.id!)) problem('answered 204, yet the record is still there');
        pool.live.splice(pool.live.indexOf(aim.id!), 1);
        pool.deleted.push(aim.id!);
        // A @Reference with onDelete 'cascade' deletes the records referring to it in the same transaction, each its own event.
        const cascaded = await this.forgetDeleted();
        if (moved !== 1 + cascaded) problem(`a delete appended ${moved} events, not 1 and one per record its cascade took (${cascaded})`);
        return;
      }
      case 'read': {
        const stored = (await repository.findById(aim.id!)) as unknown as Data;
        for (const text of viewProblems(response.json as Data, stored, unseen)) problem(text);
        break;
      }
      case 'list':
        this.checkList(testCase, request, response, pool, problem);
        break;
      case 'history':
      case 'audit': {
        const body = response.json as { id?: unknown; fields?: unknown; items?: unknown };
        if (testCase.route === 'history' ? body.id !== aim.id || typeof body.fields !== 'object' : !Array.isArray(body.items))
          problem(`the ${testCase.route} answer has the wrong shape`);
        const text = response.text;
        for (const field of unseen) if (testCase.route === 'history' && text.includes(`"${field}":[`)) problem(`the history shows ${field}`);
        break;
      }
      case 'grants-list':
        if (!Array.isArray((response.json as { items?: unknown }).items)) problem('the grants answer has the wrong shape');
        break;
      case 'grants-add': {
        const grant = sent() as { subject: string; rights: string[] };
        const held = this.acl.grantsOn(definition.name, aim.id!).find((candidate) => candidate.subject === grant.subject);
        if (!held || !grant.rights.every((right) => (held.rights as string[]).includes(right))) problem('answered 201, yet the grant is not stored as sent');
        if ((response.json as { subject?: unknown }).subject !== grant.subject) problem('the grant answer names another subject');
        break;
      }
      case 'grants-remove':
        break;
    }
    if (moved !== 0) problem(`a ${testCase.route} appended ${moved} events`);
  }

  /**
   * A record just created must be found by an equality filter on the index holding its
   * longest value: over HTTP while the query fits Node's request head, else through the
   * repository, which plans the same index walk.
   */
  private async checkLookup(definition: EntityDefinition, stored: Data, problem: (text: string) => void): Promise<void> {
    const usable = definition.indexes.filter((index) => index.fields.every((field) => stored[field] !== undefined));
    const weight = (fields: readonly string[]) => Math.max(...fields.map((field) => String(stored[field]).length));
    const index = usable.sort((a, b) => weight(b.fields) - weight(a.fields))[0];
    if (!index) return;
    const query = [...index.fields.map((field) => `${field}=${encodeURIComponent(queryValueOf(stored[field]))}`), 'sort=-id', 'limit=5'].join('&');
    let ids: unknown[];
    if (query.length <= MAX_LOOKUP_QUERY) {
      const response = await this.client.send({ method: 'GET', path: `/${definition.path}?${query}`, headers: { 'x-user': ADMIN_USER } });
      ids = response.status === 200 ? (response.json as { items: Data[] }).items.map((item) => item.id) : [];
    } else {
      const where = Object.fromEntries(index.fields.map((field) => [field, stored[field] as string | number | boolean]));
      ids = (await this.repository(definition).find({ where, sort: '-id', limit: 5 })).items.map((item) => (item as { id: string }).id);
    }
    if (!ids.includes(stored.id)) problem(`a new record is not found by an equality filter on index ${index.name}`);
  }

  private checkList(testCase: HostileCase, request: SentRequest, response: RawResponse, pool: Pool, problem: (text: string) => void): void {
    const page = response.json as { items?: Data[]; nextCursor?: unknown };
    if (!Array.isArray(page.items) || !(page.nextCursor === null || typeof page.nextCursor === 'string')) return problem('the list answer has the wrong shape');
    const fields = filterableFields(testCase.entity);
    for (const [key, value] of testCase.equalities ?? []) {
      const field = fields.find((candidate) => candidate.name === key);
      if (page.items.some((item) => !satisfiesEquality(field, item, key, value))) problem(`an item does not match ${key}=`);
    }
    if (typeof page.nextCursor === 'string' && request.headers['x-user'] === ADMIN_USER) {
      const query = request.path.includes('?') ? request.path.slice(request.path.indexOf('?') + 1) : '';
      const params = new URLSearchParams(query);
      params.delete('cursor');
      pool.cursors.push({ query: params.toString(), sort: params.get('sort') ?? 'id', cursor: page.nextCursor });
      if (pool.cursors.length > MAX_CURSORS) pool.cursors.shift();
    }
  }

  /** Moves every pooled live id whose record is gone to its pool's deleted ids; returns how many there were. */
  private async forgetDeleted(): Promise<number> {
    let gone = 0;
    for (const [name, pool] of this.pools) {
      const repository = this.repository(this.storage.registered().find((definition) => definition.name === name)!);
      for (const id of [...pool.live]) {
        if (await repository.findById(id)) continue;
        pool.live.splice(pool.live.indexOf(id), 1);
        pool.deleted.push(id);
        gone++;
      }
    }
    return gone;
  }

  private poolOf(definition: EntityDefinition): Pool {
    let pool = this.pools.get(definition.name);
    if (!pool) this.pools.set(definition.name, (pool = { live: [], deleted: [], cursors: [] }));
    return pool;
  }

  private repository(definition: EntityDefinition): EntityRepository<object> {
    return this.app.get(getRepositoryToken(definition.target));
  }
}

/** The principal the package sees: the sample's resolver's, unless its id is empty (README: then there is none). */
function principalOf(request: SentRequest): Principal | undefined {
  const principal = demoPrincipal({ headers: { 'x-user': request.headers['x-user'] } });
  return principal?.id ? principal : undefined;
}
