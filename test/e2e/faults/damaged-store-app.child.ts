/**
 * A minimal app run as a child process by damaged-store.spec.ts: it opens the store at its
 * first argument without `enableShutdownHooks()`, prints `@@ {"ready":true}` once started, and
 * closes again. Usage: `node <compiled> <dataPath>`.
 */
import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EntitiesModule, Entity, Field } from 'nestjs-declarative-entities';

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

const app = await NestFactory.createApplicationContext(NotesModule.register(process.argv[2]!), { logger: ['error'] });
process.stdout.write(`@@ ${JSON.stringify({ ready: true })}\n`);
await app.close();
