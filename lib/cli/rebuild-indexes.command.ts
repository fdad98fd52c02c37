import type { Command } from 'commander';
import { tell, withProgress } from './cli-output.util.js';
import { entityNamed, withStore } from './store-session.util.js';

export function registerRebuildIndexesCommand(program: Command): void {
  program
    .command('rebuild-indexes')
    .description('rebuild the indexes of one entity, or of all, from the records (refused while an app writes to the store)')
    .argument('[entity]', 'entity name; default: every entity')
    .option('--force', 'run even though a writer is listed as running')
    .action(async (entity: string | undefined, options: { force?: boolean }, command: Command) => {
      const { path } = command.optsWithGlobals<{ path: string }>();
      await withStore(path, { writerRole: 'cli rebuild-indexes', force: options.force }, async (session) => {
        const targets = entity === undefined ? session.definitions : [entityNamed(session, entity)];
        // Every record gets one entry in every index of its entity.
        const built: string[] = [];
        await withProgress(
          () => targets.reduce((sum, definition) => sum + session.storage.tablesOf(definition).records.getCount() * definition.indexes.length, 0),
          'index entries',
          async (progress) => {
            for (const definition of targets) {
              await session.storage.rebuildIndexes(definition, (entries) => progress.increment(entries));
              built.push(`${definition.name}: rebuilt ${definition.indexes.map((index) => index.name).join(', ') || 'no indexes'}`);
            }
          },
        );
        for (const line of built) tell(line);
      });
    });
}
