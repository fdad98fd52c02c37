import type { INestApplication } from '@nestjs/common';
import type { Browser } from 'playwright-core';
import { createApp } from '../../../examples/helmet.js';
import { describeWhen } from '../../support/requirement.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { chromiumMissing, launchChromium } from './chromium.util.js';

const describeWithChromium = describeWhen(chromiumMissing(), 'the Swagger UI under Helmet suite');

describeWithChromium("Swagger UI under Helmet's default Content-Security-Policy (examples/helmet.ts), in headless Chromium", () => {
  let data: ReturnType<typeof makeTempDir> | undefined;
  let app: INestApplication | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    data = makeTempDir();
    app = await createApp(data.path);
    await app.listen(0, '127.0.0.1');
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    data?.remove();
  }, 20_000);

  it('renders every generated operation with no script or style refused by the policy', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    const response = await page.goto(`${await app!.getUrl()}/docs`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('#operations-permits-PermitEntityController_create').waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock-tag-section .opblock').count()).toBeGreaterThanOrEqual(8);
    expect(errors).toEqual([]);
  }, 60_000);
});
