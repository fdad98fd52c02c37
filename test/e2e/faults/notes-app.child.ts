/**
 * A minimal app run as a child process by the fault suites, without `enableShutdownHooks()`:
 * - `start <dataPath>` opens the store, prints `@@ {"ready":true}` once started, and closes
 *   again (damaged-store.spec.ts);
 * - `write <dataPath> <stopFile>` prints `@@ {"ready":true}` once started, then creates notes
 *   from two concurrent callers until `stopFile` exists and prints `@@ {"id":…}` for each
 *   acknowledged create (concurrent-open.spec.ts);
 * - `find <dataPath> <idsFile>` prints `@@ {"missing":[…]}` for the ids (a JSON array) the
 *   store does not hold.
 */
import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EntitiesModule, Entity, EntityRepository, Field, getRepositoryToken } from 'nestjs-declarative-entities';

@Entity('notes')
class Note {
  @Field()
  text!: string;
}

@Module({})
class NotesModule {
  static register(path: string): DynamicModule {
    return { module: NotesModule, imports: [EntitiesModule.forRoot({ path }), EntitiesModule.forFeature([Note])] };
  }
}

const [mode, path, ...rest] = process.argv.slice(2);
const app = await NestFactory.createApplicationContext(NotesModule.register(path!), { logger: ['error'] });
const notes = app.get<EntityRepository<Note>>(getRepositoryToken(Note));
if (mode === 'start' || mode === 'write') process.stdout.write(`@@ ${JSON.stringify({ ready: true })}\n`);
if (mode === 'write') {
  const stopFile = rest[0]!;
  const caller = async (name: string) => {
    for (let n = 0; !existsSync(stopFile); n++) {
      const note = await notes.create({ text: `${name}-${n}` });
      process.stdout.write(`@@ ${JSON.stringify({ id: note.id })}\n`);
    }
  };
  await Promise.all([caller('a'), caller('b')]);
} else if (mode === 'find') {
  const missing: string[] = [];
  for (const id of JSON.parse(readFileSync(rest[0]!, 'utf8')) as string[]) if ((await notes.findById(id)) === null) missing.push(id);
  process.stdout.write(`@@ ${JSON.stringify({ missing })}\n`);
}
await app.close();
