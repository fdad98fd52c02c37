import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { integerAtLeast } from './cli-arguments.util.js';
import { tell, writeLine } from './cli-output.util.js';
import { entityNamed, withStore } from './store-session.util.js';

const PAGE = 1000;

interface EventsOptions {
  after: number;
  limit?: number;
  entity?: string;
  follow?: boolean;
  interval: number;
}

export function registerEventsCommand(program: Command): void {
  program
    .command('events')
    .description('print events of the log after a seq as NDJSON, oldest first; --follow waits for new ones (Ctrl-C stops)')
    .option('--after <seq>', 'print events with a greater seq', integerAtLeast(0), 0)
    .option('--limit <n>', 'print at most n events', integerAtLeast(1))
    .option('--entity <name>', 'only events of this entity')
    .option('--follow', 'keep printing events as they are committed, like tail -f')
    .option('--interval <ms>', 'how often --follow looks for new events', integerAtLeast(10), 500)
    .action(async (options: EventsOptions, command: Command) => {
      const { path } = command.optsWithGlobals<{ path: string }>();
      // The log needs no entity definitions: a store without a catalog can be tailed too.
      await withStore(path, { withoutCatalog: true }, async (session) => {
        const { storage } = session;
        // A misspelt name would print nothing, as if the entity had no events; a name the catalog
        // no longer lists (an entity renamed) still has its events.
        // Names the catalog lists are taken before the log is searched, which may scan all of it.
        const listed = session.definitions.some((definition) => definition.name === options.entity);
        if (options.entity !== undefined && session.catalog && !listed && storage.log.readEntity(options.entity, 0, 1).length === 0) {
          entityNamed(session, options.entity);
        }
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
        try {
          let after = options.after;
          let left = options.limit ?? Infinity;
          while (left > 0 && !stop.signal.aborted) {
            storage.renewSnapshot();
            const page = storage.events(after, PAGE);
            // Retention may drop events between two polls of --follow, not only before the first.
            const next = page[0]?.seq;
            if (next !== undefined && next > after + 1) tell(`events before seq ${next} are no longer in the log (retention); printing from ${next}`);
            for (const event of page) {
              after = event.seq;
              if (options.entity !== undefined && event.entity !== options.entity) continue;
              // The reader has gone (`| head`): nobody reads the rest, nor what --follow would wait for.
              if (!(await writeLine(JSON.stringify(event)))) left = 0;
              if (--left <= 0) break;
            }
            if (page.length === PAGE) continue;
            if (!options.follow) break;
            await delay(options.interval, undefined, { signal: stop.signal }).catch(() => undefined);
          }
        } finally {
          process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
        }
      });
    });
}
