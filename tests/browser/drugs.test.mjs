// A shopper's drug list through the real stack: three drugs typed into the
// type-ahead on a zip page, totals on every card in the right order, the
// "Covers all my drugs" filter, the same numbers on the plan page and in
// the comparison, the list carried by its link into a fresh browser, and
// axe-core clean on every page that shows it. The clock is set to March
// 2026 so the estimate spans ten months (it starts at the visitor's month).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, newPage, axeViolations, DEMO_USER } from './harness.mjs';
import { zipsBySize } from './data.mjs';
import { siteJson, drugsNamed, addDrug, settled, expected, byTotalOrder, formatDollars } from './drugs-support.mjs';

const NOW = new Date('2026-03-15T12:00:00');
const YEAR = 2026;
const START_MONTH = 3;

let stack;
let browser;
let page;
let zip;
let get;
let chosen;
let list;
let shareLink;

const visibleIds = (p) => p.$$eval('#plan-list > li.plan-card:not([hidden])', (lis) => lis.map((li) => li.dataset.planId));
const cardTotals = (p) =>
  p.$$eval('#plan-list > li.plan-card:not([hidden])', (lis) =>
    lis.map((li) => [
      li.dataset.planId,
      li.querySelector('.plan-card__total-value')?.textContent ?? null,
      `${li.querySelector('.plan-card__fact--drugs')?.textContent ?? ''} | ${li.querySelector('.plan-card__drugs')?.textContent ?? ''}`,
      li.querySelector('.plan-card__fact--yearly').hidden,
    ]),
  );

async function freshPage(viewport) {
  const p = await newPage(browser, viewport);
  await p.context().clock.setFixedTime(NOW);
  return p;
}

async function assertAccessible(p, what) {
  const violations = await axeViolations(p);
  assert.deepEqual(violations, [], `axe-core on ${what}:\n${violations.join('\n')}`);
}

/** Every card says what the independent computation says, in its order. */
async function assertCardsMatch(p, rows, drugCount = list.length) {
  const want = byTotalOrder(rows);
  assert.deepEqual(await visibleIds(p), want, 'cards sorted by total with the drugs, no estimate last');
  const byId = new Map(rows.map((r) => [r.plan_id, r]));
  for (const [id, total, text, yearlyHidden] of await cardTotals(p)) {
    const r = byId.get(id);
    assert.ok(yearlyHidden, `${id}: the total with drugs takes the place of premiums and deductible`);
    if (r.total == null) {
      assert.equal(total, null, `${id} has no estimate`);
      assert.match(text, r.plan.formulary_id ? /No estimate ?Cannot price / : /No estimate ?No drug list published/, `${id}: ${text}`);
    } else {
      assert.equal(total, formatDollars(r.total), `${id}'s total`);
      assert.ok(text.includes(`Drugs ${formatDollars(r.drugTotal)}`), `${id}: ${text}`);
    }
    if (!r.plan.formulary_id) assert.match(text, /Drug coverage details not available/, id);
    else if (r.coversAll) assert.match(text, drugCount === 1 ? /Your drug is covered/ : new RegExp(`All ${drugCount} drugs covered`), id);
    else assert.match(text, /Not covered: /, id);
  }
  // Ascending, checked on the numbers themselves.
  const totals = want.map((id) => byId.get(id).total).filter((t) => t != null);
  assert.deepEqual(totals, [...totals].sort((a, b) => a - b));
}

before(async () => {
  stack = await startStack('drugs');
  browser = await launchBrowser();
  get = siteJson(stack.baseUrl);
  zip = zipsBySize(stack.siteDir)[0];
  assert.ok(zip.plans.length >= 5, `the busiest zip has ${zip.plans.length} plans`);
  chosen = await drugsNamed(get, ['Lipitor', 'Lisinopril', 'Amlodipine']);
  list = [
    { rxcui: chosen[0].rxcui, days: 30, pharmacy: 'preferred_retail' },
    { rxcui: chosen[1].rxcui, days: 90, pharmacy: 'mail' },
    { rxcui: chosen[2].rxcui, days: 30, pharmacy: 'standard_retail' },
  ];
  page = await freshPage();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('without a list the cards say drug costs are not included, and the panel invites one', async () => {
  await page.goto(`${stack.baseUrl}/zip/${zip.zip}/`);
  await page.locator('#plan-tools').waitFor({ state: 'visible' });
  await page.locator('#drug-tools').waitFor({ state: 'visible' });
  assert.match(await page.locator('.drug-panel > summary').innerText(), /Add your drugs/);
  assert.equal(await page.locator('.plan-card__drugs').count(), 0);
  assert.match(await page.locator('#plan-list > li.plan-card').first().innerText(), /Drug costs not included/);
  assert.equal(await page.getByLabel('Covers all my drugs').isVisible(), false, 'no drug filter without drugs');
});

test('the type-ahead explains a missing choice and closes with Escape', async () => {
  const box = page.getByRole('combobox', { name: 'Drug name' });
  await page.getByRole('button', { name: 'Add drug' }).click();
  assert.equal(await box.getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#drug-name-error').textContent(), /Type the name of a drug/);
  assert.ok((await box.getAttribute('aria-describedby')).split(' ').includes('drug-name-error'));
  assert.match(await page.locator('.drug-panel__status').textContent(), /Type the name of a drug/, 'the error is announced');

  await box.pressSequentially('lis', { delay: 20 });
  await page.getByRole('listbox', { name: 'Matching drugs' }).waitFor();
  assert.equal(await box.getAttribute('aria-expanded'), 'true');
  await assertAccessible(page, 'the zip page with the type-ahead open');
  await box.press('Escape');
  assert.equal(await box.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.getByRole('listbox', { name: 'Matching drugs' }).isHidden(), true);
  await box.press('Escape');
  assert.equal(await box.inputValue(), '', 'a second Escape clears the box');
});

test('three drugs typed in: every card gets its total, and the order follows', async () => {
  let before = null;
  for (let i = 0; i < list.length; i++) {
    await addDrug(page, chosen[i], list[i]);
    const rows = await expected(get, zip.plans.map((p) => p.plan_id), list.slice(0, i + 1), YEAR, START_MONTH);
    await assertCardsMatch(page, rows, i + 1);
    const totals = rows.map((r) => r.total);
    if (before) assert.notDeepEqual(totals, before, 'adding a drug changes the totals');
    before = totals;
  }
  assert.match(await page.locator('#result-count').textContent(), /sorted by estimated total for the year with your drugs \(lowest first\)$/);
  assert.match(await page.locator('.zip-intro').textContent(), /with your 3 drugs: premiums and drug costs from March to December/);
  assert.match(await page.locator('.drug-panel > summary').innerText(), /3 drugs/);
  assert.equal(await page.getByLabel('Sort by').inputValue(), 'total');
  // The list is in this browser and in the page's link.
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('wg.drugs')));
  assert.deepEqual(stored, list);
  const hash = `#drugs=${list.map((e) => `${e.rxcui}.${e.days}${{ preferred_retail: 'p', standard_retail: 's', mail: 'm' }[e.pharmacy]}`).join(',')}`;
  assert.equal(new URL(page.url()).hash, hash);
  shareLink = await page.locator('.drug-panel__link').getAttribute('href');
  assert.equal(new URL(shareLink).hash, hash);
});

test('a brand on the list offers its generic', async () => {
  const lipitor = await get(`data/drugs/${chosen[0].rxcui}.json`);
  assert.ok(lipitor.generics.length, 'Lipitor has a generic in the data');
  const generic = await get(`data/drugs/${lipitor.generics[0]}.json`);
  const item = page.locator(`.drug-list__item[data-rxcui="${chosen[0].rxcui}"]`).first();
  assert.match(await item.innerText(), new RegExp(`A generic is available: ${generic.name} ${generic.strength}`));
  await item.getByRole('button', { name: `Switch to the generic instead of ${chosen[0].label}` }).waitFor();
});

test('"Covers all my drugs" keeps exactly the plans whose drug list has all three', async () => {
  const rows = await expected(get, zip.plans.map((p) => p.plan_id), list, YEAR, START_MONTH);
  const covering = rows.filter((r) => r.coversAll);
  await page.locator('#plan-tools label', { hasText: 'Covers all my drugs' }).click();
  const want = byTotalOrder(covering);
  assert.deepEqual(await visibleIds(page), want);
  assert.equal(new URL(page.url()).searchParams.get('covers'), '1');
  assert.ok(new URL(page.url()).hash.startsWith('#drugs='), 'a filter keeps the list in the link');
  // Limits are flagged on the cards, by the codes people know.
  for (const r of covering.slice(0, 5)) {
    const text = await page.locator(`li[data-plan-id="${r.plan_id}"] .plan-card__drugs`).innerText();
    assert.match(text, /^All 3 drugs covered/);
    const codes = r.placements.flatMap((p) => [p.prior_authorization && 'PA', p.step_therapy && 'ST', p.quantity_limit && 'QL'].filter(Boolean));
    if (codes.length) for (const c of codes) assert.ok(text.includes(c), `${r.plan_id} flags ${c}: ${text}`);
    else assert.doesNotMatch(text, /Limits:/);
  }
  await page.locator('.plan-filters-panel').evaluate((d) => (d.open = true));
  await assertAccessible(page, 'the zip page with a drug list and the drug filter on');
  await page.locator('#plan-tools label', { hasText: 'Covers all my drugs' }).click();
  assert.equal((await visibleIds(page)).length, zip.plans.length);
});

test('a plan page shows the same total as its card, each drug and each month', async () => {
  const rows = await expected(get, zip.plans.map((p) => p.plan_id), list, YEAR, START_MONTH);
  const first = byTotalOrder(rows)[0];
  const r = rows.find((x) => x.plan_id === first);
  assert.notEqual(r.total, null, 'the cheapest plan has an estimate');
  const cardTotal = await page.locator(`li[data-plan-id="${first}"] .plan-card__total-value`).textContent();
  await Promise.all([page.waitForURL((u) => u.pathname === `/plans/${first}/`), page.locator(`li[data-plan-id="${first}"] h2 a`).click()]);
  await settled(page);
  const section = page.locator('#plan-drugs');
  await section.locator('.drug-estimate__total').waitFor();
  assert.equal(await section.locator('.drug-estimate__total').textContent(), cardTotal);
  assert.equal(cardTotal, formatDollars(r.total));
  assert.equal(await section.locator('.drug-estimate__premiums').textContent(), formatDollars(r.premiums));
  assert.equal(await section.locator('.drug-estimate__drugs').textContent(), formatDollars(r.drugTotal));
  // One yearly figure on the page: the total with drugs, not also premiums and deductible alone.
  assert.doesNotMatch(await page.locator('main').innerText(), /Premiums and deductible for the year/);
  assert.equal(await page.locator('.plan-costs__without-drugs:visible').count(), 0);
  const months = await section.locator('table.drug-months tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td').textContent]));
  const names = ['March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  assert.deepEqual(months, r.months.map((m, i) => [names[i], formatDollars(m)]));
  const tiers = await section.locator('table.drug-coverage tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.dataset.rxcui, tr.querySelectorAll('td')[0].textContent]));
  assert.deepEqual(tiers, list.map((e, i) => [e.rxcui, r.tiers[i] ? `Tier ${r.tiers[i]}` : 'None']));
  // The chart is for the eye; the table is its text.
  assert.equal(await section.locator('svg.drug-chart').getAttribute('aria-hidden'), 'true');
  assert.equal(await section.locator('svg.drug-chart rect').count(), 10);
  await assertAccessible(page, 'the plan page with a drug list');
  assert.deepEqual(page.problems, []);
});

test('the shared link brings the same list into a fresh browser', async () => {
  const p = await freshPage();
  await p.goto(shareLink);
  await p.locator('#plan-tools').waitFor({ state: 'visible' });
  await settled(p);
  const items = await p.locator('.drug-list__item').evaluateAll((lis) => lis.map((li) => li.dataset.rxcui));
  assert.deepEqual(items, list.map((e) => e.rxcui));
  assert.deepEqual(await p.evaluate(() => JSON.parse(localStorage.getItem('wg.drugs'))), list);
  const rows = await expected(get, zip.plans.map((x) => x.plan_id), list, YEAR, START_MONTH);
  await assertCardsMatch(p, rows);
  assert.match(await p.locator('.drug-panel__status').textContent(), /3 drugs loaded from the link/);
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test('the comparison lines up each plan\'s drug costs, and signed in, the current plan\'s beside', async () => {
  const rows = await expected(get, zip.plans.map((x) => x.plan_id), list, YEAR, START_MONTH);
  const ids = byTotalOrder(rows).slice(0, 3);
  await page.goto(`${stack.baseUrl}/compare/?plans=${ids.join(',')}`);
  await page.locator('#compare table').waitFor();
  const row = (label) => page.locator('#compare tbody tr', { has: page.locator('th', { hasText: label }) }).first();
  await row('Estimated total for the year with your 3 drugs').waitFor();
  const byId = new Map(rows.map((r) => [r.plan_id, r]));
  const totals = await row('Estimated total for the year with your 3 drugs').locator('td').allTextContents();
  const drugCosts = await row('Your drug costs').locator('td').allTextContents();
  ids.forEach((id, i) => {
    const r = byId.get(id);
    assert.ok(totals[i].startsWith(r.total == null ? 'No estimate' : formatDollars(r.total)), `${id}: ${totals[i]}`);
    assert.equal(drugCosts[i], r.drugTotal == null ? 'No estimate' : formatDollars(r.drugTotal));
  });
  for (const [k, e] of list.entries()) {
    const cells = await row(chosen[k].label).locator('td').allTextContents();
    ids.forEach((id, i) => {
      const t = byId.get(id).tiers[k];
      assert.ok(t ? cells[i].startsWith(`Tier ${t}`) : /Not covered|No drug list/.test(cells[i]), `${e.rxcui} on ${id}: ${cells[i]}`);
    });
  }
  await assertAccessible(page, 'the comparison with a drug list');

  await page.goto(`${stack.baseUrl}/signin/`);
  await page.getByLabel('Username').fill(DEMO_USER.username);
  await page.getByLabel('Password').fill(DEMO_USER.password);
  await Promise.all([page.waitForURL('**/my-plan/'), page.locator('#signin-form [type="submit"]').click()]);
  const current = (await page.evaluate(() => fetch('/api/me/enrollment').then((r) => r.json()))).current_plan;
  assert.ok(current, 'the demo user has a current plan');
  const others = byTotalOrder(rows).filter((id) => id !== current.plan_id).slice(0, 2);
  await page.goto(`${stack.baseUrl}/compare/?plans=${others.join(',')}`);
  const box = page.locator('#compare-current-drugs');
  await box.waitFor();
  const [mine] = await expected(get, [current.plan_id], list, YEAR, START_MONTH);
  const text = (await box.innerText()).replace(/\s+/g, ' ');
  assert.ok(text.includes(current.plan_name), text);
  assert.ok(
    text.includes(mine.total == null ? 'No estimate with your drugs' : `estimated total for the year ${formatDollars(mine.total)} (premiums ${formatDollars(mine.premiums)} + drugs ${formatDollars(mine.drugTotal)}, March to December)`),
    text,
  );
  await assertAccessible(page, 'the comparison signed in with a drug list');
  assert.deepEqual(page.problems, []);
});

test('removing every drug puts the page back as it was, with no drug filter', async () => {
  await page.goto(`${stack.baseUrl}/zip/${zip.zip}/`);
  await page.locator('#plan-tools').waitFor({ state: 'visible' });
  await settled(page);
  for (const d of chosen) {
    await page.getByRole('button', { name: `Remove ${d.label}` }).first().click();
    await settled(page);
  }
  assert.equal(await page.locator('.plan-card__drugs, .plan-card__fact--drugs').count(), 0);
  assert.equal(await page.locator('.plan-card__fact--yearly:not([hidden])').count(), zip.plans.length);
  assert.equal(await page.getByLabel('Sort by').inputValue(), 'cost');
  assert.equal(await page.evaluate(() => localStorage.getItem('wg.drugs')), null);
  assert.equal(new URL(page.url()).hash, '');
  assert.match(await page.locator('.drug-panel__status').textContent(), /Your list is empty/);
  assert.deepEqual(page.problems, []);
});
