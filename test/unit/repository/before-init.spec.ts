import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { EntitiesModule, Entity, EntityRepository, Field, getRepositoryToken } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('early-notes')
class Note {
  @Field() title!: string;
}

const NOT_OPEN =
  /^EntityRepository<early-notes> used while its store is not open: before the application initialised \(call app\.init\(\) or app\.listen\(\) first; from a lifecycle hook, use onApplicationBootstrap.*\) or after it closed$/;

/** Every repository method, called once; each `then` names the method should one wrongly succeed. */
function everyCall(notes: EntityRepository<Note>): Array<[string, () => Promise<unknown>]> {
  const id = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
  return [
    ['create', () => notes.create({ title: 'x' })],
    ['createMany', () => notes.createMany([{ title: 'x' }])],
    ['findById', () => notes.findById(id)],
    ['find', () => notes.find({})],
    ['history', () => notes.history(id)],
    ['events', () => notes.events()],
    ['replace', () => notes.replace(id, { title: 'x' })],
    ['update', () => notes.update(id, { title: 'x' }, { principal: null })],
    ['delete', () => notes.delete(id)],
    ['transaction', () => notes.transaction(() => undefined)],
  ];
}

describe('a repository used outside the life of the application', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let moduleRef: TestingModule;
  let notes: EntityRepository<Note>;

  beforeEach(async () => {
    dir = makeTempDir();
    @Module({ imports: [EntitiesModule.forRoot({ path: dir.path }), EntitiesModule.forFeature([Note])] })
    class EarlyModule {}
    moduleRef = await Test.createTestingModule({ imports: [EarlyModule] }).compile();
    notes = moduleRef.get(getRepositoryToken(Note));
  });

  afterEach(async () => {
    await moduleRef.close();
    dir.remove();
  });

  it('refuses every call made before the application initialised, saying to call app.init() or app.listen() first', async () => {
    for (const [name, call] of everyCall(notes)) {
      await expect(call().then(() => name)).rejects.toThrow(NOT_OPEN);
    }
  });

  it('works once the application initialised, and refuses the same way after it closed', async () => {
    await moduleRef.init();
    const created = await notes.create({ title: 'in time' });
    expect(await notes.findById(created.id)).toEqual(expect.objectContaining({ title: 'in time' }));
    await moduleRef.close();
    for (const [name, call] of everyCall(notes)) {
      await expect(call().then(() => name)).rejects.toThrow(NOT_OPEN);
    }
  });
});
