// The console signed in, in a real browser (docs/WEB.md): sign-in at the identity provider with password and
// one-time code, the documents (list, search, filter, open, decrypt in the browser), a refusal explained,
// an upload round trip, the account, the operations view, CSRF, and a sign-out after which nothing is shown
// and the old session cookie is dead. One user's session runs through the serial tests below; other users
// sign in in their own browser contexts.
import { expect, request, test } from '@playwright/test';

import { collectConsoleErrors, consoleUrl, screenshotPath, signIn } from './support.mjs';

test.describe.configure({ mode: 'serial' });

const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const TITLE = `Console round trip ${stamp}`;
const TEXT = `Eyes only ${stamp}: the bridge at grid 4471 is out; convoy reroutes north.`;
const SECRET_USER = 'testuser-usa-4'; // SECRET, USA
const LEVEL_NAMES = /^(UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET|TOP SECRET|TOP_SECRET)/;

let context;
let page;
let errors;
let uploadedId;
const bffBodies = []; // every answer of the console's backend to the signed-in page: the plaintext is never in one

test.beforeAll(async ({ browser }) => {
  context = await browser.newContext();
  page = await context.newPage();
  errors = collectConsoleErrors(page);
  page.on('response', async (r) => {
    if (!new URL(r.url()).pathname.startsWith('/bff/')) return;
    try {
      bffBodies.push({ url: r.url(), body: await r.text() });
    } catch {
      // a redirect or an aborted request has no body
    }
  });
});

test.afterAll(async () => {
  await context?.close();
});

// A link of the console's main navigation.
const nav = (p, name) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

async function sessionCookie(ctx) {
  return (await ctx.cookies()).find((c) => c.name === '__Host-dive_session');
}

test('sign in with password and one-time code at the identity provider', async () => {
  await signIn(page, SECRET_USER);
  await expect(page.getByRole('searchbox', { name: 'Search' })).toBeVisible();
  const cookie = await sessionCookie(context);
  expect(cookie).toBeTruthy();
  expect(cookie.httpOnly).toBe(true);
  expect(cookie.secure).toBe(true);
  expect(cookie.sameSite).toBe('Strict');
  // The page's script cannot read it (HttpOnly) and no token is in the page's storage.
  expect(await page.evaluate(() => document.cookie)).not.toContain('dive_session');
  expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).not.toMatch(/eyJ/);

  await nav(page, 'Account').click();
  await expect(page.getByRole('heading', { name: 'Account' })).toBeVisible();
  const account = page.locator('dl.label');
  await expect(account).toContainText(SECRET_USER);
  await expect(account).toContainText('SECRET');
  await expect(account).toContainText('USA');
  await expect(account).toContainText('AAL2');
  await page.screenshot({ path: screenshotPath('account'), fullPage: true });
});

test('upload: the label form offers only labels the user may assign; the document opens', async () => {
  await nav(page, 'Upload').click();
  const form = page.locator('form.upload');
  await expect(form.getByLabel('Title')).toBeVisible();
  const levels = await form.getByLabel('Classification').locator('option').allTextContents();
  expect(levels).toEqual(['UNCLASSIFIED', 'RESTRICTED', 'CONFIDENTIAL', 'SECRET']); // not TOP SECRET
  const releasable = await form.getByLabel('Releasable to').locator('option').allTextContents();
  expect(releasable).toContain('USA');
  await form.getByLabel('Title').fill(TITLE);
  await form.getByLabel('Classification').selectOption('SECRET');
  await form.getByLabel('Releasable to').selectOption(['USA']);
  await form.getByLabel('Content').fill(TEXT);
  await page.screenshot({ path: screenshotPath('upload'), fullPage: true });
  await form.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByRole('heading', { name: TITLE })).toBeVisible();
  uploadedId = decodeURIComponent(new URL(page.url()).hash.replace('#/documents/', ''));
  expect(uploadedId).toMatch(/^doc-USA-/);
});

test('document: marking banners at top and bottom, label, origin and decision', async () => {
  const banners = page.getByRole('note', { name: /^Security marking: SECRET/ });
  await expect(banners).toHaveCount(2);
  await expect(banners.first()).toHaveText(/^SECRET/);
  await expect(banners.first()).toHaveClass(/level-secret/);
  const label = page.locator('dl.label');
  await expect(label).toContainText('Releasable to');
  await expect(label).toContainText('Origin');
  await expect(label).toContainText('Allowed');
});

test('decrypt: in the browser; the server never sends the plaintext', async () => {
  const before = bffBodies.length;
  await page.getByRole('button', { name: 'Decrypt' }).click();
  await expect(page.getByRole('region', { name: 'Content' })).toContainText(TEXT);
  await page.screenshot({ path: screenshotPath('document'), fullPage: true });
  const during = bffBodies.slice(before);
  expect(during.map((b) => new URL(b.url).pathname)).toEqual(
    expect.arrayContaining([`/bff/api/resources/${uploadedId}/key`, `/bff/api/resources/${uploadedId}/ztdf`]));
  const key = JSON.parse(during.find((b) => b.url.endsWith('/key')).body);
  expect(key.wrappedKey).toBeTruthy(); // rewrapped to the browser's public key
  expect(key.content).toBeUndefined();
  for (const b of bffBodies) {
    expect(b.body).not.toContain(TEXT);
    expect(b.body).not.toContain(Buffer.from(TEXT).toString('base64'));
  }
});

test('documents: the list shows titles as links with their markings; search and filter', async () => {
  await nav(page, 'Documents').click();
  const list = page.getByRole('list', { name: 'Documents' });
  await expect(list).toBeVisible();
  expect(await list.getByRole('link').count()).toBeGreaterThan(1);
  for (const marking of await list.locator('.marking').allTextContents()) expect(marking).toMatch(LEVEL_NAMES);
  await page.screenshot({ path: screenshotPath('documents'), fullPage: true });

  await page.getByRole('searchbox', { name: 'Search' }).fill(stamp);
  await expect(list.getByRole('link')).toHaveCount(1);
  await expect(list.getByRole('link', { name: TITLE })).toBeVisible();

  await page.getByRole('searchbox', { name: 'Search' }).fill('');
  await page.getByLabel('Classification').selectOption('SECRET');
  await expect(list.getByRole('link', { name: TITLE })).toBeVisible();
  for (const marking of await list.locator('.marking').allTextContents()) expect(marking).toMatch(/^SECRET/);

  await list.getByRole('link', { name: TITLE }).click();
  await expect(page.getByRole('heading', { name: TITLE })).toBeVisible();
});

test('a state-changing request without the CSRF token is refused and changes nothing', async () => {
  const seen = errors.length;
  const results = await page.evaluate(async (title) => {
    const post = (path, headers, body) => fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body ?? {}) })
      .then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
    const upload = await post('/bff/api/resources', {}, { title, content: btoa('x'), classification: 'UNCLASSIFIED', releasabilityTo: ['USA'] });
    const wrong = await post('/bff/api/resources', { 'X-CSRF-Token': 'not-the-token' }, { title, content: btoa('x'), classification: 'UNCLASSIFIED', releasabilityTo: ['USA'] });
    const logout = await post('/bff/logout', {});
    const session = await fetch('/bff/session').then((r) => r.json());
    const found = await fetch(`/bff/api/resources?query=${encodeURIComponent(title)}`).then((r) => r.json());
    return { upload, wrong, logout, authenticated: session.authenticated, found: found.resources.length };
  }, `CSRF ${stamp}`);
  expect(results.upload.status).toBe(403);
  expect(results.wrong.status).toBe(403);
  expect(results.logout.status).toBe(403);
  expect(results.authenticated).toBe(true); // the refused sign-out did not sign out
  expect(results.found).toBe(0); // nothing was uploaded
  // The browser logs each refused request ("status of 403"): expected here, and only those.
  const logged = errors.splice(seen);
  expect(logged.every((e) => /status of 403/.test(e))).toBe(true);
});

test('a refused document says "Access denied" with the policy\'s reason in plain words', async ({ browser }) => {
  const other = await browser.newContext();
  try {
    const p = await other.newPage();
    const otherErrors = collectConsoleErrors(p);
    await signIn(p, 'testuser-usa-1', undefined, { otp: false }); // UNCLASSIFIED
    await expect(p.getByRole('searchbox', { name: 'Search' })).toBeVisible();
    await p.getByRole('searchbox', { name: 'Search' }).fill(stamp);
    await expect(p.getByText('No document matches.')).toBeVisible(); // the list never shows what a read refuses
    await p.goto(`${consoleUrl()}#/documents/${encodeURIComponent(uploadedId)}`);
    await expect(p.getByRole('heading', { name: 'Access denied' })).toBeVisible();
    await expect(p.locator('.denied .reason')).toContainText(/clearance/i);
    await expect(p.getByRole('button', { name: 'Decrypt' })).toHaveCount(0);
    await p.screenshot({ path: screenshotPath('denied'), fullPage: true });
    // The Operations view is for administrators: not offered, and refused when asked for.
    await expect(nav(p, 'Operations')).toBeHidden();
    expect(await p.evaluate(() => fetch('/bff/operations').then((r) => r.status))).toBe(403);
    expect(otherErrors.filter((e) => !/\/bff\/(api\/resources\/doc-|operations)/.test(e))).toEqual([]);
  } finally {
    await other.close();
  }
});

test('operations: an administrator sees services, breakers, revocation and the federation, refreshed live', async ({ browser }) => {
  const admin = await browser.newContext();
  try {
    const p = await admin.newPage();
    const adminErrors = collectConsoleErrors(p);
    await signIn(p, 'admin-usa');
    await nav(p, 'Operations').click();
    const services = p.getByRole('table', { name: 'Services' });
    await expect(services).toBeVisible();
    for (const name of ['api', 'idp', 'pdp', 'kas', 'web'])
      await expect(services.getByRole('row', { name: new RegExp(`^${name}\\b`) })).toContainText('healthy');
    await expect(p.getByRole('table', { name: 'Circuit breakers' })).toContainText('database');
    await expect(p.getByRole('table', { name: 'Revocation' })).toBeVisible();
    await expect(p.getByRole('table', { name: /^Federation/ })).toContainText('USA');
    await expect(p.getByRole('table', { name: 'Spokes' })).toBeVisible();
    // Live: the "Updated" time moves without a reload.
    const updated = p.getByText(/^Updated /);
    const first = await updated.textContent();
    await expect(updated).not.toHaveText(first, { timeout: 12_000 });
    await p.screenshot({ path: screenshotPath('operations'), fullPage: true });
    expect(adminErrors).toEqual([]);
  } finally {
    await admin.close();
  }
});

test('sign out: revoked everywhere, the back button shows nothing, the old cookie is dead', async () => {
  const old = await sessionCookie(context);
  expect(old).toBeTruthy();
  await page.getByRole('button', { name: 'Decrypt' }).click();
  await expect(page.getByRole('region', { name: 'Content' })).toContainText(TEXT);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText(/revoked on every instance/);
  expect(await sessionCookie(context)).toBeUndefined();
  await page.screenshot({ path: screenshotPath('signed-out'), fullPage: true });

  await page.goBack();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByText(TEXT)).toHaveCount(0);
  await expect(page.getByRole('heading', { name: TITLE })).toHaveCount(0);

  const replay = await request.newContext({ extraHTTPHeaders: { Cookie: `${old.name}=${old.value}` } });
  try {
    const session = await replay.get(new URL('/bff/session', consoleUrl()).href);
    expect((await session.json()).authenticated).toBe(false);
    const list = await replay.get(new URL('/bff/api/resources', consoleUrl()).href);
    expect(list.status()).toBe(401);
  } finally {
    await replay.dispose();
  }
});

test('no console errors, CSP violations or failed requests on any page', async () => {
  expect(errors.filter((e) => !/request failed: .*net::ERR_ABORTED/.test(e))).toEqual([]);
});
