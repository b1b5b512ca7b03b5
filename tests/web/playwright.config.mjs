// Playwright configuration of the web console's browser tests (`./dive test web`, docs/WEB.md).
// Debian's Chromium (/usr/bin/chromium, from scripts/bootstrap), never a browser downloaded by Playwright;
// TLS is verified for real: the driver (web_console_browser_test.cpp) gives the browser a HOME whose NSS
// database trusts the instance's CA, so nothing here ignores certificate errors.
// Environment: CONSOLE_URL (the console, e.g. https://localhost:3000/), DIVE_HOME, DIVE_BIN, DIVE_WEB_ARTIFACTS
// (where results land; default ./web-artifacts), CHROMIUM (default /usr/bin/chromium).
import path from 'node:path';
import { defineConfig } from '@playwright/test';

import { chromiumPath } from './support.mjs';

const artifacts = path.resolve(process.env.DIVE_WEB_ARTIFACTS || 'web-artifacts');

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.spec\.mjs$/,
  // Traces, failure screenshots and videos, one folder per test (Playwright empties it at each run).
  outputDir: path.join(artifacts, 'test-results'),
  fullyParallel: false,
  workers: 1, // two cores, shared with a deployed hub
  retries: 0,
  forbidOnly: true,
  timeout: 60_000,
  globalTimeout: 10 * 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { outputFolder: path.join(artifacts, 'report'), open: 'never' }]],
  use: {
    browserName: 'chromium',
    headless: true,
    baseURL: process.env.CONSOLE_URL,
    launchOptions: { executablePath: chromiumPath },
    ignoreHTTPSErrors: false,
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
