/**
 * The app run as a child process by concurrent-open.spec.ts. `write <dataPath> <stopFile>`
 * creates notes from two concurrent callers until `stopFile` exists and prints `@@ {"id":…}`
 * for each acknowledged create (`-` for no stop file: it just starts and stops); `find <dataPath> <idsFile>` prints `@@ {"missing":[…]}` for the ids
 * (a JSON array) the store does not hold.
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
if (mode === 'write') {
  const stopFile = rest[0]!;
  const caller = async (name: string) => {
    for (let n = 0; stopFile !== '-' && !existsSync(stopFile); n++) {
      const note = await notes.create({ text: `${name}-${n}` });
      process.stdout.write(`@@ ${JSON.stringify({ id: note.id })}\n`);
    }
  };
  await Promise.all([caller('a'), caller('b')]);
} else {
  const missing: string[] = [];
  for (const id of JSON.parse(readFileSync(rest[0]!, 'utf8')) as string[]) if ((await notes.findById(id)) === null) missing.push(id);
  process.stdout.write(`@@ ${JSON.stringify({ missing })}\n`);
}
await app.close();
