import { isDeepStrictEqual } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import { ulid } from 'ulid';
import { AclService, getRepositoryToken, type EntityDefinition, type EntityRepository, type Principal } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { demoPrincipal } from '../../../sample/demo-principal.util.js';
import type { Platform } from '../../support/test-app.util.js';
import { unseenFields, unwritableFields, verdict, type Verdict } from './access-rules.util.js';
import type { AccessScenario, Actor } from './access-scenarios.util.js';
import { describeExchange, errorShapeProblem, ViolationLog } from './error-contract.util.js';
import type { RawClient, RawRequest, RawResponse } from './raw-http.util.js';
import type { AppRoute } from './route-table.util.js';

type Data = Record<string, unknown>;

/** A record set up before the attacks, and who created it. */
export interface SeededRecord {
  definition: EntityDefinition;
  id: string;
  owner: Actor;
}

/** Whether an attempt was refused; a problem names what got through. */
export type Judgement = { refused: true } | { refused: false; problem: string };

export const REFUSED: Judgement = { refused: true };
export const BYSTANDER = 'bystander';

/**
 * Runs attacks on one app and keeps the score: every attempt, every refusal, and what
 * got through. Owns the setup every attack family shares: records with planted secret
 * values ("canaries") in the fields some principals may not see, grants, and the oracle
 * (`verdict`) that says what README's rules allow.
 */
export class AccessAttacker {
  readonly violations = new ViolationLog();
  readonly attemptsByRoute = new Map<string, number>();
  readonly attemptsByFamily = new Map<string, number>();
  attempts = 0;
  refusals = 0;
  readonly records: SeededRecord[] = [];
  /** Records attacks may change (allowed writes); everything else must end as it began. */
  readonly scratch = new Set<string>();
  private readonly canaries = new Map<string, Map<string, string>>();
  private serial = 0;
  /** Per entity referred to, the id of its anchor record (see `anchorReferencesOf`). */
  private readonly anchors = new Map<string, string>();
  readonly acl: AclService;
  readonly storage: EntityStorage;

  constructor(
    readonly scenario: AccessScenario,
    readonly platform: Platform,
    readonly app: INestApplication,
    readonly client: RawClient,
    readonly routes: readonly AppRoute[],
  ) {
    this.acl = app.get(AclService);
    this.storage = app.get(EntityStorage);
  }

  get definitions(): EntityDefinition[] {
    return [...new Set(this.routes.map((route) => route.definition))];
  }

  repository(definition: EntityDefinition): EntityRepository<object> {
    return this.app.get(getRepositoryToken(definition.target));
  }

  /** A record as stored (trusted read), or `undefined`. */
  async stored(definition: EntityDefinition, id: string): Promise<Data | undefined> {
    return ((await this.repository(definition).findById(id)) as unknown as Data | null) ?? undefined;
  }

  principalOf(actor: Actor): Principal | undefined {
    return actor.header === undefined ? undefined : demoPrincipal({ headers: { 'x-user': actor.header } });
  }

  /** One record per owner and entity it may create (created over HTTP, as the owner), one by the admin, canaries planted in every guarded field. */
  async setup(): Promise<void> {
    for (const definition of this.definitions) await this.anchorReferencesOf(definition);
    for (const definition of this.definitions) {
      for (const owner of [...this.scenario.owners, this.scenario.admin]) {
        // An owner README's rules do not let create one owns no record of this entity.
        if (!verdict(definition, 'create', this.principalOf(owner), this.scenario.roles, 'collection', () => [], false).allowed) continue;
        const response = await this.client.send(this.request(owner, 'POST', `/${definition.path}`, this.validBody(definition)));
        if (response.status !== 201) throw new Error(`setup: ${owner.name} could not create a ${definition.name}: ${response.status} ${response.text}`);
        const id = (response.json as { id: string }).id;
        await this.plantCanaries(definition, id);
        if (definition.permissions) await this.acl.grant(BYSTANDER, definition.name, id, ['read']);
        this.records.push({ definition, id, owner });
      }
    }
    for (const grant of this.scenario.grants) {
      const target = this.records.find((record) => record.definition.name === grant.entity && record.owner === this.scenario.admin)!;
      await this.acl.grant(grant.subject, grant.entity, target.id, grant.rights);
    }
  }

  /** A record made only for attacks that may change it. */
  async scratchRecord(definition: EntityDefinition, owner: Actor = this.scenario.admin): Promise<string> {
    const response = await this.client.send(this.request(owner, 'POST', `/${definition.path}`, this.validBody(definition)));
    if (response.status !== 201) throw new Error(`setup: could not create a scratch ${definition.name}: ${response.status} ${response.text}`);
    const id = (response.json as { id: string }).id;
    await this.plantCanaries(definition, id);
    if (definition.permissions) await this.acl.grant(BYSTANDER, definition.name, id, ['read']);
    this.scratch.add(id);
    return id;
  }

  /** Marks every record an allowed write answered with (its own and any it made on the side) as one attacks may change. */
  adoptRecordsIn(value: unknown): void {
    if (Array.isArray(value)) for (const item of value) this.adoptRecordsIn(item);
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'id' && typeof item === 'string') this.scratch.add(item);
        else this.adoptRecordsIn(item);
      }
    }
  }

  /** Guarded and hidden fields get values that appear nowhere else, so any answer holding one leaked it. */
  private async plantCanaries(definition: EntityDefinition, id: string): Promise<void> {
    const guarded = definition.fields.filter((field) => field.hidden || field.permission?.read !== undefined);
    if (guarded.length === 0) return;
    const patch: Data = {};
    const planted = new Map<string, string>();
    for (const field of guarded) {
      this.serial += 1;
      const value = field.type === 'number' ? 7_391_000 + this.serial + 0.137 : `CANARY-${field.name}-${this.serial}`;
      patch[field.name] = value;
      planted.set(field.name, String(value));
    }
    await this.repository(definition).update(id, patch as never);
    this.canaries.set(id, planted);
  }

  /**
   * A record of each entity `definition` refers to, made by trusted code and never attacked,
   * so valid bodies name a record that exists (and no attack's delete cascades to them).
   */
  private async anchorReferencesOf(definition: EntityDefinition): Promise<void> {
    for (const reference of definition.references) {
      const target = this.storage.referenceTarget(definition, reference);
      if (this.anchors.has(target.name) || target === definition) continue;
      await this.anchorReferencesOf(target);
      this.anchors.set(target.name, (await this.repository(target).create(this.validBody(target) as never)).id);
    }
  }

  /** A body every field rule and validation accepts, from the definition: examples, enum values, placeholders, unique where indexed, anchors for references. */
  validBody(definition: EntityDefinition): Data {
    this.serial += 1;
    const body: Data = {};
    for (const field of definition.fields) {
      if (field.name === definition.permissions?.owner || field.permission?.write !== undefined || field.hidden) continue;
      if (!field.required || field.default !== undefined) continue;
      const reference = definition.references.find((candidate) => candidate.field === field.name);
      if (reference) {
        // The admin's seeded record once there is one, so nested routes list something; the anchor before.
        const target = this.storage.referenceTarget(definition, reference).name;
        const seeded = this.records.find((record) => record.definition.name === target && record.owner === this.scenario.admin);
        body[field.name] = seeded?.id ?? this.anchors.get(target);
        continue;
      }
      const unique = definition.indexes.some((index) => index.unique && index.fields.includes(field.name));
      const base =
        field.constraints.enum?.[0] ??
        field.example ??
        (field.type === 'number' ? 1 : field.type === 'boolean' ? true : field.type === 'date' ? '2026-01-01T00:00:00.000Z' : 'value');
      body[field.name] = unique || field.type === 'string' ? `${String(base).slice(0, 20)}-${this.serial}` : base;
    }
    return body;
  }

  /** A change any writer may make: a new value for the first free-text field. */
  patchBody(definition: EntityDefinition): Data {
    const field = definition.fields.find(
      (candidate) =>
        candidate.type === 'string' &&
        !candidate.immutable &&
        !candidate.hidden &&
        candidate.permission === undefined &&
        !candidate.constraints.enum &&
        candidate.name !== definition.permissions?.owner,
    )!;
    return { [field.name]: `changed-${(this.serial += 1)}` };
  }

  /** A full replacement of `stored`, as `actor` may send it: its own fields only, one of them changed. */
  replaceBody(definition: EntityDefinition, stored: Data, actor: Actor): Data {
    const unwritable = new Set(unwritableFields(definition, this.principalOf(actor), this.scenario.roles));
    const body: Data = {};
    for (const field of definition.fields) {
      if (field.name === definition.permissions?.owner || unwritable.has(field.name) || stored[field.name] === undefined) continue;
      body[field.name] = stored[field.name];
    }
    return { ...body, ...this.patchBody(definition) };
  }

  /** The body a route takes, for an attack that should fail for access reasons only. */
  bodyFor(route: AppRoute, actor: Actor, stored: Data | undefined): unknown {
    if (route.handWritten) return route.method === 'GET' ? undefined : (this.scenario.handWrittenBodies[route.template] ?? {});
    if (route.method === 'GET' || route.method === 'DELETE') return undefined;
    if (route.action === 'admin') return { subject: 'intruder', rights: ['read', 'update', 'delete'] };
    if (route.template.endsWith('/batch')) return [this.validBody(route.definition), this.validBody(route.definition)];
    if (route.template.endsWith('/revert')) return { toVersion: 1 };
    if (route.template.endsWith('/restore')) return {};
    if (route.method === 'POST') return this.validBody(route.definition);
    if (route.method === 'PATCH') return this.patchBody(route.definition);
    return stored ? this.replaceBody(route.definition, stored, actor) : { ...this.validBody(route.definition), ...this.patchBody(route.definition) };
  }

  pathOf(route: AppRoute, id: string): string {
    return route.template.replace('{id}', id).replace('{subject}', BYSTANDER);
  }

  request(actor: Actor, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): RawRequest {
    return {
      method,
      path,
      headers: {
        ...(actor.header === undefined ? {} : { 'x-user': actor.header }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    };
  }

  /** What README's rules say about `actor` doing `route` on `id` (a missing id when no record has it). */
  async verdictFor(route: AppRoute, actor: Actor, id: string | undefined): Promise<Verdict> {
    const principal = this.principalOf(actor);
    const record = id === undefined ? undefined : await this.stored(route.definition, id);
    const granted = (who: Principal, recordId: string) => this.acl.rightsOn(who, route.definition.name, recordId);
    const hasGrants = principal !== undefined && this.acl.hasGrantsIn(principal, route.definition.name);
    if (route.lists) {
      // The route's own check first, read on the entity it lists; then the record it names, as its read route.
      const hasListedGrants = principal !== undefined && this.acl.hasGrantsIn(principal, route.lists.name);
      const listing = verdict(route.lists, 'read', principal, this.scenario.roles, 'collection', () => [], hasListedGrants);
      if (!listing.allowed) return listing;
    }
    const own = verdict(route.definition, route.action, principal, this.scenario.roles, route.onRecord ? record : 'collection', granted, hasGrants);
    if (!own.allowed) return own;
    // A hand-written route's later writes to other entities are checked as the repository checks them.
    for (const effect of this.scenario.handWrittenEffects[route.template] ?? []) {
      const definition = this.definitions.find((candidate) => candidate.name === effect.entity)!;
      const then = verdict(definition, effect.action, principal, this.scenario.roles, 'collection', () => [], false);
      if (!then.allowed) return then;
    }
    return own;
  }

  /** Canary values `actor` must not see in an answer about records of `definition`. */
  forbiddenValues(definition: EntityDefinition, actor: Actor): string[] {
    const unseen = new Set(unseenFields(definition, this.principalOf(actor), this.scenario.roles));
    const values: string[] = [];
    for (const planted of this.canaries.values()) for (const [field, value] of planted) if (unseen.has(field)) values.push(value);
    return values;
  }

  /**
   * Sends one attempt and scores it. Whatever `judge` says, no answer may be a 5xx, an
   * error answer must keep Nest's shape, and a 2xx must not hold a value the actor may
   * not see.
   */
  async attempt(
    family: string,
    route: AppRoute | undefined,
    actor: Actor,
    request: RawRequest,
    judge: (response: RawResponse) => Promise<Judgement> | Judgement,
  ): Promise<RawResponse> {
    this.attempts += 1;
    const routeLabel = route ? `${route.method} ${route.template}` : `${request.method} (no route)`;
    this.attemptsByRoute.set(routeLabel, (this.attemptsByRoute.get(routeLabel) ?? 0) + 1);
    this.attemptsByFamily.set(family, (this.attemptsByFamily.get(family) ?? 0) + 1);
    const response = await this.client.send(request);
    const problems: string[] = [];
    if (response.status >= 500) problems.push(`answered ${response.status}`);
    if (response.status >= 400 && response.status < 500) {
      const shape = errorShapeProblem(this.platform, response);
      if (shape) problems.push(shape);
    }
    if (response.status < 300 && route) {
      const leaked = this.forbiddenValues(route.lists ?? route.definition, actor).find((value) => response.text.includes(value));
      if (leaked !== undefined) problems.push('a value this principal may not see is in the answer');
    }
    const judged = await judge(response);
    if (!judged.refused) problems.push(judged.problem);
    if (problems.length === 0) this.refusals += 1;
    for (const problem of problems)
      this.violations.add(`${family}: ${routeLabel} by ${actor.name}: ${problem}`, () =>
        describeExchange({ ...request, headers: request.headers ?? {}, body: request.body === undefined ? undefined : Buffer.from(request.body) }, response),
      );
    return response;
  }

  /** Every seeded record and its grants, as stored now. */
  async snapshot(): Promise<Map<string, unknown>> {
    const state = new Map<string, unknown>();
    for (const record of this.records) {
      state.set(record.id, {
        record: await this.repository(record.definition).findById(record.id),
        grants: this.acl.grantsOn(record.definition.name, record.id),
      });
    }
    return state;
  }

  /** Whether a record and its grants are as in `before`. */
  async unchanged(before: Map<string, unknown>, id: string): Promise<boolean> {
    const record = this.records.find((candidate) => candidate.id === id);
    if (!record) return true;
    const now = { record: await this.repository(record.definition).findById(id), grants: this.acl.grantsOn(record.definition.name, id) };
    return isDeepStrictEqual(now, before.get(id));
  }

  missingId(): string {
    return ulid();
  }
}
