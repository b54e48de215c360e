// Screenshots of the zip page and the comparison at phone and desktop widths
// (saved in tests/browser/artifacts/ for a look), no sideways scrolling of
// the page at phone width, and the transfer budget of a large zip page.
// The zip page must be one a shopper can scan: the plans start on the first
// screen at both widths, 40 plans fit in 7 screens on a desktop and, with
// three drugs listed, in 8 on a phone, a row holds only the facts that decide
// and shows every one of them, and the filters wait behind a disclosure on a
// phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startStack, launchBrowser, newPage, screenshotPath, axeViolations, ARTIFACTS, DEMO_USER } from './harness.mjs';
import { zipsBySize, boolFeatures, humanize, cents, yearly, usd, planJson, YES, crowdBusiestZip, FREE_PLAN } from './data.mjs';
import { siteJson, drugsNamed, settled } from './drugs-support.mjs';

const VIEWPORTS = { phone: { width: 375, height: 812 }, desktop: { width: 1280, height: 900 } };
const BUDGET_BYTES = 150 * 1024;
// No single script bundle (a page's entry or a shared chunk) over this.
const BUNDLE_BUDGET_BYTES = 25 * 1024;
const JS_BUDGET_BYTES = 50 * 1024;
// Screens 40 plans may take, with or without a drug list.
const MAX_SCREENS = { phone: 8, desktop: 7 };

let stack;
let browser;
let zips;

// The budget is for a zip with 40 plans (see crowdBusiestZip).
const BUDGET_PLANS = 40;

before(async () => {
  stack = await startStack('layout', { beforeBuild: `${crowdBusiestZip(BUDGET_PLANS)}; ${FREE_PLAN}` });
  browser = await launchBrowser();
  zips = zipsBySize(stack.siteDir);
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

for (const [name, viewport] of Object.entries(VIEWPORTS)) {
  test(`zip page and comparison at ${name} width`, async () => {
    const page = await newPage(browser, viewport);
    const zip = zips[0];
    await page.goto(`${stack.baseUrl}/zip/${zip.zip}/`);
    await page.locator('#plan-tools').waitFor({ state: 'visible' });
    await page.evaluate(() => document.fonts.ready);
    for (const id of zip.plans.slice(0, 3).map((p) => p.plan_id)) {
      await page.locator(`li[data-plan-id="${id}"] .plan-card__actions button`).click();
    }
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the zip page does not scroll sideways');
    // The sticky tray leaves most of the screen to the plans.
    const tray = await page.locator('.compare-tray').boundingBox();
    assert.ok(tray.height <= viewport.height * 0.2, `the compare tray is ${tray.height}px of ${viewport.height}px`);
    await page.screenshot({ path: screenshotPath(`zip-${name}`), fullPage: false });
    await page.locator('#plan-list').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath(`zip-${name}-list`), fullPage: false });

    await page.getByRole('link', { name: 'Compare selected plans' }).click();
    await page.locator('#compare table').waitFor();
    await page.evaluate(() => document.fonts.ready);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the comparison scrolls inside its own box, not the page');
    await page.screenshot({ path: screenshotPath(`compare-${name}`), fullPage: true });
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
}

test('a favicon; the banner and the phone menu open and close with the site\'s own script', async () => {
  const page = await newPage(browser, VIEWPORTS.phone);
  await page.goto(`${stack.baseUrl}/`);
  const scripts = await page.evaluate(() => [...document.scripts].map((s) => s.src));
  assert.ok(!scripts.some((src) => src.includes('uswds')), `no USWDS script: ${scripts.join(' ')}`);
  // A favicon, so no first visit asks for /favicon.ico in vain.
  const icon = await page.locator('link[rel="icon"]').getAttribute('href');
  const iconResponse = await page.request.get(`${stack.baseUrl}${icon}`);
  assert.equal(iconResponse.status(), 200, icon);
  assert.equal(iconResponse.headers()['content-type'], 'image/png');
  const how = page.locator('.usa-banner__button');
  await how.click();
  assert.equal(await how.getAttribute('aria-expanded'), 'true');
  assert.ok(await page.locator('#gov-banner').isVisible(), 'the banner opens');
  await how.click();
  assert.ok(await page.locator('#gov-banner').isHidden(), 'and closes');
  const nav = page.getByRole('navigation', { name: 'Primary navigation' });
  const menu = page.getByRole('button', { name: 'Menu' });
  assert.ok(await nav.isHidden(), 'the menu starts closed on a phone');
  await menu.click();
  assert.ok(await nav.isVisible(), 'Menu opens it');
  assert.ok(await page.getByRole('button', { name: 'Close menu' }).evaluate((el) => el === document.activeElement), 'focus on its close button');
  await page.keyboard.press('Escape');
  assert.ok(await nav.isHidden(), 'Escape closes it');
  assert.ok(await menu.evaluate((el) => el === document.activeElement), 'focus back on Menu');
  await menu.click();
  await page.getByRole('button', { name: 'Close menu' }).click();
  assert.ok(await nav.isHidden(), 'its close button closes it');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a large zip page stays within the transfer budget', async () => {
  const zip = zips[0];
  const page = await newPage(browser);
  const responses = [];
  page.on('response', (r) => responses.push(r));
  await page.goto(`${stack.baseUrl}/zip/${zip.zip}/`, { waitUntil: 'networkidle' });
  await page.locator('#plan-tools').waitFor({ state: 'visible' });

  const rows = [];
  for (const r of responses) {
    const url = new URL(r.url());
    if (url.origin !== stack.baseUrl || r.status() >= 300) continue;
    const body = await r.body();
    rows.push({ path: url.pathname, type: r.request().resourceType(), raw: body.length, gzip: gzipSync(body, { level: 9 }).length });
  }
  const sum = (pred) => rows.filter(pred).reduce((n, r) => n + r.gzip, 0);
  const pageBytes = sum((r) => ['document', 'stylesheet', 'script', 'fetch'].includes(r.type));
  const jsBytes = sum((r) => r.type === 'script');
  const bundles = rows.filter((r) => r.type === 'script' && r.path.startsWith('/assets/js/'));
  const zipJs = bundles.find((r) => /\/zip-[A-Z0-9]+\.js$/.test(r.path));
  const report = {
    zip: zip.zip,
    plans: zip.plans.length,
    largest_zip_in_seed: zips[0].plans.length,
    html_css_js_json_gzip_bytes: pageBytes,
    js_gzip_bytes: jsBytes,
    largest_bundle_gzip_bytes: Math.max(0, ...bundles.map((r) => r.gzip)),
    fonts_images_gzip_bytes: sum((r) => ['font', 'image'].includes(r.type)),
    resources: rows,
  };
  writeFileSync(path.join(ARTIFACTS, 'budget.json'), JSON.stringify(report, null, 2));
  console.log(`budget: zip ${zip.zip} (${zip.plans.length} plans): HTML+CSS+JS+JSON ${pageBytes} B gzip, JS ${jsBytes} B in ${bundles.length} bundles (largest ${Math.max(0, ...bundles.map((r) => r.gzip))} B)`);

  assert.ok(zip.plans.length >= BUDGET_PLANS, `the zip has ${zip.plans.length} plans`);
  assert.ok(zipJs, 'the zip page bundle was loaded');
  for (const r of bundles) assert.ok(r.gzip <= BUNDLE_BUDGET_BYTES, `${r.path} is ${r.gzip} B gzip`);
  assert.ok(jsBytes <= JS_BUDGET_BYTES, `JS is ${jsBytes} B gzip`);
  assert.ok(pageBytes <= BUDGET_BYTES, `the page transfers ${pageBytes} B gzip (budget ${BUDGET_BYTES})`);
  await page.context().close();
});

const says = (text) => text.replace(/\s+/g, ' ').trim();
const firstCard = (page) => page.locator('#plan-list > li.plan-card:not([hidden])').first();

/** Presses Tab until `locator` has focus; fails after `limit` presses. */
async function tabTo(page, locator, limit = 80) {
  for (let i = 0; i < limit; i++) {
    if (await locator.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${locator}`);
}

async function openZip(page, zip) {
  await page.goto(`${stack.baseUrl}/zip/${zip}/`);
  await page.locator('#plan-tools').waitFor({ state: 'visible' });
  await page.evaluate(() => document.fonts.ready);
}

for (const [name, viewport] of Object.entries(VIEWPORTS)) {
  test(`the first plan starts on the first screen at ${name} width, with or without script`, async () => {
    const zip = zips[0];
    const page = await newPage(browser, viewport);
    await openZip(page, zip.zip);
    const card = await firstCard(page).boundingBox();
    // Its name and premium, not just its top border, are on the first screen.
    const premium = await firstCard(page).locator('.plan-card__fact').first().boundingBox();
    console.log(`${name}: first card at ${Math.round(card.y)}px, its premium ends at ${Math.round(premium.y + premium.height)}px of ${viewport.height}px`);
    assert.ok(premium.y + premium.height <= viewport.height, `the first card's premium ends at ${premium.y + premium.height}px, below the first screen (${viewport.height}px)`);
    await page.screenshot({ path: screenshotPath(`zip-${name}-first-screen`) });
    assert.deepEqual(page.problems, []);
    await page.context().close();

    // Without script the server-rendered list is the page: no filters, the same cards.
    const context = await browser.newContext({ viewport, javaScriptEnabled: false });
    const bare = await context.newPage();
    await bare.goto(`${stack.baseUrl}/zip/${zip.zip}/`);
    assert.equal(await bare.locator('#plan-list > li.plan-card').count(), zip.plans.length);
    assert.equal(await bare.locator('#plan-tools').isHidden(), true);
    const bareCard = await bare.locator('#plan-list > li.plan-card').first().boundingBox();
    assert.ok(bareCard.y < viewport.height, `without script the first card starts at ${bareCard.y}px`);
    assert.ok(await bare.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling without script');
    await context.close();
  });

  test(`the zip page passes axe at ${name} width`, async () => {
    const page = await newPage(browser, viewport);
    await openZip(page, zips[0].zip);
    let violations = await axeViolations(page);
    assert.deepEqual(violations, [], `axe-core on the zip page:\n${violations.join('\n')}`);
    // With the filters open too (a phone opens them; a desktop shows them).
    await page.locator('.plan-filters-panel').evaluate((d) => (d.open = true));
    violations = await axeViolations(page);
    assert.deepEqual(violations, [], `axe-core on the zip page, filters open:\n${violations.join('\n')}`);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
}

test(`40 plans fit in ${MAX_SCREENS.desktop} screens on a desktop, filters beside the list`, async () => {
  const zip = zips[0];
  const { height } = VIEWPORTS.desktop;
  const page = await newPage(browser, VIEWPORTS.desktop);
  await openZip(page, zip.zip);
  assert.ok(zip.plans.length >= BUDGET_PLANS, `the zip has ${zip.plans.length} plans`);
  assert.equal(await page.locator('#plan-list > li.plan-card:not([hidden])').count(), zip.plans.length);
  const tall = await page.evaluate(() => document.documentElement.scrollHeight);
  console.log(`desktop: ${zip.plans.length} plans make a page ${tall}px tall, ${(tall / height).toFixed(2)} screens of ${height}px`);
  assert.ok(tall <= MAX_SCREENS.desktop * height, `the page is ${tall}px, more than ${MAX_SCREENS.desktop} x ${height}px`);

  // The filters are open beside the list, their disclosure not shown.
  const tools = await page.locator('#plan-tools').boundingBox();
  const list = await page.locator('#plan-list').boundingBox();
  assert.ok(tools.x + tools.width <= list.x, 'the filters are left of the list');
  assert.ok(await page.getByLabel('Sort by').isVisible());
  assert.equal(await page.locator('.plan-filters-panel > summary').isVisible(), false);
  await page.screenshot({ path: screenshotPath('zip-desktop-full'), fullPage: true });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a card shows the facts that decide and links to the rest', async () => {
  const zip = zips[0];
  const page = await newPage(browser, VIEWPORTS.phone);
  await openZip(page, zip.zip);
  for (const summary of zip.plans.slice(0, 10)) {
    const plan = planJson(stack.siteDir, summary.plan_id);
    const card = page.locator(`li[data-plan-id="${plan.plan_id}"]`);
    const facts = await card.locator('.plan-card__fact').evaluateAll((els) => els.map((el) => [el.querySelector('dt').textContent, el.querySelector('dd').textContent]));
    assert.deepEqual(facts, [
      ['Monthly premium', usd(cents(plan.avg_monthly_cost))],
      ['Annual deductible', usd(cents(plan.annual_deductible))],
      ['Premiums and deductible for the year', `${usd(yearly(plan))} Drug costs not included`],
    ]);
    // The stars are drawn for the eye and said in words for everyone.
    const rating = Number(plan.features.star_rating);
    assert.equal((await card.locator('.plan-card__rating').textContent()).trim(), `${rating} out of 5 stars`);
    assert.equal(await card.locator('.plan-stars').getAttribute('aria-hidden'), 'true');
    assert.equal(await card.locator('.plan-stars svg').count(), 5);
    const half = rating - Math.floor(rating) >= 0.5 ? 1 : 0;
    assert.equal(await card.locator('.plan-stars__fill').count(), Math.floor(rating) + half, `${rating} stars`);
    // Every feature is a click away; the card names no other fact.
    assert.equal(await card.getByRole('link', { name: `All features and costs of ${plan.plan_name}` }).getAttribute('href'), `/plans/${plan.plan_id}/`);
    assert.equal(await card.locator('dt, th').count(), 3);
  }
  await page.context().close();
});

test('a $0 premium, $0 deductible plan never reads as costing $0 a year', async () => {
  const zip = zips[0];
  const free = zip.plans.find((p) => cents(p.avg_monthly_cost) === 0 && cents(p.annual_deductible) === 0);
  assert.ok(free, 'the zip has the $0/$0 plan');
  // Any mention of a yearly figure of $0.00 must say that drug costs are left out.
  const honest = (text, where) => {
    assert.doesNotMatch(text, /estimated yearly cost/i, where);
    for (const m of text.matchAll(/(year|yearly|annual cost)[^$]{0,60}\$0\.00/gi)) {
      const around = text.slice(m.index, m.index + m[0].length + 60);
      assert.match(around, /drug costs not included/i, `${where}: "${around}"`);
    }
  };

  const page = await newPage(browser, VIEWPORTS.phone);
  await openZip(page, zip.zip);
  const card = page.locator(`li[data-plan-id="${free.plan_id}"]`);
  const cardText = says(await card.innerText());
  assert.match(cardText, /Premiums and deductible for the year \$0\.00 Drug costs not included/);
  honest(cardText, 'the card');
  // It is the cheapest before drugs, so it leads the list.
  assert.equal(await firstCard(page).getAttribute('data-plan-id'), free.plan_id);

  await page.goto(`${stack.baseUrl}/plans/${free.plan_id}/`);
  const costs = says(await page.locator('.plan-costs').innerText());
  assert.match(costs, /Premiums and deductible for the year \$0\.00 Drug costs not included/);
  honest(says(await page.locator('main').innerText()), 'the plan page');

  const other = zip.plans.find((p) => p.plan_id !== free.plan_id);
  await page.goto(`${stack.baseUrl}/compare/?plans=${free.plan_id},${other.plan_id}`);
  await page.locator('#compare table').waitFor();
  const row = page.locator('#compare tbody tr', { has: page.locator('th', { hasText: 'Premiums and deductible for the year' }) });
  assert.match(says(await row.locator('th').innerText()), /^Premiums and deductible for the year \(drug costs not included\)/);
  assert.equal(says(await row.locator('td').first().innerText()), `${usd(0)} (lowest)`);
  honest(says(await page.locator('main').innerText()), 'the comparison');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('on a phone the filters open and close from the keyboard, their line saying what is in force', async () => {
  const zip = zips[0];
  const page = await newPage(browser, VIEWPORTS.phone);
  await openZip(page, zip.zip);
  const panel = page.locator('details.plan-filters-panel');
  const summary = panel.locator('> summary');
  const sort = page.getByLabel('Sort by');
  assert.equal(await panel.evaluate((d) => d.open), false, 'closed at first');
  assert.equal(await sort.isVisible(), false);
  assert.equal(says(await summary.innerText()), 'Filter and sort No filters');

  await tabTo(page, summary);
  await page.keyboard.press('Enter');
  assert.equal(await panel.evaluate((d) => d.open), true, 'Enter opens it');
  assert.ok(await sort.isVisible());
  await page.screenshot({ path: screenshotPath('zip-phone-filters-open') });

  // A yes/no feature, ticked with Space, shows in the line and narrows the list.
  const [key] = boolFeatures(zip.plans);
  const box = page.getByLabel(`Has ${humanize(key).toLowerCase()}`, { exact: true });
  await tabTo(page, box);
  await page.keyboard.press('Space');
  assert.ok(await box.isChecked());
  const kept = zip.plans.filter((p) => YES.test(p.features[key] || '')).length;
  assert.equal(await page.locator('#plan-list > li.plan-card:not([hidden])').count(), kept);
  assert.equal(says(await summary.innerText()), `Filter and sort 1 filter: has ${humanize(key).toLowerCase()}`);

  // Back to the disclosure (Shift+Tab) and closed with Space: the line still tells.
  for (let i = 0; i < 80 && !(await summary.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Shift+Tab');
  assert.ok(await summary.evaluate((el) => el === document.activeElement), 'Shift+Tab reaches the disclosure');
  await page.keyboard.press('Space');
  assert.equal(await panel.evaluate((d) => d.open), false, 'Space closes it');
  assert.equal(await sort.isVisible(), false);
  assert.match(says(await summary.innerText()), /1 filter: has /);
  const card = await firstCard(page).boundingBox();
  assert.ok(card.y < VIEWPORTS.phone.height, 'the plans are on the first screen again');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('signed in on a phone, each card says in one line how it compares, details on demand', async () => {
  const zip = zips[0];
  const page = await newPage(browser, VIEWPORTS.phone);
  await page.goto(`${stack.baseUrl}/signin/`);
  await page.getByLabel('Username').fill(DEMO_USER.username);
  await page.getByLabel('Password').fill(DEMO_USER.password);
  await Promise.all([page.waitForURL('**/my-plan/'), page.locator('#signin-form [type="submit"]').click()]);
  const current = (await page.evaluate(() => fetch('/api/me/enrollment').then((r) => r.json()))).current_plan;
  assert.ok(current, 'the demo user has a current plan');

  await openZip(page, zip.zip);
  await page.locator('.plan-delta').first().waitFor();
  const banner = says(await page.locator('#my-plan-banner').innerText());
  assert.equal(banner, `Your plan: ${current.plan_name}, ${usd(cents(current.avg_monthly_cost))} a month. Each plan below says how its premium compares.`);
  for (const plan of zip.plans.filter((p) => p.plan_id !== current.plan_id).slice(0, 10)) {
    const delta = page.locator(`li[data-plan-id="${plan.plan_id}"] .plan-delta`);
    const monthly = cents(plan.avg_monthly_cost) - cents(current.avg_monthly_cost);
    const line = monthly === 0 ? 'Same monthly premium as your plan' : `${usd(Math.abs(monthly))} ${monthly > 0 ? 'more' : 'less'} a month than your plan`;
    assert.equal(await delta.locator('.plan-delta__line').textContent(), line);
    // The rest waits, closed, behind a disclosure.
    const details = delta.locator('details');
    assert.equal(await details.evaluate((d) => d.open), false);
    const yearlyDiff = yearly(plan) - yearly(current);
    const text = says(await details.textContent());
    assert.ok(
      text.includes(`Premiums and deductible for the year: ${yearlyDiff === 0 ? 'the same as your plan' : `${usd(Math.abs(yearlyDiff))} ${yearlyDiff > 0 ? 'more' : 'less'} than your plan`} (drug costs not included).`),
      text,
    );
  }
  const first = firstCard(page);
  const box = await first.boundingBox();
  assert.ok(box.y < VIEWPORTS.phone.height, `signed in, the first card starts at ${box.y}px`);
  await page.screenshot({ path: screenshotPath('zip-phone-signed-in') });
  // Opened from the keyboard like any native disclosure.
  const summary = first.locator('.plan-delta details > summary');
  if (await summary.count()) {
    await summary.focus();
    await page.keyboard.press('Enter');
    assert.equal(await first.locator('.plan-delta details').evaluate((d) => d.open), true);
  }
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `axe-core on the zip page signed in:\n${violations.join('\n')}`);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

/** A zip page opened by a drug list's link, its estimates drawn. */
async function openZipWithDrugs(page, zip) {
  const drugs = await drugsNamed(siteJson(stack.baseUrl), ['Lipitor', 'Lisinopril', 'Amlodipine']);
  await page.goto(`${stack.baseUrl}/zip/${zip}/#drugs=${drugs.map((d) => `${d.rxcui}.30p`).join(',')}`);
  await page.locator('#plan-tools').waitFor({ state: 'visible' });
  await settled(page);
  await page.evaluate(() => document.fonts.ready);
  const cards = await page.locator('#plan-list > li.plan-card').count();
  assert.equal(await page.locator('#plan-list > li.plan-card .plan-card__drugs').count(), cards, 'every card shows the drug list');
}

for (const [name, viewport] of Object.entries(VIEWPORTS)) {
  test(`with a drug list the first plan and its total start on the first screen at ${name} width`, async () => {
    const page = await newPage(browser, viewport);
    await openZipWithDrugs(page, zips[0].zip);
    const premium = await firstCard(page).locator('.plan-card__fact').first().boundingBox();
    const total = await firstCard(page).locator('.plan-card__fact--drugs').boundingBox();
    console.log(`${name} with drugs: the first card's premium ends at ${Math.round(premium.y + premium.height)}px, its total at ${Math.round(total.y + total.height)}px of ${viewport.height}px`);
    assert.ok(premium.y + premium.height <= viewport.height, `the first card's premium ends at ${premium.y + premium.height}px`);
    assert.ok(total.y + total.height <= viewport.height, `the first card's total ends at ${total.y + total.height}px`);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling with drugs');
    await page.screenshot({ path: screenshotPath(`zip-${name}-drugs-first-screen`) });
    const violations = await axeViolations(page);
    assert.deepEqual(violations, [], `axe-core on the zip page with drugs:\n${violations.join('\n')}`);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
}

test(`with a drug list 40 plans still fit in ${MAX_SCREENS.desktop} screens on a desktop`, async () => {
  const zip = zips[0];
  const { height } = VIEWPORTS.desktop;
  const page = await newPage(browser, VIEWPORTS.desktop);
  await openZipWithDrugs(page, zip.zip);
  assert.ok(zip.plans.length >= BUDGET_PLANS, `the zip has ${zip.plans.length} plans`);
  const tall = await page.evaluate(() => document.documentElement.scrollHeight);
  console.log(`desktop with drugs: ${zip.plans.length} plans make a page ${tall}px tall, ${(tall / height).toFixed(2)} screens of ${height}px`);
  assert.ok(tall <= MAX_SCREENS.desktop * height, `the page is ${tall}px, more than ${MAX_SCREENS.desktop} x ${height}px`);
  const panel = await page.locator('#drug-tools').boundingBox();
  const list = await page.locator('#plan-list').boundingBox();
  assert.ok(panel.x + panel.width <= list.x, 'the drug list is beside the plans');
  await page.screenshot({ path: screenshotPath('zip-desktop-drugs-full'), fullPage: true });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

/**
 * What each visible row of the list shows of what decides, as the eye
 * finds it: the text of each part (a screen reader's words included), or
 * null where the part is missing, has no size, lies outside its row or is
 * set smaller than 14px.
 */
function rowsAsSeen(page) {
  return page.$$eval('#plan-list > li.plan-card:not([hidden])', (rows) => {
    const PARTS = {
      name: 'h2 a',
      insurer: '.plan-card__insurer',
      rating: '.plan-card__rating',
      stars: '.plan-stars',
      premium: '.plan-card__fact:not([hidden]):nth-child(1) dd',
      deductible: '.plan-card__fact:not([hidden]):nth-child(2) dd',
      total: '.plan-card__fact--drugs dd',
      coverage: '.plan-card__coverage',
      compare: '.plan-card__actions button',
      details: '.plan-card__more',
    };
    const seen = (el, row) => {
      if (!el || !el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) return null;
      const box = el.getBoundingClientRect();
      const inside = box.left >= row.left - 0.5 && box.right <= row.right + 0.5 && box.top >= row.top - 0.5 && box.bottom <= row.bottom + 0.5;
      if (box.width < 2 || box.height < 2 || !inside) return null;
      return parseFloat(getComputedStyle(el).fontSize) >= 14 ? el.innerText.replace(/\s+/g, ' ').trim() : null;
    };
    return rows.map((li) => {
      const row = li.getBoundingClientRect();
      const parts = Object.fromEntries(Object.entries(PARTS).map(([name, sel]) => [name, seen(li.querySelector(sel), row)]));
      parts.labels = [...li.querySelectorAll('.plan-card__fact:not([hidden]) dt')].map((dt) => seen(dt, row));
      parts.compareHeight = li.querySelector('.plan-card__actions button')?.getBoundingClientRect().height ?? 0;
      return { id: li.dataset.planId, parts };
    });
  });
}

test(`with a drug list 40 plans fit in ${MAX_SCREENS.phone} screens on a phone, every row showing all that decides`, async () => {
  const zip = zips[0];
  const { height } = VIEWPORTS.phone;
  const page = await newPage(browser, VIEWPORTS.phone);
  await openZipWithDrugs(page, zip.zip);
  const tall = await page.evaluate(() => document.documentElement.scrollHeight);
  const perForty = ((tall / height) * BUDGET_PLANS) / zip.plans.length;
  console.log(`phone with drugs: ${zip.plans.length} plans make a page ${tall}px tall, ${perForty.toFixed(2)} screens of ${height}px per 40 plans`);
  assert.ok(perForty <= MAX_SCREENS.phone, `${perForty.toFixed(2)} screens per 40 plans, more than ${MAX_SCREENS.phone}`);

  // Nothing a shopper needs waits behind a tap, and nothing is set too small to read.
  const rows = await rowsAsSeen(page);
  assert.equal(rows.length, zip.plans.length);
  for (const { id, parts } of rows) {
    const plan = zip.plans.find((p) => p.plan_id === id);
    assert.equal(parts.name, plan.plan_name, id);
    assert.equal(parts.insurer, plan.insurer_name, id);
    const rating = plan.features.star_rating;
    assert.equal(parts.rating, rating ? `${Number(rating)} out of 5 stars` : 'No star rating', id);
    if (rating) assert.notEqual(parts.stars, null, `${id}: the stars drawn`);
    assert.equal(parts.premium, usd(cents(plan.avg_monthly_cost)), id);
    assert.equal(parts.deductible, usd(cents(plan.annual_deductible)), id);
    assert.match(parts.total ?? '', /^(\$[\d,]+\.\d\d|No estimate)/, `${id}: the total with the drugs`);
    assert.match(parts.coverage ?? '', /covered|not available/i, `${id}: the drugs' coverage`);
    assert.match(parts.compare ?? '', /^Add to compare/, id);
    assert.equal(parts.details, `All features and costs of ${plan.plan_name}`, id);
    assert.deepEqual(parts.labels, ['Monthly premium', 'Annual deductible', 'Total for the year with drugs'], `${id}: each figure labelled`);
    assert.ok(parts.compareHeight >= 24, `${id}: the compare button is ${parts.compareHeight}px tall`);
  }
  await page.screenshot({ path: screenshotPath('zip-phone-drugs-full'), fullPage: true });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('on a wide list one row of column headings heads the figures; each row keeps its labels for a screen reader', async () => {
  const zip = zips[0];
  const page = await newPage(browser, VIEWPORTS.desktop);
  await openZipWithDrugs(page, zip.zip);
  const columns = page.locator('.plan-list__columns');
  assert.equal(await columns.getAttribute('aria-hidden'), 'true');
  assert.deepEqual(await columns.locator('span').allTextContents(), ['Plan', 'Monthly premium', 'Annual deductible', 'Total with drugs']);
  const headings = await columns.locator('span').evaluateAll((els) => els.map((el) => el.getBoundingClientRect().toJSON()));
  const list = await page.locator('#plan-list').boundingBox();
  assert.ok(headings[0].bottom <= list.y + 1, 'the headings are above the rows');
  for (const row of (await rowsAsSeen(page)).slice(0, 10)) {
    const card = page.locator(`li[data-plan-id="${row.id}"]`);
    // Figures, not labels, in each row; each under its heading.
    assert.deepEqual(row.parts.labels, [null, null, null], `${row.id}: no label drawn per row`);
    const labels = await card.locator('.plan-card__fact:not([hidden]) dt').allTextContents();
    assert.deepEqual(labels, ['Monthly premium', 'Annual deductible', 'Total for the year with drugs'], `${row.id}: labels for a screen reader`);
    const figures = await card.locator('.plan-card__fact:not([hidden]) dd').evaluateAll((els) => els.map((el) => el.getBoundingClientRect().toJSON()));
    figures.forEach((box, i) => {
      const heading = headings[i + 1];
      assert.ok(box.left >= heading.left - 1 && box.right <= heading.right + 1, `${row.id}: figure ${i + 1} (${box.left}-${box.right}) under its heading (${heading.left}-${heading.right})`);
    });
    for (const part of ['name', 'insurer', 'rating', 'stars', 'premium', 'deductible', 'total', 'coverage', 'compare', 'details']) assert.notEqual(row.parts[part], null, `${row.id}: ${part} shown`);
  }
  // Without the list the last column is the yearly figure's again.
  const remove = page.locator('#drug-tools').getByRole('button', { name: /^Remove / });
  while (await remove.count()) {
    await remove.first().click();
    await settled(page);
  }
  await page.locator('.plan-card__fact--drugs').first().waitFor({ state: 'detached' });
  assert.equal(await columns.locator('span').last().textContent(), 'Premiums and deductible for the year');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
