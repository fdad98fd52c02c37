import { REFUSED, type AccessAttacker, type Judgement } from './access-attacker.util.js';
import { unseenFields } from './access-rules.util.js';
import type { Actor } from './access-scenarios.util.js';
import type { RawResponse } from './raw-http.util.js';
import type { AppRoute } from './route-table.util.js';

type Data = Record<string, unknown>;
type Snapshot = Map<string, unknown>;

const fail = (problem: string): Judgement => ({ refused: false, problem });
const items = (response: RawResponse) => ((response.json as { items?: Data[] } | undefined)?.items ?? []) as Data[];

/**
 * Filters and sorts on fields a principal may not read (403) or that are hidden (400, as
 * for a field that does not exist), with the record's real values and others: the answer
 * must not depend on the value. Cursors made for someone else, or for such a sort, must
 * not open anything either.
 */
export async function queryOracles(attacker: AccessAttacker): Promise<void> {
  for (const route of attacker.routes.filter((candidate) => candidate.method === 'GET' && !candidate.onRecord && !candidate.stream)) {
    const definition = route.definition;
    for (const actor of attacker.scenario.actors) {
      if (!(await attacker.verdictFor(route, actor, undefined)).allowed) continue;
      for (const field of unseenFields(definition, attacker.principalOf(actor), attacker.scenario.roles)) {
        const declared = definition.fieldsByName.get(field)!;
        const status = declared.hidden ? 400 : 403;
        // Values of the field's type, its planted secrets among them: a malformed value is refused for its form (400) before any access rule runs.
        const secrets = attacker
          .forbiddenValues(definition, attacker.scenario.actors[0]!)
          .filter((value) => (declared.type === 'number' ? !Number.isNaN(Number(value)) : value.includes(field)));
        const typed = { number: ['0', '1', '-5', '7391000'], string: ['x', 'CANARY', ''], boolean: ['true', 'false'], date: ['2026-01-01T00:00:00.000Z'] }[
          declared.type
        ];
        const values = [...new Set([...secrets.slice(0, 3), ...typed])];
        const ops = ['eq', 'ne', 'gt', 'lt', 'in', ...(declared.type === 'string' ? ['prefix'] : [])];
        const queries: [string, string][] = [
          ...ops.flatMap((op) => values.map((value) => [op, `${op === 'eq' ? field : `${field}[${op}]`}=${encodeURIComponent(value)}`] as [string, string])),
          ['sort', `sort=${field}`],
          ['sort', `sort=-${field}`],
        ];
        const answers = new Map<string, Set<string>>();
        for (const [op, query] of queries) {
          await attacker.attempt(
            `filter or sort on ${declared.hidden ? 'a hidden field' : 'a field it may not read'}`,
            route,
            actor,
            attacker.request(actor, 'GET', `${route.template}?${query}`),
            async (response) => {
              const seen = answers.get(op) ?? new Set<string>();
              answers.set(op, seen.add(`${response.status} ${response.text}`));
              if (response.status !== status) return fail(`answered ${response.status}, not ${status}`);
              if (declared.hidden) {
                const twin = await attacker.client.send(attacker.request(actor, 'GET', `${route.template}?${query.replace(field, 'noSuchField')}`));
                if (twin.status !== response.status || twin.text.replaceAll('noSuchField', field) !== response.text)
                  return fail('a hidden field answers unlike a field that does not exist');
              }
              return seen.size === 1 ? REFUSED : fail('the answer depends on the value asked about');
            },
          );
        }
        await cursorForGuardedSort(attacker, route, actor, field, status);
      }
      await cursorOfAnother(attacker, route, actor);
    }
  }
}

async function cursorForGuardedSort(attacker: AccessAttacker, route: AppRoute, actor: Actor, field: string, status: number): Promise<void> {
  if (route.definition.fieldsByName.get(field)!.hidden) return;
  const made = await attacker.client.send(attacker.request(attacker.scenario.admin, 'GET', `${route.template}?sort=${field}&limit=1`));
  const cursor = (made.json as { nextCursor?: string | null } | undefined)?.nextCursor;
  if (typeof cursor !== 'string') return;
  for (const query of [`sort=${field}&cursor=${cursor}`, `sort=-${field}&cursor=${cursor}`, `cursor=${cursor}`]) {
    const expected = query.startsWith('sort=') ? status : 400;
    await attacker.attempt(`a cursor sealed for a sort on ${field}`, route, actor, attacker.request(actor, 'GET', `${route.template}?${query}`), (response) =>
      response.status === expected ? REFUSED : fail(`answered ${response.status}, not ${expected}`),
    );
  }
}

async function cursorOfAnother(attacker: AccessAttacker, route: AppRoute, actor: Actor): Promise<void> {
  for (const other of attacker.scenario.actors.filter((candidate) => candidate.header !== actor.header)) {
    if (!(await attacker.verdictFor(route, other, undefined)).allowed) continue;
    const made = await attacker.client.send(attacker.request(other, 'GET', `${route.template}?limit=1`));
    const cursor = (made.json as { nextCursor?: string | null } | undefined)?.nextCursor;
    if (typeof cursor !== 'string') continue;
    await attacker.attempt(
      "another principal's cursor",
      route,
      actor,
      attacker.request(actor, 'GET', `${route.template}?cursor=${cursor}&limit=1000`),
      async (response) => {
        if (response.status !== 200) return fail(`answered ${response.status} to a list it may read`);
        for (const item of items(response)) {
          if (!(await attacker.verdictFor({ ...route, onRecord: true }, actor, item.id as string)).allowed)
            return fail('the page holds a record this principal may not read');
        }
        return REFUSED;
      },
    );
  }
}

const PATH_TRICKS: ((path: string, id: string) => string)[] = [
  (path) => `${path}/`,
  (path) => path.toUpperCase(),
  (path) => `/${path}`,
  (path) => path.replace(/\/([^/]+)$/, '//$1'),
  (path, id) => path.replace(id, `x/../${id}`),
  (path, id) => path.replace(id, `%2e%2e/${path.split('/')[1]}/${id}`),
  (path, id) => path.replace(id, `./${id}`),
  (path, id) => path.replace(id, `${id}%2F`),
  (path, id) => path.replace(`/${id}`, `%2F${id}`),
  (path, id) => path.replace(id, `${id};x=1`),
  (path, id) => path.replace(id, `${id}%00`),
  (path) => `${path}?_method=GET&x=../`,
  (path) => path.replace(/^\/(\w)/, (_match, letter: string) => `/%${letter.charCodeAt(0).toString(16)}`),
  (path) => `${path}#fragment`,
];

/**
 * For each route and a principal it refuses on a record: the same request through path
 * variants (`..`, `%2e%2e`, `%2F`, trailing and double slashes, upper case, `;`, NUL). An
 * answer may reach the same route (then the same refusal) or nothing; never a 2xx, and
 * never a change.
 */
export async function pathTricks(attacker: AccessAttacker, before: Snapshot): Promise<void> {
  for (const route of attacker.routes.filter((candidate) => candidate.onRecord)) {
    const pair = await refusedPair(attacker, route);
    if (!pair) continue;
    const [actor, id] = pair;
    const stored = (await attacker.stored(route.definition, id))!;
    for (const trick of PATH_TRICKS) {
      const request = attacker.request(actor, route.method, trick(attacker.pathOf(route, id), id), attacker.bodyFor(route, actor, stored));
      const seq = attacker.storage.log.lastSeq();
      await attacker.attempt('path tricks', route, actor, request, async (response) => {
        if (response.status < 400) return fail(`a path variant answered ${response.status} where the route refuses`);
        if (attacker.storage.log.lastSeq() !== seq || !(await attacker.unchanged(before, id))) return fail('a path variant changed the store');
        return REFUSED;
      });
    }
  }
}

/** A principal and a seeded record the route refuses it on, if any; others' records first. */
async function refusedPair(attacker: AccessAttacker, route: AppRoute): Promise<[Actor, string] | undefined> {
  for (const actor of attacker.scenario.actors.filter((candidate) => candidate.header !== undefined)) {
    for (const record of attacker.records.filter((candidate) => candidate.definition === route.definition && candidate.owner.header !== actor.header)) {
      if (!(await attacker.verdictFor(route, actor, record.id)).allowed) return [actor, record.id];
    }
  }
  return undefined;
}

const OVERRIDES = ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override'];

/**
 * A principal that may not delete or change a record sends GET and POST to it with
 * method-override headers (and `_method=`): Nest honours none, so the GET stays a read
 * (README's read status) and the POST finds no route; the record stays as it was.
 */
export async function methodOverrides(attacker: AccessAttacker, before: Snapshot): Promise<void> {
  const readRoutes = attacker.routes.filter((route) => route.method === 'GET' && route.template.endsWith('/{id}'));
  for (const read of readRoutes) {
    for (const verb of ['DELETE', 'PATCH', 'PUT']) {
      const write = attacker.routes.find((route) => route.method === verb && route.template === read.template);
      if (!write) continue;
      const pair = await refusedPair(attacker, write);
      if (!pair) continue;
      const [actor, id] = pair;
      const readVerdict = await attacker.verdictFor(read, actor, id);
      const path = attacker.pathOf(read, id);
      const body = attacker.bodyFor(write, actor, (await attacker.stored(write.definition, id))!);
      const attempts: [string, string, Record<string, string>][] = [
        ...OVERRIDES.map((header) => ['GET', path, { [header]: verb }] as [string, string, Record<string, string>]),
        ...OVERRIDES.map((header) => ['POST', path, { [header]: verb }] as [string, string, Record<string, string>]),
        ['GET', `${path}?_method=${verb}`, {}],
        ['POST', `${path}?_method=${verb}`, {}],
      ];
      for (const [method, target, headers] of attempts) {
        const seq = attacker.storage.log.lastSeq();
        const request = attacker.request(actor, method, target, method === 'POST' ? body : undefined, headers);
        await attacker.attempt(`method override to ${verb}`, write, actor, request, async (response) => {
          if (attacker.storage.log.lastSeq() !== seq || !(await attacker.unchanged(before, id))) return fail(`the override ran a ${verb}`);
          if (method === 'GET') {
            const expected = readVerdict.allowed ? 200 : readVerdict.status;
            // `_method` is no parameter of the read, which refuses it once it may answer at all (401 and 403 first).
            if (target.includes('?') && (expected === 200 || expected === 404)) {
              return response.status === 400 ? REFUSED : fail(`the GET with _method answered ${response.status}, not 400`);
            }
            return response.status === expected ? REFUSED : fail(`the GET answered ${response.status}, not the read's ${expected}`);
          }
          return response.status === 404 ? REFUSED : fail(`a POST to a record answered ${response.status}, not 404`);
        });
      }
    }
  }
}
