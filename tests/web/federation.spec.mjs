// The hub's console in a federation (docs/WEB.md): the start page offers every member nation, a French user
// signs in at the FRA spoke's own identity provider, finds documents across the federation with their origin,
// and decrypts one held by FRA in the browser (the hub routes the read and the key request to the origin).
import { expect, test } from '@playwright/test';

import { collectConsoleErrors, consoleUrl, screenshotPath, signIn } from './support.mjs';

test('a French user signs in at FRA\'s identity provider and decrypts a French document', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  const visited = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) visited.push(f.url()); });
  await page.goto(consoleUrl());
  const nation = page.getByLabel('Nation');
  await expect(nation).toBeVisible();
  expect(await nation.locator('option').allTextContents()).toEqual(['USA', 'FRA']);
  await page.screenshot({ path: screenshotPath('start-federation'), fullPage: true });

  await signIn(page, 'testuser-fra-5', undefined, { open: false, nation: 'FRA' }); // TOP_SECRET, with OTP
  expect(visited.some((u) => u.includes('/realms/dive-v3-broker-fra/'))).toBe(true); // FRA's own sign-in page

  const list = page.getByRole('list', { name: 'Documents' });
  await expect(list).toBeVisible();
  const french = list.getByRole('listitem').filter({ hasText: 'Origin FRA' }).first();
  await expect(french).toBeVisible();
  const title = await french.getByRole('link').textContent();
  await french.getByRole('link').click();
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
  await page.getByRole('button', { name: 'Decrypt' }).click();
  await expect(page.getByRole('region', { name: 'Content' })).toContainText(title);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account', exact: true }).click();
  await expect(page.locator('dl.label')).toContainText('FRA');
  expect(errors).toEqual([]);
});
