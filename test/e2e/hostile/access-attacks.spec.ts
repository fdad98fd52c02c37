import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { PLATFORMS } from '../../support/test-app.util.js';
import { AccessAttacker } from './access-attacker.util.js';
import { allowedWriteAnswers, overPosting, readsAcrossPrincipals, refusedWrites } from './access-families.util.js';
import { methodOverrides, pathTricks, queryOracles } from './access-probes.util.js';
import { CLAIMS_SCENARIO, SAMPLE_SCENARIO, type AccessScenario } from './access-scenarios.util.js';
import { listenRaw } from './raw-http.util.js';
import { appRoutes } from './route-table.util.js';

const REQUEST_TIMEOUT_MS = 10_000;

describe.each(PLATFORMS)('generated access attacks on %s', (platform) => {
  it.each([SAMPLE_SCENARIO, CLAIMS_SCENARIO].map((scenario) => [scenario.name, scenario] as const))(
    'refuses every attack on %s derived from its route table, and changes nothing it should not',
    async (_name, scenario: AccessScenario) => {
      const dir = makeTempDir('nde-access-');
      const app = await scenario.boot(platform, dir.path);
      const client = await listenRaw(app, REQUEST_TIMEOUT_MS);
      try {
        const definitions = scenario.entities.map((entity) => createEntityDefinition(entity));
        const attacker = new AccessAttacker(scenario, platform, app, client, appRoutes(app, definitions));
        await attacker.setup();
        const before = await attacker.snapshot();
        const storage = app.get(EntityStorage);
        const startSeq = storage.log.lastSeq();

        await readsAcrossPrincipals(attacker);
        await refusedWrites(attacker, before);
        await overPosting(attacker, before);
        await queryOracles(attacker);
        await pathTricks(attacker, before);
        await methodOverrides(attacker, before);
        await allowedWriteAnswers(attacker);

        const open: string[] = [];
        for (const route of attacker.routes) {
          const label = `${route.method} ${route.template}`;
          if (attacker.attemptsByRoute.has(label)) continue;
          const ids = route.onRecord ? attacker.records.filter((record) => record.definition === route.definition).map((record) => record.id) : [undefined];
          let refusedSomewhere = false;
          for (const actor of scenario.actors) for (const id of ids) if (!(await attacker.verdictFor(route, actor, id)).allowed) refusedSomewhere = true;
          if (refusedSomewhere) attacker.violations.add(`coverage: ${label} refuses some principal, yet no attack was generated for it`, () => label);
          else open.push(label);
        }
        const changed: string[] = [];
        for (const record of attacker.records) if (!(await attacker.unchanged(before, record.id))) changed.push(`${record.definition.name} ${record.id}`);
        // Only records made for allowed writes may have changed: every event since the attacks began must be about one.
        const stray = storage
          .events(startSeq, 1_000_000)
          .filter((event) => !attacker.scratch.has(event.id))
          .map((event) => `${event.type} ${event.entity} ${event.id}`);
        const verify = storage.verify();
        process.stdout.write(
          `access attacks on ${scenario.name} (${platform}): ${attacker.attempts} attempts over ${attacker.routes.length} routes, ${attacker.refusals} refused or answered without a leak, ` +
            `${attacker.attempts - attacker.refusals} got through (${attacker.violations.size} kinds); open to everyone: ${open.length === 0 ? 'none' : open.join(', ')}\n` +
            `  by family: ${[...attacker.attemptsByFamily].map(([family, count]) => `${family} ${count}`).join('; ')}\n`,
        );
        expect({ problems: attacker.violations.report(), changed, stray, verify: verify.problems }).toEqual({
          problems: [],
          changed: [],
          stray: [],
          verify: [],
        });
      } finally {
        client.close();
        await app.close();
        dir.remove();
      }
    },
    300_000,
  );
});
