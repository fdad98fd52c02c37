import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { startSample, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { describeWhen } from '../../support/requirement.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { chromiumMissing, launchChromium } from './chromium.util.js';

type TempDir = ReturnType<typeof makeTempDir>;

const describeWithChromium = describeWhen(chromiumMissing(), 'the Swagger UI suite');

// Generous liveness bound for one UI step on a loaded 2-core machine, not a speed check.
const STEP_MS = 20_000;

/** Opens one operation of the sample's Swagger UI and switches it to "Try it out". */
async function tryOut(page: Page, operationId: string): Promise<Locator> {
  const operation = page.locator(`#operations-permits-${operationId}`);
  await operation.locator('.opblock-summary-control').click();
  await operation.locator('button.try-out__btn').click();
  return operation;
}

/** Executes the opened operation and returns the status and body Swagger UI shows. */
async function execute(operation: Locator): Promise<{ status: string; body: string; curl: string }> {
  await operation.locator('button.execute').click();
  const response = operation.locator('.live-responses-table .response');
  await response.waitFor();
  return {
    status: (await response.locator('.response-col_status').innerText()).trim(),
    body: await response.locator('.response-col_description pre').first().innerText(),
    curl: await operation.locator('.curl-command').innerText(),
  };
}

describeWithChromium.each(['express', 'fastify'] as const)('Swagger UI of the sample on %s, in headless Chromium', (platform) => {
  let data: TempDir | undefined;
  let shots: TempDir | undefined;
  let sample: SampleProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let passed = false;

  beforeAll(async () => {
    data = makeTempDir();
    shots = makeTempDir('nde-swagger-ui-shots-');
    sample = await startSample(`ui-${platform}`, data.path, platform);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(STEP_MS);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stopSample(sample);
    data?.remove();
    // Kept when a step failed: the failure message names the directory.
    if (passed) shots?.remove();
  }, 20_000);

  const shot = (name: string) => page.screenshot({ path: join(shots!.path, `${platform}-${name}.png`), fullPage: true });

  it('creates a permit as the authorized principal and lists it, all through the UI', async () => {
    const number = `BP-UI-${platform}`;
    try {
      await page.goto(`${sample!.base}/docs`);
      await page.locator('#operations-permits-PermitEntityController_create').waitFor();
      await shot('1-loaded');

      // The sample documents its X-User header as an apiKey scheme, so the principal goes
      // in through the Authorize dialog, as the README tells users to do.
      await page.locator('.scheme-container button.authorize').click();
      const dialog = page.locator('.dialog-ux');
      await dialog.locator('.auth-container input[type=text]').fill('alice:clerk,finance');
      await dialog.locator('.auth-btn-wrapper button.authorize').click();
      await dialog.locator('.auth-btn-wrapper button.btn-done').click();
      await dialog.waitFor({ state: 'detached' });

      const create = await tryOut(page, 'PermitEntityController_create');
      const bodyField = create.locator('textarea.body-param__text');
      const example = JSON.parse(await bodyField.inputValue()) as Record<string, unknown>;
      // The example number is the same for everyone; a second run of the example would hit the unique index.
      expect(example).toEqual(expect.objectContaining({ number: 'BP-2026-0001', client: 'Acme Builders', county: 'Travis' }));
      await bodyField.fill(JSON.stringify({ ...example, number }, null, 2));
      await shot('2-create-filled');
      const created = await execute(create);
      await shot('3-created');
      expect(created.curl).toContain('X-User: alice:clerk,finance');
      expect(created.status).toBe('201');
      expect(JSON.parse(created.body)).toEqual(expect.objectContaining({ number, client: 'Acme Builders', createdBy: 'alice', version: 1 }));

      const list = await tryOut(page, 'PermitEntityController_list');
      const listed = await execute(list);
      await shot('4-listed');
      expect(listed.status).toBe('200');
      const { items } = JSON.parse(listed.body) as { items: { number: string; createdBy?: string }[] };
      expect(items.map((item) => [item.number, item.createdBy])).toEqual([[number, 'alice']]);

      // Filters with an operator go in as one object, each property its own query parameter.
      const filters = list.locator('tr[data-param-name="filters"] textarea');
      expect(JSON.parse(await filters.inputValue())).toEqual({});
      await filters.fill(JSON.stringify({ 'estimatedCost[gte]': '0', 'createdAt[lte]': '2999-01-01' }));
      const filtered = await execute(list);
      await shot('5-filtered');
      expect(filtered.curl).toMatch(/estimatedCost(%5B|\[)gte(%5D|\])=0&createdAt(%5B|\[)lte(%5D|\])=2999-01-01/);
      expect(filtered.status).toBe('200');
      expect((JSON.parse(filtered.body) as { items: { number: string }[] }).items.map((item) => item.number)).toEqual([number]);
      await filters.fill(JSON.stringify({ 'estimatedCost[lt]': '0' }));
      expect(JSON.parse((await execute(list)).body)).toEqual({ items: [], nextCursor: null });
      passed = true;
    } catch (error) {
      await shot('failure').catch(() => undefined);
      throw new Error(`${(error as Error).message}\nscreenshots in ${shots?.path}; sample output:\n${sample?.output() ?? ''}`, { cause: error });
    }
  }, 90_000);
});
