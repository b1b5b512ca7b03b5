// The web console in a real browser (Debian's Chromium), over verified TLS (docs/WEB.md).
// Run by `./dive test web` (tests/web/web_console_browser_test.cpp deploys a hub and sets the environment).
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium, expect, test } from '@playwright/test';

import { chromiumPath, collectConsoleErrors, consoleUrl, screenshotPath } from './support.mjs';

const commonName = (dn) => /(?:^|\n|, ?)CN=([^\n,]+)/.exec(dn)?.[1];

test.describe('start page', () => {
  test('loads over TLS verified against the instance CA', async ({ page }) => {
    const response = await page.goto(consoleUrl());
    expect(response.status()).toBe(200);
    expect(new URL(page.url()).protocol).toBe('https:');
    const tls = await response.securityDetails();
    expect(tls.protocol).toMatch(/^TLS 1\.[23]$/);
    // The certificate was issued by this instance's CA, the only one the browser was told to trust.
    const ca = new X509Certificate(fs.readFileSync(path.join(process.env.DIVE_HOME, 'ca', 'rootCA.pem')));
    expect(tls.issuer).toBe(commonName(ca.subject));
    await expect(page).toHaveTitle(/DIVE/);
  });

  test('a browser without the instance CA refuses the console', async () => {
    // The same Chromium with an empty HOME (no NSS database): the certificate must not be accepted, which
    // shows that the trust comes from the CA the driver installed and that nothing ignores certificate errors.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dive-web-untrusted-'));
    const browser = await chromium.launch({ executablePath: chromiumPath, env: { ...process.env, HOME: home } });
    try {
      const page = await browser.newPage();
      await expect(page.goto(consoleUrl())).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await browser.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  test('has a strict Content-Security-Policy', async ({ page }) => {
    const response = await page.goto(consoleUrl());
    const csp = response.headers()['content-security-policy'];
    expect(csp).toBeTruthy();
    expect(csp).not.toContain("'unsafe-inline'");
    expect(csp).not.toContain("'unsafe-eval'");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  test('shows a Sign in button and no console errors', async ({ page }) => {
    const errors = collectConsoleErrors(page);
    await page.goto(consoleUrl());
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
    await page.waitForLoadState('networkidle'); // the page's own requests (assets, /health) are done
    expect(errors).toEqual([]);
  });

  test('keyboard focus reaches Sign in with Tab', async ({ page }) => {
    await page.goto(consoleUrl());
    const button = page.getByRole('button', { name: 'Sign in' });
    await expect(button).toBeVisible();
    let focused = false;
    for (let i = 0; i < 20 && !focused; ++i) {
      await page.keyboard.press('Tab');
      focused = await button.evaluate((el) => el === document.activeElement);
    }
    expect(focused).toBe(true);
    await expect(button).toBeFocused();
  });

  test.describe('on a 390 px wide phone', () => {
    test.use({ viewport: { width: 390, height: 844 } });

    test('fits without horizontal scroll', async ({ page }) => {
      await page.goto(consoleUrl());
      await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
      const { scrollWidth, clientWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      }));
      expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
      await page.screenshot({ path: screenshotPath('start-390'), fullPage: true });
    });
  });

  test('full-page screenshot and first-load size and time', async ({ page }) => {
    await page.goto(consoleUrl());
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await page.waitForLoadState('networkidle');
    const file = screenshotPath('start');
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(0);
    const load = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const resources = performance.getEntriesByType('resource');
      return {
        bytes: [nav, ...resources].reduce((n, e) => n + (e.transferSize || 0), 0),
        requests: 1 + resources.length,
        domContentLoadedMs: Math.round(nav.domContentLoadedEventEnd),
        loadMs: Math.round(nav.loadEventEnd),
      };
    });
    fs.writeFileSync(path.join(path.dirname(file), '..', 'first-load.json'), JSON.stringify(load, null, 2) + '\n');
    test.info().annotations.push({ type: 'first load', description: JSON.stringify(load) });
    console.log(`first load: ${JSON.stringify(load)}`);
  });

  test('Sign in leads to the identity provider\'s page in the console\'s look, under a strict CSP', async ({ page }) => {
    const errors = collectConsoleErrors(page);
    await page.goto(consoleUrl());
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/protocol/openid-connect/auth') && r.request().method() === 'GET'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    const csp = response.headers()['content-security-policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    const form = page.locator('form#login');
    for (const label of ['Username', 'Password', 'One-time code']) await expect(form.getByLabel(label)).toBeVisible();
    await expect(form.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await expect(page.getByText(/authorised coalition use only/)).toBeVisible();
    // The console's stylesheet applied (served by the idp itself): the product bar has its colour.
    const bar = await page.locator('header.topbar').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(bar).toBe('rgb(20, 48, 79)');
    await page.screenshot({ path: screenshotPath('idp-sign-in'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
