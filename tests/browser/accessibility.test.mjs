// Every page type passes axe-core with its script running, and the search and
// filters work from the keyboard alone (Tab, Enter, Space).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, newPage, axeViolations, DEMO_USER } from './harness.mjs';
import { zipsBySize, boolFeatures, humanize, YES } from './data.mjs';

let stack;
let browser;
let zip;

before(async () => {
  stack = await startStack('a11y');
  browser = await launchBrowser();
  zip = zipsBySize(stack.siteDir).find((z) => boolFeatures(z.plans).length >= 2 && z.plans.length >= 3);
  assert.ok(zip, 'the seeded data has a zip with yes/no features');
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function assertAccessible(page, what) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `axe-core on ${what}:\n${violations.join('\n')}`);
  assert.deepEqual(page.problems, [], `script problems on ${what}`);
}

async function assertNoInlineCode(url) {
  const html = await (await fetch(url)).text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, `${url} has an inline script (the CSP forbids it)`);
  assert.doesNotMatch(html, /\sstyle=|<style/i, `${url} has inline style (the CSP forbids it)`);
}

test('home, zip and plan pages pass axe (signed out)', async () => {
  const page = await newPage(browser);
  await page.goto(`${stack.baseUrl}/`);
  await assertAccessible(page, 'home');
  await assertNoInlineCode(`${stack.baseUrl}/`);

  await page.getByLabel('Your 5-digit ZIP code').fill(zip.zip);
  await Promise.all([page.waitForURL(`**/zip/${zip.zip}/`), page.getByLabel('Your 5-digit ZIP code').press('Enter')]);
  await page.locator('#plan-tools').waitFor({ state: 'visible' });
  await page.locator('.plan-card__actions button').first().click();
  await assertAccessible(page, 'zip page with filters and compare tray');
  await assertNoInlineCode(page.url());

  await Promise.all([page.waitForURL('**/plans/*/'), page.locator('#plan-list li:not([hidden]) h2 a').first().click()]);
  await page.locator('#mail-form').waitFor({ state: 'visible' });
  await assertAccessible(page, 'plan page');
  // The mail form with its errors showing.
  await page.locator('#mail-form [type="submit"]').click();
  await assertAccessible(page, 'plan page with mail form errors');
  await assertNoInlineCode(page.url());
  await page.context().close();
});

test('the not-found page passes axe at any path', async () => {
  const page = await newPage(browser);
  for (const path of ['/zip/00000/', '/plans/NO-SUCH-PLAN/', '/search?zip=12']) {
    const res = await page.goto(`${stack.baseUrl}${path}`);
    assert.equal(res.status(), 404, path);
    assert.equal(await page.evaluate(() => document.body.dataset.page), 'notfound');
    await assertAccessible(page, `404 at ${path}`);
  }
  await page.context().close();
});

test('sign-in, my-plan and compare pages pass axe, signed out and signed in', async () => {
  const page = await newPage(browser);
  const ids = zip.plans.slice(0, 3).map((p) => p.plan_id);
  await page.goto(`${stack.baseUrl}/compare/?plans=${ids.join(',')}`);
  await page.locator('#compare table').waitFor();
  await assertAccessible(page, 'compare');
  assert.equal(await page.locator('#compare table th[scope="col"]').count(), 4);
  assert.ok((await page.locator('#compare table th[scope="row"]').count()) > 5);

  await page.goto(`${stack.baseUrl}/compare/`);
  await assertAccessible(page, 'compare with nothing chosen');

  await page.goto(`${stack.baseUrl}/my-plan/`);
  await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
  await assertAccessible(page, 'my-plan signed out');

  await page.goto(`${stack.baseUrl}/signin/`);
  await page.locator('#signin-form [type="submit"]').click();
  await assertAccessible(page, 'sign-in with errors');
  await page.getByLabel('Username').fill(DEMO_USER.username);
  await page.getByLabel('Password').fill(DEMO_USER.password);
  await Promise.all([page.waitForURL('**/my-plan/'), page.locator('#signin-form [type="submit"]').click()]);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await assertAccessible(page, 'my-plan signed in');

  await page.goto(`${stack.baseUrl}/zip/${zip.zip}/`);
  await page.locator('#my-plan-banner').waitFor({ state: 'visible' });
  await assertAccessible(page, 'zip page signed in');
  await page.goto(`${stack.baseUrl}/plans/${zip.plans[0].plan_id}/`);
  await page.locator('#my-plan-compare').waitFor({ state: 'visible' });
  await assertAccessible(page, 'plan page signed in');
  await page.goto(`${stack.baseUrl}/compare/?plans=${ids.join(',')}`);
  await page.locator('#compare table').waitFor();
  await assertAccessible(page, 'compare signed in');
  await page.context().close();
});

/** Presses Tab until `locator` has focus; fails after `limit` presses. */
async function tabTo(page, locator, limit = 80) {
  for (let i = 0; i < limit; i++) {
    if (await locator.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${locator}`);
}

test('search and filter work with the keyboard alone', async () => {
  const page = await newPage(browser);
  await page.goto(`${stack.baseUrl}/`);
  // The skip link comes first.
  await page.keyboard.press('Tab');
  assert.match(await page.evaluate(() => document.activeElement.textContent), /skip/i);

  const box = page.getByLabel('Your 5-digit ZIP code');
  await tabTo(page, box);
  await page.keyboard.type('123');
  await page.keyboard.press('Enter');
  assert.equal(await box.getAttribute('aria-invalid'), 'true');
  assert.ok(await box.evaluate((el) => el === document.activeElement));
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(zip.zip);
  await Promise.all([page.waitForURL(`**/zip/${zip.zip}/`), page.keyboard.press('Enter')]);
  await page.locator('#plan-tools').waitFor({ state: 'visible' });

  const [a, b] = boolFeatures(zip.plans);
  for (const key of [a, b]) {
    const box = page.getByLabel(`Has ${humanize(key).toLowerCase()}`, { exact: true });
    await tabTo(page, box);
    await page.keyboard.press('Space');
    assert.ok(await box.isChecked());
  }
  const expected = zip.plans.filter((p) => YES.test(p.features[a] || '') && YES.test(p.features[b] || '')).length;
  assert.equal(await page.locator('#plan-list > li.plan-card:not([hidden])').count(), expected);
  assert.match(await page.locator('#result-count').textContent(), expected === zip.plans.length ? /plans/ : new RegExp(`^(${expected} of|No plans)`));

  // Clear filters from the keyboard.
  await tabTo(page, page.getByRole('button', { name: 'Clear filters' }));
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#plan-list > li.plan-card:not([hidden])').count(), zip.plans.length);

  // Into a plan with Enter on its link.
  const first = page.locator('#plan-list > li.plan-card h2 a').first();
  await tabTo(page, first, 200);
  await Promise.all([page.waitForURL('**/plans/*/'), page.keyboard.press('Enter')]);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
