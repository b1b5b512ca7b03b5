// Helpers of the web console's browser tests. Environment (set by tests/web/web_console_browser_test.cpp):
// CONSOLE_URL, DIVE_HOME, DIVE_BIN (the `dive` binary), DIVE_PORT_SHIFT, DIVE_TEST_PASSWORD (test and
// industry users), DIVE_ADMIN_PASSWORD (admin-<ccc>), DIVE_FRA_TEST_PASSWORD (the FRA spoke's users), DIVE_WEB_ARTIFACTS, CHROMIUM (optional).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { expect } from '@playwright/test';

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run the suite through ./dive test web)`);
  return v;
}

/** Debian's Chromium (scripts/bootstrap); CHROMIUM overrides it. Playwright never downloads a browser here. */
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

/** The console's URL, e.g. https://localhost:3000/ */
export const consoleUrl = () => required('CONSOLE_URL');

/** The password of a seeded user: admin-<ccc> has the admin password, every other user the test password. */
export function passwordOf(user) {
  if (/^testuser-fra-/.test(user)) return required('DIVE_FRA_TEST_PASSWORD'); // the FRA spoke's users
  return user.startsWith('admin-') ? required('DIVE_ADMIN_PASSWORD') : required('DIVE_TEST_PASSWORD');
}

/** Where screenshots go (<DIVE_WEB_ARTIFACTS>/screenshots/<name>.png); the folder is created. */
export function screenshotPath(name) {
  const dir = path.join(path.resolve(process.env.DIVE_WEB_ARTIFACTS || 'web-artifacts'), 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name.endsWith('.png') ? name : `${name}.png`);
}

function diveOtp(user) {
  return new Promise((resolve, reject) => {
    execFile(
      required('DIVE_BIN'),
      /^testuser-fra-/.test(user) ? ['spoke', 'users', 'otp', 'FRA', user] : ['hub', 'users', 'otp', user],
      { env: { ...process.env, DIVE_HOME: required('DIVE_HOME'), NO_COLOR: '1' }, timeout: 30_000 },
      (err, stdout, stderr) => {
        // The command prints the code alone on a line of stdout.
        const m = /^(\d{6})$/m.exec(stdout);
        if (err || !m) reject(new Error(`dive hub users otp ${user} failed: ${err?.message ?? ''}\n${stdout}${stderr}`));
        else resolve(m[1]);
      },
    );
  });
}

// The idp accepts a one-time code step once per user (a replay is refused and counts towards the lockout),
// so a code already handed out here is not handed out again: otp() waits (bounded) for the next 30 s step.
const handedOut = new Map();

/** The current one-time code (6 digits) of a hub user, never one this process already returned. */
export async function otp(user, { timeoutMs = 35_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const code = await diveOtp(user);
    if (handedOut.get(user) !== code) {
      handedOut.set(user, code);
      return code;
    }
    if (Date.now() > deadline) throw new Error(`no fresh one-time code for ${user} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/**
 * Fills the identity provider's login form (labels Username, Password, One-time code;
 * src/identity/idp/login_page.cpp) on the current page and submits it. `otp`: true (default) fetches a fresh
 * code, a string uses that code, false leaves the field empty.
 */
export async function fillLogin(page, user, password = passwordOf(user), { otp: code = true } = {}) {
  const form = page.locator('form#login');
  await expect(form).toBeVisible();
  await form.getByLabel('Username').fill(user);
  await form.getByLabel('Password').fill(password);
  if (code === true) code = await otp(user);
  if (code) await form.getByLabel('One-time code').fill(code);
  await form.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Signs in through the console: opens it (unless `open` is false), clicks its **Sign in** button, fills and
 * submits the identity provider's form (fillLogin) and waits until the browser is back on the console's
 * origin. `nation`: the nation to choose first (its identity provider signs the user in).
 */
export async function signIn(page, user, password = passwordOf(user), { otp: code = true, open = true, nation } = {}) {
  const home = new URL(consoleUrl());
  if (open) await page.goto(home.href);
  if (nation) await page.getByLabel('Nation').selectOption(nation);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await fillLogin(page, user, password, { otp: code });
  await page.waitForURL((u) => u.origin === home.origin);
}

/**
 * Collects what would show up red in the browser's devtools: console.error messages (CSP violations
 * included), uncaught exceptions and failed requests. Call before navigating; check `errors` at the end
 * (expect(errors).toEqual([])).
 */
export function collectConsoleErrors(page) {
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()} (${m.location().url ?? ''})`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  return errors;
}
