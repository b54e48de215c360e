// A visitor's whole journey through the real stack: search a zip, filter,
// sort, open a plan, compare three, sign in, see deltas against the current
// plan, ask for mail, sign out without a trace.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, newPage, DEMO_USER } from './harness.mjs';
import { zipsBySize, twoFeatureFilter, valueFeatureFilter, humanize, cents, yearly, usd, byKeyThenId, planJson, YES } from './data.mjs';

let stack;
let browser;
let page;
let zip;
let filter;
const apiCalls = [];

const visibleIds = () => page.$$eval('#plan-list > li.plan-card:not([hidden])', (lis) => lis.map((li) => li.dataset.planId));

before(async () => {
  stack = await startStack('journey');
  browser = await launchBrowser();
  page = await newPage(browser);
  page.context().on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/')) apiCalls.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  // The largest zip whose plans allow a two-feature filter that keeps some but not all.
  for (const z of zipsBySize(stack.siteDir)) {
    filter = twoFeatureFilter(z.plans);
    if (filter) {
      zip = z;
      break;
    }
  }
  assert.ok(zip, 'the seeded data has a zip where two features split the plans');
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('home page search rejects a bad zip accessibly, then goes to the zip page', async () => {
  await page.goto(`${stack.baseUrl}/`);
  const box = page.getByLabel('Your 5-digit ZIP code');
  await box.fill('21a');
  await box.press('Enter');
  assert.equal(await box.getAttribute('aria-invalid'), 'true');
  const describedBy = (await box.getAttribute('aria-describedby')).split(' ');
  const message = await page.locator(`[id="${describedBy.at(-1)}"]`).textContent();
  assert.match(message, /5-digit ZIP code/);
  assert.ok(await box.evaluate((el) => el === document.activeElement), 'focus stays on the bad field');
  assert.equal(new URL(page.url()).pathname, '/');

  await box.fill(zip.zip);
  await Promise.all([page.waitForURL(`**/zip/${zip.zip}/`), box.press('Enter')]);
  assert.equal(await page.locator('h1').textContent().then((t) => t.includes(zip.zip)), true);
});

test('an unknown zip gets the helpful not-found page', async () => {
  const p = await newPage(browser);
  const res = await p.goto(`${stack.baseUrl}/search?zip=00000`);
  assert.equal(res.status(), 404);
  assert.match(await p.locator('h1').textContent(), /can.t find that page/i);
  assert.equal(await p.locator('main form[action="/search"] input[name="zip"]').count(), 1, 'the 404 page offers the zip search');
  await p.context().close();
});

test('zip page filters by two features, client-side, with the state in the URL', async () => {
  await page.locator('#plan-tools').waitFor({ state: 'visible' });
  assert.deepEqual(await visibleIds(), [...zip.plans].sort(byKeyThenId(yearly)).map((p) => p.plan_id), 'default order is by estimated yearly cost');
  assert.match(await page.locator('#result-count').textContent(), new RegExp(`^${zip.plans.length} plans`));

  const dataRequests = [];
  page.on('request', (r) => ['fetch', 'xhr', 'document'].includes(r.resourceType()) && dataRequests.push(r.url()));
  for (const key of filter.keys) {
    // USWDS draws its own checkbox: the real input sits off screen, so click the label as people do.
    await page.locator('#plan-tools label', { hasText: new RegExp(`^Has ${humanize(key).toLowerCase()}$`) }).click();
    assert.ok(await page.getByLabel(`Has ${humanize(key).toLowerCase()}`, { exact: true }).isChecked());
  }
  const expected = filter.kept.sort(byKeyThenId(yearly)).map((p) => p.plan_id);
  assert.deepEqual(await visibleIds(), expected);
  assert.equal(await page.locator('#result-count').textContent(), `${expected.length} of ${zip.plans.length} plans match, sorted by premiums and deductible for the year (lowest first)`);
  assert.equal(await page.locator('#result-count').getAttribute('role'), 'status');
  const q = new URL(page.url()).searchParams;
  assert.deepEqual(q.getAll('has').sort(), [...filter.keys].sort());
  assert.deepEqual(dataRequests, [], 'filtering needs no request');
  // Hidden cards are the server-rendered ones, still in the list.
  assert.equal(await page.locator('#plan-list > li.plan-card').count(), zip.plans.length);
});

test('sorting reorders the cards and the back button restores the previous order', async () => {
  await page.getByLabel('Sort by').selectOption('premium');
  const byPremium = filter.kept.sort(byKeyThenId((p) => cents(p.avg_monthly_cost))).map((p) => p.plan_id);
  assert.deepEqual(await visibleIds(), byPremium);
  assert.equal(new URL(page.url()).searchParams.get('sort'), 'premium');

  await page.goBack();
  await page.waitForFunction(() => !location.search.includes('sort='));
  assert.equal(await page.getByLabel('Sort by').inputValue(), 'cost');
  assert.deepEqual(await visibleIds(), filter.kept.sort(byKeyThenId(yearly)).map((p) => p.plan_id));

  await page.goForward();
  await page.waitForFunction(() => location.search.includes('sort=premium'));
  assert.deepEqual(await visibleIds(), byPremium);

  // A shared link restores the same view on a fresh load.
  const p = await newPage(browser);
  await p.goto(page.url());
  await p.locator('#plan-tools').waitFor({ state: 'visible' });
  assert.deepEqual(await p.$$eval('#plan-list > li.plan-card:not([hidden])', (l) => l.map((li) => li.dataset.planId)), byPremium);
  for (const key of filter.keys) assert.ok(await p.getByLabel(`Has ${humanize(key).toLowerCase()}`, { exact: true }).isChecked());
  await p.context().close();
});

test('age, insurer and premium filters narrow the list', async () => {
  await page.getByRole('button', { name: 'Clear filters' }).click();
  assert.equal((await visibleIds()).length, zip.plans.length);
  const cap = [...zip.plans].map((p) => cents(p.avg_monthly_cost)).sort((a, b) => a - b)[Math.floor(zip.plans.length / 2)];
  await page.getByLabel('Maximum monthly premium').fill(String(cap / 100));
  await page.getByLabel('Maximum monthly premium').press('Enter');
  assert.deepEqual(
    (await visibleIds()).sort(),
    zip.plans.filter((p) => cents(p.avg_monthly_cost) <= cap).map((p) => p.plan_id).sort(),
  );
  const insurer = zip.plans[0].insurer_name;
  await page.getByLabel('Insurer').selectOption(insurer);
  assert.deepEqual(
    (await visibleIds()).sort(),
    zip.plans.filter((p) => cents(p.avg_monthly_cost) <= cap && p.insurer_name === insurer).map((p) => p.plan_id).sort(),
  );
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.getByLabel('Your age').fill('12');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  assert.deepEqual(
    (await visibleIds()).sort(),
    zip.plans.filter((p) => (p.min_age ?? 0) <= 12 && (p.max_age ?? 200) >= 12).map((p) => p.plan_id).sort(),
  );
  await page.getByLabel('Your age').fill('abc');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  assert.equal(await page.getByLabel('Your age').getAttribute('aria-invalid'), 'true');
  await page.getByRole('button', { name: 'Clear filters' }).click();
  assert.equal((await visibleIds()).length, zip.plans.length);
});

let chosen;
test('three plans go to the compare tray; a fourth is refused with a message', async () => {
  const ids = (await visibleIds()).slice(0, 4);
  chosen = ids.slice(0, 3);
  for (const id of chosen) await page.locator(`li[data-plan-id="${id}"] .plan-card__actions button`, { hasText: 'Add to compare' }).click();
  const tray = page.getByRole('region', { name: 'Plans to compare' });
  assert.match(await tray.textContent(), /3 of 3 plans selected/);
  await page.locator(`li[data-plan-id="${ids[3]}"] .plan-card__actions button`, { hasText: 'Add to compare' }).click();
  assert.match(await tray.getByRole('status').textContent(), /up to 3 plans/);
  assert.match(await page.locator(`li[data-plan-id="${chosen[0]}"] .plan-card__actions button`).textContent(), /^Remove from compare/);
});

test('a plan page shows the plan, its enroll link and its compare state', async () => {
  const id = chosen[0];
  await Promise.all([page.waitForURL(`**/plans/${id}/`), page.locator(`li[data-plan-id="${id}"] h2 a`).click()]);
  const plan = planJson(stack.siteDir, id);
  assert.equal((await page.locator('h1').textContent()).trim(), plan.plan_name);
  const enroll = page.getByRole('link', { name: /Enroll in this plan/ });
  assert.ok((await enroll.getAttribute('href')).includes(encodeURIComponent(id)));
  assert.match(await page.locator('.plan-actions button').textContent(), /^Remove from compare/);
  assert.equal(await page.locator('#my-plan-compare').isHidden(), true, 'signed out: no personal section');
});

test('the compare page lines up the three plans feature by feature', async () => {
  await Promise.all([page.waitForURL('**/compare/?plans=*'), page.getByRole('link', { name: 'Compare selected plans' }).click()]);
  assert.deepEqual(new URL(page.url()).searchParams.get('plans').split(','), chosen);
  const table = page.locator('#compare table');
  await table.waitFor();
  const plans = chosen.map((id) => planJson(stack.siteDir, id));
  const heads = await table.locator('thead th[scope="col"]').allTextContents();
  assert.deepEqual(heads.slice(1).map((t) => t.replace(/\s*Your plan$/, '').trim()), plans.map((p) => p.plan_name));
  const row = (label) => table.locator('tbody tr', { has: page.locator(`th[scope="row"]`, { hasText: label }) }).first();
  const premiums = plans.map((p) => cents(p.avg_monthly_cost));
  const premiumCells = await row('Monthly premium').locator('td').allTextContents();
  premiums.forEach((c, i) => assert.ok(premiumCells[i].startsWith(usd(c)), `${premiumCells[i]} shows ${usd(c)}`));
  const differs = new Set(premiums).size > 1;
  assert.equal((await row('Monthly premium').locator('th').textContent()).includes('Differs'), differs);
  // Every feature of every plan has a row.
  const keys = new Set(plans.flatMap((p) => Object.keys(p.features)));
  for (const k of keys) {
    const cells = await row(humanize(k)).locator('td').allTextContents();
    plans.forEach((p, i) => assert.equal(cells[i].trim(), p.features[k] ?? 'Not listed'));
    const same = new Set(plans.map((p) => p.features[k] ?? null)).size === 1;
    assert.equal((await row(humanize(k)).locator('th').textContent()).includes('Differs'), !same, `row ${k}`);
  }
});

test('signed out, nothing asked the API', () => {
  assert.deepEqual(apiCalls, []);
});

let enrollment;
test('sign-in rejects a wrong password, then signs in and shows the plan', async () => {
  await page.goto(`${stack.baseUrl}/signin/`);
  assert.equal(await page.locator('nav [data-auth="signed-in"]').first().isHidden(), true);
  await page.getByLabel('Username').fill(DEMO_USER.username);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#signin-status').filter({ hasText: /do not match/ }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('wg.session')), null);

  await page.getByLabel('Password').fill(DEMO_USER.password);
  await Promise.all([page.waitForURL('**/my-plan/'), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
  const hint = await page.evaluate(() => localStorage.getItem('wg.session'));
  assert.equal(JSON.parse(hint).username, DEMO_USER.username);
  const cookies = await page.context().cookies();
  for (const c of cookies) assert.ok(!hint.includes(c.value), 'the session hint holds no token');
  assert.ok(cookies.some((c) => c.httpOnly), 'the token is an HttpOnly cookie');

  enrollment = await page.evaluate(() => fetch('/api/me/enrollment').then((r) => r.json()));
  assert.ok(enrollment.current_plan, 'the demo user has a current plan');
  await page.locator('#my-plan .my-plan__current').waitFor();
  assert.match(await page.locator('#my-plan').textContent(), new RegExp(enrollment.current_plan.plan_name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.equal(await page.locator('nav [data-auth="signed-in"]').first().isVisible(), true);
  assert.equal(await page.locator('nav [data-auth="signed-out"]').first().isHidden(), true);
});

test('signed in, zip and plan pages show the current plan and each plan\'s delta', async () => {
  const current = enrollment.current_plan;
  const z = zipsBySize(stack.siteDir).find((x) => x.plans.some((p) => p.plan_id === current.plan_id)) || zip;
  const before = apiCalls.length;
  await page.goto(`${stack.baseUrl}/zip/${z.zip}/`);
  const banner = page.locator('#my-plan-banner');
  await banner.waitFor({ state: 'visible' });
  assert.ok((await banner.textContent()).includes(current.plan_name));
  const other = z.plans.find((p) => p.plan_id !== current.plan_id && cents(p.avg_monthly_cost) !== cents(current.avg_monthly_cost));
  const delta = await page.locator(`li[data-plan-id="${other.plan_id}"] .plan-delta`).textContent();
  const monthly = cents(other.avg_monthly_cost) - cents(current.avg_monthly_cost);
  const yearlyDiff = yearly(other) - yearly(current);
  assert.ok(delta.includes(`${usd(Math.abs(monthly))} ${monthly > 0 ? 'more' : 'less'} a month than your plan`), delta);
  if (yearlyDiff !== 0) assert.ok(delta.includes(`Premiums and deductible for the year: ${usd(Math.abs(yearlyDiff))} ${yearlyDiff > 0 ? 'more' : 'less'} than your plan`), delta);
  const gained = Object.keys(other.features).filter((k) => YES.test(other.features[k]) && !YES.test(current.features[k] ?? ''));
  for (const k of gained) assert.ok(delta.includes(humanize(k)), `${k} listed as gained in: ${delta}`);
  if (z.plans.some((p) => p.plan_id === current.plan_id)) {
    assert.match(await page.locator(`li[data-plan-id="${current.plan_id}"] .plan-delta`).textContent(), /Your current plan/);
  }

  // A second page within the cache window asks the API nothing more.
  const afterFirst = apiCalls.length;
  assert.ok(afterFirst - before <= 1);
  await page.goto(`${stack.baseUrl}/plans/${other.plan_id}/`);
  const section = page.locator('#my-plan-compare');
  await section.waitFor({ state: 'visible' });
  assert.ok((await section.textContent()).includes(`${usd(Math.abs(monthly))} ${monthly > 0 ? 'more' : 'less'} a month than your plan`));
  assert.equal(apiCalls.length, afterFirst, 'the enrollment came from the session cache');
});

test('mail me this: field errors, then a queued request whose status can be checked', async () => {
  const form = page.locator('#mail-form');
  assert.equal(await form.isVisible(), true);
  await form.locator('[type="submit"]').click();
  const field = (n) => form.locator(`[name="${n}"]`);
  const name = field('name');
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  assert.ok(await name.evaluate((el) => el === document.activeElement), 'focus moves to the first bad field');
  assert.equal(await page.locator('#name-error').isVisible(), true);

  await name.fill('Ana O\'Neil <test>');
  await field('address').fill('1 Main St');
  await field('city').fill('Boston');
  await field('state').selectOption('MA');
  await field('zip').fill('123');
  await form.locator('[type="submit"]').click();
  assert.equal(await field('zip').getAttribute('aria-invalid'), 'true');
  assert.equal(await name.getAttribute('aria-invalid'), null);
  assert.match(await page.locator('#zip-error').textContent(), /5-digit/);

  // The API's own checks come back as 422 naming the field, shown on that field.
  await field('zip').fill('02134');
  await field('address').fill('1 Main St\u0007');
  await form.locator('[type="submit"]').click();
  await page.locator('#address-error').filter({ hasText: /control characters/ }).waitFor();
  assert.equal(await field('address').getAttribute('aria-invalid'), 'true');
  assert.ok(await field('address').evaluate((el) => el === document.activeElement), 'focus moves to the field the API refused');
  await field('address').fill('1 Main St');

  // The first attempt dies on the network; the retry must reuse its key.
  const keys = [];
  let failed = false;
  await page.route('**/api/fulfillment', async (route) => {
    keys.push(route.request().headers()['idempotency-key']);
    if (!failed) {
      failed = true;
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  await field('zip').fill('02134');
  await form.locator('[type="submit"]').click();
  await page.locator('#mail-status').filter({ hasText: /send the form again/ }).waitFor();
  await form.locator('[type="submit"]').click();
  const status = page.locator('#mail-status');
  await status.locator('code').waitFor();
  await page.unroute('**/api/fulfillment');
  assert.equal(keys.length, 2);
  assert.match(keys[0], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(keys[1], keys[0], 'a retry of the same submission reuses its Idempotency-Key');
  assert.match(await status.textContent(), /Status: (queued|sent)/);
  const requestId = await status.locator('code').textContent();
  // Wait for the answer registered before the click, or a fast API answers unseen.
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/api/fulfillment/${requestId}`)),
    status.getByRole('button', { name: 'Check status' }).click(),
  ]);
  const checked = await page.evaluate((id) => fetch(`/api/fulfillment/${id}`).then((r) => r.json()), requestId);
  await status.filter({ hasText: new RegExp(`Status: ${checked.status}`) }).waitFor();
  // Chromium logs every 4xx fetch; the API's 422 for the hostile address was the point of the
  // step above, so it is accounted for here and must be the only one.
  const rejected = page.problems.filter((p) => p.includes('status of 422'));
  assert.equal(rejected.length, 1, 'exactly the one expected 422');
  page.problems = page.problems.filter((p) => !p.includes('status of 422'));
});

test('sign out leaves no trace', async () => {
  await page.goto(`${stack.baseUrl}/my-plan/`);
  await Promise.all([page.waitForURL(`${stack.baseUrl}/`), page.getByRole('button', { name: 'Sign out' }).click()]);
  assert.equal(await page.evaluate(() => localStorage.getItem('wg.session')), null);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  const status = await page.evaluate(() => fetch('/api/me/enrollment').then((r) => r.status));
  assert.equal(status, 401, 'the session is gone at the API too');
  const before = apiCalls.length;
  await page.goto(`${stack.baseUrl}/zip/${zip.zip}/`);
  await page.locator('#plan-tools').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#my-plan-banner').isHidden(), true);
  assert.equal(await page.locator('.plan-delta').count(), 0);
  assert.equal(apiCalls.length, before, 'signed-out pages call no API');
  assert.equal(await page.locator('nav [data-auth="signed-out"]').first().isVisible(), true);
  assert.deepEqual(page.problems, []);
});

test('detail-feature filters wait behind a disclosure that a filter in force keeps open', async () => {
  const filter = valueFeatureFilter(zip.plans);
  assert.ok(filter, 'the seeded zip has a feature with several values');
  const p = await newPage(browser);
  await p.goto(`${stack.baseUrl}/zip/${zip.zip}/`);
  await p.locator('#plan-tools').waitFor({ state: 'visible' });
  const more = p.locator('details.plan-filters__more');
  const select = p.getByLabel(humanize(filter.key), { exact: true });
  assert.equal(await more.evaluate((d) => d.open), false, 'closed at first');
  assert.equal(await select.isVisible(), false);

  // Opened from the keyboard, as a native disclosure is.
  await p.locator('details.plan-filters__more > summary').focus();
  await p.keyboard.press('Enter');
  assert.equal(await more.evaluate((d) => d.open), true);
  await select.selectOption(filter.value);
  const expected = filter.kept.sort(byKeyThenId(yearly)).map((x) => x.plan_id);
  assert.deepEqual(await p.$$eval('#plan-list > li.plan-card:not([hidden])', (l) => l.map((li) => li.dataset.planId)), expected);

  // A shared link with that filter shows it, open.
  const q = await newPage(browser);
  await q.goto(p.url());
  await q.locator('#plan-tools').waitFor({ state: 'visible' });
  assert.equal(await q.locator('details.plan-filters__more').evaluate((d) => d.open), true);
  assert.equal(await q.getByLabel(humanize(filter.key), { exact: true }).inputValue(), filter.value);
  assert.deepEqual(await q.$$eval('#plan-list > li.plan-card:not([hidden])', (l) => l.map((li) => li.dataset.planId)), expected);
  assert.deepEqual(p.problems, []);
  await p.context().close();
  await q.context().close();
});
