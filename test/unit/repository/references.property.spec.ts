import 'reflect-metadata';
import { Logger, type Type } from '@nestjs/common';
import fc from 'fast-check';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { Reference } from '../../../lib/decorators/reference.decorator.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { EntityRepository } from '../../../lib/repository/entity.repository.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { RecordNotFoundException } from '../../../lib/storage/record-not-found.exception.js';
import { ReferenceConflictException } from '../../../lib/storage/reference-conflict.exception.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

/** Folders nest (cascade); a file holds its folder back (restrict); a link loses its folder (setNull). */
@Entity('prop-folders')
class Folder {
  @Field() name!: string;
  @Field({ required: false }) @Reference(() => Folder, { onDelete: 'cascade' }) parentId?: string;
}

@Entity('prop-files')
class File {
  @Field() @Reference(() => Folder) folderId!: string;
}

@Entity('prop-links')
class Link {
  @Field({ required: false }) @Reference(() => Folder, { onDelete: 'setNull' }) folderId?: string;
}

type Command =
  | { kind: 'folder'; parent: number | null }
  | { kind: 'file'; folder: number }
  | { kind: 'link'; folder: number }
  | { kind: 'move'; folder: number; parent: number | null }
  | { kind: 'deleteFolder'; folder: number }
  | { kind: 'deleteFile'; file: number };

// Small, so that commands often name the same few records.
const pick = fc.nat({ max: 8 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('folder' as const), parent: fc.option(pick) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('file' as const), folder: pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('link' as const), folder: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('move' as const), folder: pick, parent: fc.option(pick) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deleteFolder' as const), folder: pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deleteFile' as const), file: pick }) },
);

/** Every id ever made, live or not, so commands also name deleted records. */
const nth = (ids: readonly string[], n: number) => (ids.length === 0 ? undefined : ids[n % ids.length]);

describe('@Reference against a model (property)', () => {
  const definitions = ([Folder, File, Link] as Type<object>[]).map((target) => createEntityDefinition(target));

  beforeAll(() => Logger.overrideLogger(['error', 'warn']));

  async function run(commands: Command[]): Promise<void> {
    const dir = makeTempDir();
    const storage = new EntityStorage(new LmdbEnvironment(dir.path));
    for (const definition of definitions) storage.register(definition);
    await storage.open();
    try {
      const [folders, files, links] = definitions.map((definition) => new EntityRepository(definition, storage)) as [
        EntityRepository<Folder>,
        EntityRepository<File>,
        EntityRepository<Link>,
      ];
      const model = { folders: new Map<string, string | undefined>(), files: new Map<string, string>(), links: new Map<string, string | undefined>() };
      const made = { folders: [] as string[], files: [] as string[] };
      /** The folder and everything below it, as the model sees it. */
      const subtree = (root: string): Set<string> => {
        const below = new Set([root]);
        for (let grew = true; grew;) {
          grew = false;
          for (const [id, parent] of model.folders) {
            if (parent !== undefined && below.has(parent) && !below.has(id)) {
              below.add(id);
              grew = true;
            }
          }
        }
        return below;
      };

      for (const step of commands) {
        if (step.kind === 'folder') {
          const parent = step.parent === null ? undefined : nth(made.folders, step.parent);
          const outcome = folders.create({ name: 'f', ...(parent && { parentId: parent }) });
          if (parent !== undefined && !model.folders.has(parent)) await expect(outcome).rejects.toBeInstanceOf(ReferenceConflictException);
          else {
            const folder = await outcome;
            model.folders.set(folder.id, parent);
            made.folders.push(folder.id);
          }
        } else if (step.kind === 'file' || step.kind === 'link') {
          const folder = nth(made.folders, step.folder);
          if (folder === undefined) continue;
          const outcome = step.kind === 'file' ? files.create({ folderId: folder }) : links.create({ folderId: folder });
          if (!model.folders.has(folder)) await expect(outcome).rejects.toBeInstanceOf(ReferenceConflictException);
          else {
            const { id } = await outcome;
            if (step.kind === 'link') model.links.set(id, folder);
            else {
              model.files.set(id, folder);
              made.files.push(id);
            }
          }
        } else if (step.kind === 'move') {
          const folder = nth(made.folders, step.folder);
          if (folder === undefined) continue;
          const parent = step.parent === null ? undefined : nth(made.folders, step.parent);
          const outcome = folders.update(folder, { parentId: parent ?? null } as never);
          if (!model.folders.has(folder)) await expect(outcome).rejects.toBeInstanceOf(RecordNotFoundException);
          else if (parent !== undefined && parent !== model.folders.get(folder) && !model.folders.has(parent)) {
            await expect(outcome).rejects.toBeInstanceOf(ReferenceConflictException);
          } else {
            await outcome;
            model.folders.set(folder, parent);
          }
        } else if (step.kind === 'deleteFolder') {
          const folder = nth(made.folders, step.folder);
          if (folder === undefined) continue;
          const outcome = folders.delete(folder);
          if (!model.folders.has(folder)) {
            await expect(outcome).rejects.toBeInstanceOf(RecordNotFoundException);
            continue;
          }
          const gone = subtree(folder);
          if ([...model.files.values()].some((held) => gone.has(held))) {
            await expect(outcome).rejects.toBeInstanceOf(ReferenceConflictException);
            continue;
          }
          await outcome;
          for (const id of gone) model.folders.delete(id);
          for (const [id, held] of model.links) if (held !== undefined && gone.has(held)) model.links.set(id, undefined);
        } else {
          const file = nth(made.files, step.file);
          if (file === undefined) continue;
          const outcome = files.delete(file);
          if (!model.files.has(file)) await expect(outcome).rejects.toBeInstanceOf(RecordNotFoundException);
          else {
            await outcome;
            model.files.delete(file);
          }
        }
      }

      const stored = async <T extends object>(repo: EntityRepository<T>, field: keyof T) => {
        const all = new Map<string, unknown>();
        for (let cursor: string | null | undefined; cursor !== null;) {
          const page = await repo.find({ limit: 1000, ...(cursor && { cursor }) });
          for (const record of page.items) all.set(record.id, (record as Record<string, unknown>)[field as string]);
          cursor = page.nextCursor;
        }
        return all;
      };
      expect(await stored(folders, 'parentId')).toEqual(model.folders);
      expect(await stored(files, 'folderId')).toEqual(model.files);
      expect(await stored(links, 'folderId')).toEqual(model.links);
      expect(storage.verify().problems).toEqual([]);
    } finally {
      await storage.close();
      dir.remove();
    }
  }

  it('keeps every reference pointing at a live record, deleting, clearing and refusing as the model does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 60 }), (commands) => run(commands)),
      { numRuns: 80 },
    );
  }, 120_000);
});
