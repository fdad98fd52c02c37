import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's `chromium` package; `.ci/run` installs it when missing. */
export const CHROMIUM = '/usr/bin/chromium';

// No GPU, no network of its own: the browser only talks to the sample on 127.0.0.1.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function inCi(): boolean {
  const value = process.env.CI;
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/**
 * Why the browser suites cannot run here, or `undefined` when they must. Only a developer
 * machine without Chromium skips them; in CI a missing Chromium fails the suite instead.
 */
export function chromiumSkipReason(): string | undefined {
  if (existsSync(CHROMIUM) || inCi()) return undefined;
  return `${CHROMIUM} is missing, so the browser tests are skipped (install it: apt-get install -y chromium; CI fails instead of skipping)`;
}

/** Headless Chromium on a fresh temporary profile (playwright's default). */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with apt-get install -y chromium (.ci/run does)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}
