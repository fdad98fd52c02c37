import fc from 'fast-check';
import type { EntityRepository, EntityTransaction } from '../../../lib/index.js';
import {
  actors,
  data,
  expectations,
  historyWithoutTimes,
  Item,
  ItemModel,
  limits,
  patches,
  sorts,
  wheres,
  withoutTimes,
  type Data,
  type Expectation,
  type Patch,
  type Plan,
  type Where,
} from './item-model.util.js';

/** Generated runs hold up to this many commands. */
const MAX_COMMANDS = 60;

/** What the asynchronous commands act on. */
export interface Real {
  repo: EntityRepository<Item>;
  /** The cursor of the open walk, as the last page returned it. */
  cursor?: string;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * One write, as the model plans it and as both the repository and a transaction perform it,
 * so the asynchronous and the transactional runs check the very same expectations.
 */
interface Write {
  plan(model: ItemModel): Plan<[string]> | Plan;
  viaRepository(real: Real, model: ItemModel): Promise<unknown>;
  viaTransaction(tx: EntityTransaction, model: ItemModel): unknown;
  toString(): string;
}

const context = (actor?: string, expectedVersion?: number) => ({
  ...(actor !== undefined && { actor }),
  ...(expectedVersion !== undefined && { expectedVersion }),
});

function settle(call: () => unknown): Outcome {
  try {
    return { ok: true, value: call() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Checks an outcome against the plan and, when it succeeded, moves the model on. */
function conclude(plan: Plan<[string]> | Plan, outcome: Outcome): void {
  if ('error' in plan) {
    expect(outcome.ok ? outcome.value : outcome.error).toBeInstanceOf(plan.error);
    return;
  }
  if (!outcome.ok) throw outcome.error;
  const returned = outcome.value as { id: string; createdAt: string; updatedAt: string } | undefined;
  const id = returned?.id ?? '';
  if (returned) expect(withoutTimes(returned)).toEqual(plan.expected(id));
  plan.commit(id);
}

const create = (input: Data, actor?: string): Write => ({
  plan: (model) => model.planCreate(input, actor),
  viaRepository: (real) => real.repo.create(input as Item, context(actor)),
  viaTransaction: (tx) => tx.create(Item, input as Item, context(actor)),
  toString: () => `create(${JSON.stringify(input)}, ${actor})`,
});

const update = (target: number, patch: Patch, expectation: Expectation, actor?: string): Write => {
  const args = (model: ItemModel) =>
    [model.idAt(target), patch as Partial<Item>, context(actor, model.expectedVersion(model.idAt(target), expectation))] as const;
  return {
    plan: (model) => model.planUpdate(model.idAt(target), patch, expectation, actor),
    viaRepository: (real, model) => real.repo.update(...args(model)),
    viaTransaction: (tx, model) => tx.update(Item, ...args(model)),
    toString: () => `update(#${target}, ${JSON.stringify(patch)}, ${expectation}, ${actor})`,
  };
};

const replace = (target: number, input: Data, expectation: Expectation, actor?: string): Write => {
  const args = (model: ItemModel) => [model.idAt(target), input as Item, context(actor, model.expectedVersion(model.idAt(target), expectation))] as const;
  return {
    plan: (model) => model.planReplace(model.idAt(target), input, expectation, actor),
    viaRepository: (real, model) => real.repo.replace(...args(model)),
    viaTransaction: (tx, model) => tx.replace(Item, ...args(model)),
    toString: () => `replace(#${target}, ${JSON.stringify(input)}, ${expectation}, ${actor})`,
  };
};

const remove = (target: number, expectation: Expectation): Write => {
  const args = (model: ItemModel) => [model.idAt(target), context(undefined, model.expectedVersion(model.idAt(target), expectation))] as const;
  return {
    plan: (model) => model.planDelete(model.idAt(target), expectation),
    viaRepository: (real, model) => real.repo.delete(...args(model)),
    viaTransaction: (tx, model) => tx.delete(Item, ...args(model)),
    toString: () => `delete(#${target}, ${expectation})`,
  };
};

// fc.commands picks each arbitrary equally often; repeating one weighs it, so stores fill up.
const creates = fc.tuple(data, actors).map(([input, actor]) => create(input, actor));
const updates = fc.tuple(fc.nat(), patches, expectations, actors).map(([target, patch, expectation, actor]) => update(target, patch, expectation, actor));
const writes: fc.Arbitrary<Write>[] = [
  creates,
  creates,
  creates,
  updates,
  updates,
  fc.tuple(fc.nat(), data, expectations, actors).map(([target, input, expectation, actor]) => replace(target, input, expectation, actor)),
  fc.tuple(fc.nat(), expectations).map(([target, expectation]) => remove(target, expectation)),
];

class RepositoryWrite implements fc.AsyncCommand<ItemModel, Real> {
  constructor(readonly write: Write) {}
  check = () => true;
  async run(model: ItemModel, real: Real): Promise<void> {
    const plan = this.write.plan(model);
    const outcome = await this.write.viaRepository(real, model).then(
      (value): Outcome => ({ ok: true, value }),
      (error: unknown): Outcome => ({ ok: false, error }),
    );
    conclude(plan, outcome);
  }
  toString = () => this.write.toString();
}

class TransactionWrite implements fc.Command<ItemModel, EntityTransaction> {
  constructor(readonly write: Write) {}
  check = () => true;
  run(model: ItemModel, tx: EntityTransaction): void {
    conclude(
      this.write.plan(model),
      settle(() => this.write.viaTransaction(tx, model)),
    );
  }
  toString = () => `tx.${this.write.toString()}`;
}

class FindById implements fc.AsyncCommand<ItemModel, Real> {
  constructor(readonly target: number) {}
  check = () => true;
  async run(model: ItemModel, real: Real): Promise<void> {
    const id = model.idAt(this.target);
    expect(withoutTimes(await real.repo.findById(id))).toEqual(model.expectedOf(id));
  }
  toString = () => `findById(#${this.target})`;
}

class TransactionFindById implements fc.Command<ItemModel, EntityTransaction> {
  constructor(readonly target: number) {}
  check = () => true;
  run(model: ItemModel, tx: EntityTransaction): void {
    const id = model.idAt(this.target);
    expect(withoutTimes(tx.findById(Item, id))).toEqual(model.expectedOf(id));
  }
  toString = () => `tx.findById(#${this.target})`;
}

class History implements fc.AsyncCommand<ItemModel, Real> {
  constructor(readonly target: number) {}
  check = () => true;
  async run(model: ItemModel, real: Real): Promise<void> {
    const id = model.idAt(this.target);
    expect(historyWithoutTimes(await real.repo.history(id))).toEqual(model.historyOf(id));
  }
  toString = () => `history(#${this.target})`;
}

/** Walks every page of a query at once; the pages together are the model's matches in order. */
class FindAll implements fc.AsyncCommand<ItemModel, Real> {
  constructor(
    readonly where: Where,
    readonly sort: string,
    readonly limit: number,
  ) {}
  check = () => true;
  async run(model: ItemModel, real: Real): Promise<void> {
    const walked: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await real.repo.find({ where: this.where, sort: this.sort, limit: this.limit, cursor });
      expect(page.items.length).toBeLessThanOrEqual(this.limit);
      walked.push(...page.items.map(withoutTimes));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && walked.length <= model.live.size);
    expect(walked).toEqual(model.matching(this.where, this.sort));
  }
  toString = () => `findAll(${JSON.stringify(this.where)}, ${this.sort}, limit ${this.limit})`;
}

/** Starts a cursor walk that later commands continue, with writes in between. */
class OpenWalk implements fc.AsyncCommand<ItemModel, Real> {
  constructor(
    readonly where: Where,
    readonly sort: string,
    readonly limit: number,
  ) {}
  check = () => true;
  async run(model: ItemModel, real: Real): Promise<void> {
    model.walk = { where: this.where, sort: this.sort, limit: this.limit, done: false };
    real.cursor = undefined;
  }
  toString = () => `openWalk(${JSON.stringify(this.where)}, ${this.sort}, limit ${this.limit})`;
}

/** The next page resumes right after the last record returned, as the store is now. */
class NextPage implements fc.AsyncCommand<ItemModel, Real> {
  check = (model: Readonly<ItemModel>) => model.walk !== undefined && !model.walk.done;
  async run(model: ItemModel, real: Real): Promise<void> {
    const walk = model.walk!;
    const page = await real.repo.find({ where: walk.where, sort: walk.sort, limit: walk.limit, cursor: real.cursor });
    const expected = model.nextPage();
    expect({ items: page.items.map(withoutTimes), more: page.nextCursor !== null }).toEqual(expected);
    const last = expected.items.at(-1);
    if (last) {
      const field = walk.sort.replace(/^-/, '');
      walk.position = { value: (last as Record<string, unknown>)[field], id: last.id };
    }
    real.cursor = page.nextCursor ?? undefined;
    walk.done = page.nextCursor === null;
  }
  toString = () => 'nextPage()';
}

/** Writes, reads, history, whole walks and walks held open across writes, against the repository. */
export const repositoryCommands = fc.commands<ItemModel, Real, false>(
  [
    ...writes.map((write) => write.map((w) => new RepositoryWrite(w))),
    fc.nat().map((target) => new FindById(target)),
    fc.nat().map((target) => new History(target)),
    fc.tuple(wheres, sorts, limits).map(([where, sort, limit]) => new FindAll(where, sort, limit)),
    fc.tuple(wheres, sorts, limits).map(([where, sort, limit]) => new FindAll(where, sort, limit)),
    fc.tuple(wheres, sorts, limits).map(([where, sort, limit]) => new OpenWalk(where, sort, limit)),
    fc.constant(new NextPage()),
    fc.constant(new NextPage()),
    fc.constant(new NextPage()),
  ],
  { maxCommands: MAX_COMMANDS, size: 'max' },
);

/** Writes and reads inside one transaction, synchronous like its callback. */
export const transactionCommands = fc.commands<ItemModel, EntityTransaction>(
  [...writes.map((write) => write.map((w) => new TransactionWrite(w))), fc.nat().map((target) => new TransactionFindById(target))],
  { maxCommands: MAX_COMMANDS, size: 'max' },
);
