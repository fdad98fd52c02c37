import { REFUSED, type AccessAttacker, type Judgement } from './access-attacker.util.js';
import { unwritableFields } from './access-rules.util.js';
import type { Actor } from './access-scenarios.util.js';
import type { RawResponse } from './raw-http.util.js';
import type { AppRoute } from './route-table.util.js';

type Data = Record<string, unknown>;
type Snapshot = Map<string, unknown>;

const fail = (problem: string): Judgement => ({ refused: false, problem });
const items = (response: RawResponse) => ((response.json as { items?: Data[] } | undefined)?.items ?? []) as Data[];

/** Actors from most to least privileged, so a cached answer is always made for someone who sees more. */
function byPrivilege(attacker: AccessAttacker): Actor[] {
  const admin = attacker.scenario.admin;
  return [admin, ...attacker.scenario.actors.filter((actor) => actor.header !== admin.header).reverse()];
}

/**
 * Every write and admin route, every principal, every record (its own, others', and an
 * id no record has): each request README's rules refuse must get exactly their status
 * (401, 403, or 404 for a record it may not read) and change nothing.
 */
export async function refusedWrites(attacker: AccessAttacker, before: Snapshot): Promise<void> {
  for (const route of attacker.routes.filter((candidate) => candidate.method !== 'GET')) {
    for (const actor of attacker.scenario.actors) {
      const targets = route.onRecord
        ? [...attacker.records.filter((record) => record.definition === route.definition).map((record) => record.id), attacker.missingId()]
        : [undefined];
      for (const id of targets) {
        const verdict = await attacker.verdictFor(route, actor, id);
        if (verdict.allowed) continue;
        const owner = attacker.records.find((record) => record.id === id)?.owner;
        const family =
          id === undefined
            ? 'verbs beyond its rights'
            : owner === undefined
              ? 'unknown ids'
              : owner.header === actor.header
                ? 'verbs beyond its rights'
                : "other principals' records";
        const stored = id === undefined ? undefined : await attacker.stored(route.definition, id);
        const seq = attacker.storage.log.lastSeq();
        const request = attacker.request(
          actor,
          route.method,
          route.onRecord ? attacker.pathOf(route, id!) : route.template,
          attacker.bodyFor(route, actor, stored),
        );
        await attacker.attempt(family, route, actor, request, async (response) => {
          if (response.status !== verdict.status) return fail(`answered ${response.status} where README's rules say ${verdict.status}`);
          if (attacker.storage.log.lastSeq() !== seq) return fail('a refused request changed the store');
          if (id !== undefined && !(await attacker.unchanged(before, id))) return fail('a refused request changed the record or its grants');
          return REFUSED;
        });
      }
    }
  }
}

/**
 * Every GET route, every record, every principal, the most privileged first so each
 * answer below it was cached for someone who sees more (`@Cached` entities): each gets
 * README's status, no value it may not see, and lists hold only records it may read.
 */
export async function readsAcrossPrincipals(attacker: AccessAttacker): Promise<void> {
  for (const route of attacker.routes.filter((candidate) => candidate.method === 'GET')) {
    const targets = route.onRecord ? attacker.records.filter((record) => record.definition === route.definition).map((record) => record.id) : [undefined];
    for (const id of targets) {
      for (const actor of byPrivilege(attacker)) {
        const verdict = await attacker.verdictFor(route, actor, id);
        const path = route.onRecord ? attacker.pathOf(route, id!) : route.stream ? route.template : `${route.template}?limit=1000`;
        await attacker.attempt('reads, privileged reader first', route, actor, attacker.request(actor, 'GET', path), async (response) => {
          if (!verdict.allowed)
            return response.status === verdict.status ? REFUSED : fail(`answered ${response.status} where README's rules say ${verdict.status}`);
          if (response.status !== 200) return fail(`answered ${response.status} to a read README's rules allow`);
          if (route.onRecord && !route.lists) return REFUSED;
          // A nested route's items are records of the entity it lists, each one the principal must be able to read.
          const itemRoute: AppRoute = route.lists ? { ...route, definition: route.lists, lists: undefined } : route;
          for (const item of items(response)) {
            const itemVerdict = await attacker.verdictFor({ ...itemRoute, onRecord: true }, actor, item.id as string);
            if (!itemVerdict.allowed) return fail('the list holds a record this principal may not read');
          }
          return REFUSED;
        });
      }
    }
  }
}

/**
 * Bodies that claim what the principal may not: the owner field (400), fields it may not
 * write (403), server-owned fields (ignored: never stored), and a PUT that leaves out a
 * field it may not write (the stored value stays).
 */
export async function overPosting(attacker: AccessAttacker, before: Snapshot): Promise<void> {
  for (const route of attacker.routes.filter(
    // Revert and restore take no record fields: nothing to over-post.
    (candidate) =>
      !candidate.handWritten &&
      ['POST', 'PUT', 'PATCH'].includes(candidate.method) &&
      candidate.action !== 'admin' &&
      !/\/(revert|restore)$/.test(candidate.template),
  )) {
    const definition = route.definition;
    const owner = definition.permissions?.owner;
    for (const actor of attacker.scenario.actors) {
      const principal = attacker.principalOf(actor);
      let id: string | undefined;
      if (route.onRecord) {
        for (const record of attacker.records.filter((candidate) => candidate.definition === definition)) {
          if ((await attacker.verdictFor(route, actor, record.id)).allowed) {
            id = record.id;
            if (record.owner.header === actor.header) break;
          }
        }
        if (id === undefined) continue;
      } else if (!(await attacker.verdictFor(route, actor, undefined)).allowed) continue;
      const stored = id === undefined ? undefined : await attacker.stored(definition, id);
      const claims: [string, Data, number][] = [
        ...(owner === undefined ? [] : [[`the owner field ${owner}`, { [owner]: 'someone-else' }, 400] as [string, Data, number]]),
        ...unwritableFields(definition, principal, attacker.scenario.roles).map(
          (field) =>
            [`${field}, which it may not write`, { [field]: definition.fieldsByName.get(field)!.type === 'number' ? 1 : 'x' }, 403] as [string, Data, number],
        ),
      ];
      for (const [claim, extra, status] of claims) {
        const base = attacker.bodyFor(route, actor, stored);
        const body = Array.isArray(base) ? [base[0], { ...(base[1] as Data), ...extra }] : { ...(base as Data), ...extra };
        const seq = attacker.storage.log.lastSeq();
        const path = route.onRecord ? attacker.pathOf(route, id!) : route.template;
        await attacker.attempt(`over-posting ${claim}`, route, actor, attacker.request(actor, route.method, path, body), async (response) => {
          if (response.status !== status) return fail(`answered ${response.status}, not ${status}`);
          if (attacker.storage.log.lastSeq() !== seq || (id !== undefined && !(await attacker.unchanged(before, id))))
            return fail('a refused body changed the store');
          return REFUSED;
        });
      }
      if (route.method === 'POST' && !route.template.endsWith('/batch')) await managedFieldsOnCreate(attacker, route, actor);
      if (route.method === 'PUT') await replaceKeepsUnwritable(attacker, route, actor);
    }
  }
}

async function managedFieldsOnCreate(attacker: AccessAttacker, route: AppRoute, actor: Actor): Promise<void> {
  const claimed = { id: attacker.missingId(), version: 99, createdAt: '2000-01-01T00:00:00.000Z', updatedAt: '2000-01-01T00:00:00.000Z' };
  const body = { ...attacker.validBody(route.definition), ...claimed };
  await attacker.attempt('over-posting server-owned fields', route, actor, attacker.request(actor, 'POST', route.template, body), async (response) => {
    if (response.status !== 201) return fail(`answered ${response.status} to a valid create`);
    const id = (response.json as Data).id as string;
    attacker.scratch.add(id);
    const stored = await attacker.stored(route.definition, id);
    const taken =
      !stored || stored.id === claimed.id || stored.version !== 1 || stored.createdAt === claimed.createdAt || stored.updatedAt === claimed.updatedAt;
    return taken ? fail('a server-owned field was taken from the body') : REFUSED;
  });
}

async function replaceKeepsUnwritable(attacker: AccessAttacker, route: AppRoute, actor: Actor): Promise<void> {
  const unwritable = unwritableFields(route.definition, attacker.principalOf(actor), attacker.scenario.roles);
  if (unwritable.length === 0) return;
  const id = await attacker.scratchRecord(route.definition);
  if (!(await attacker.verdictFor(route, actor, id)).allowed) return;
  const stored = (await attacker.stored(route.definition, id))!;
  await attacker.attempt(
    'a PUT wiping fields it may not write',
    route,
    actor,
    attacker.request(actor, 'PUT', attacker.pathOf(route, id), attacker.replaceBody(route.definition, stored, actor)),
    async (response) => {
      if (response.status !== 200) return fail(`answered ${response.status} to a PUT it may make`);
      const after = (await attacker.stored(route.definition, id))!;
      return unwritable.every((field) => after[field] === stored[field]) ? REFUSED : fail('a PUT changed a field the principal may not write');
    },
  );
}

/**
 * The answers to writes a principal may make hold nothing it may not see either: each
 * non-GET record route, by every principal it allows, on a record made for the purpose
 * (the principal's own where only owners may).
 */
export async function allowedWriteAnswers(attacker: AccessAttacker): Promise<void> {
  const create = (definition: AppRoute['definition']) =>
    attacker.routes.find((route) => route.definition === definition && route.method === 'POST' && route.template === `/${definition.path}`);
  for (const route of attacker.routes.filter((candidate) => candidate.onRecord && candidate.method !== 'GET')) {
    for (const actor of attacker.scenario.actors) {
      let id = await attacker.scratchRecord(route.definition);
      if (!(await attacker.verdictFor(route, actor, id)).allowed) {
        const creator = create(route.definition);
        if (!creator || !(await attacker.verdictFor(creator, actor, undefined)).allowed) continue;
        id = await attacker.scratchRecord(route.definition, actor);
        if (!(await attacker.verdictFor(route, actor, id)).allowed) continue;
      }
      // A restore brings back a deleted record: the one made for it is deleted once its verdict is known.
      const stored = await attacker.stored(route.definition, id);
      if (route.template.endsWith('/restore')) await attacker.repository(route.definition).delete(id);
      const request = attacker.request(actor, route.method, attacker.pathOf(route, id), attacker.bodyFor(route, actor, stored));
      await attacker.attempt('answers to allowed writes', route, actor, request, (response) => {
        attacker.adoptRecordsIn(response.json);
        return response.status < 300 ? REFUSED : fail(`answered ${response.status} to a write README's rules allow`);
      });
    }
  }
}
