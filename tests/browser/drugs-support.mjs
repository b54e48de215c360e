// Drives the "Your drugs" type-ahead as a person does, and works out what
// the pages must show from the published JSON, fetched from the served
// site and priced by the browser engine run here in node (the engine a
// test proves equal to the generator's reference implementation). Order,
// coverage and "no estimate" are decided here, not read back from a page.

import assert from 'node:assert/strict';
import { estimate, resolveEntry, formatDollars } from '../../templates/assets/drug-estimate.mjs';

/** Fetches JSON from the served site, each URL once. */
export function siteJson(baseUrl) {
  const cache = new Map();
  return (key) => {
    if (!cache.has(key)) {
      cache.set(
        key,
        fetch(`${baseUrl}/${key}`).then((r) => {
          if (!r.ok) throw new Error(`${key}: HTTP ${r.status}`);
          return r.json();
        }),
      );
    }
    return cache.get(key);
  };
}

/**
 * Drugs from the type-ahead shards whose names are given ("Lipitor"), the
 * first strength listed for each name: `{rxcui, name, label, ...}`.
 */
export async function drugsNamed(get, names) {
  const out = [];
  for (const name of names) {
    const shard = await get(`data/drugs/index/${name.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 2)}.json`);
    const d = shard.drugs.find((x) => x.name === name);
    assert.ok(d, `the seeded drugs include ${name}`);
    out.push({ ...d, label: [d.name, d.strength, d.dose_form].join(' ') });
  }
  return out;
}

const PHARMACY_LABELS = { preferred_retail: 'Preferred retail pharmacy', standard_retail: 'Standard retail pharmacy', mail: 'Mail order' };

/**
 * Adds one drug through the type-ahead: types the first letters of its
 * name, moves with the arrow keys to its option, chooses it with Enter,
 * picks how often and where it is filled, and presses Add.
 */
export async function addDrug(page, drug, { days = 30, pharmacy = 'preferred_retail', typed = 4 } = {}) {
  const box = page.getByRole('combobox', { name: 'Drug name' });
  await box.click();
  await box.fill('');
  await box.pressSequentially(drug.name.slice(0, typed), { delay: 20 });
  const listbox = page.getByRole('listbox', { name: 'Matching drugs' });
  await listbox.locator(`[role="option"][data-rxcui="${drug.rxcui}"]`).waitFor();
  assert.equal(await box.getAttribute('aria-expanded'), 'true');
  const count = await listbox.locator('[role="option"]').count();
  let reached = false;
  for (let i = 0; i < count && !reached; i++) {
    await box.press('ArrowDown');
    const active = await box.getAttribute('aria-activedescendant');
    reached = (await page.locator(`[id="${active}"]`).getAttribute('data-rxcui')) === drug.rxcui;
    if (reached) assert.equal(await page.locator(`[id="${active}"]`).getAttribute('aria-selected'), 'true');
  }
  assert.ok(reached, `the arrow keys reach ${drug.label}`);
  await box.press('Enter');
  assert.equal(await box.getAttribute('aria-expanded'), 'false', 'Enter chooses and closes the list');
  assert.ok((await box.inputValue()).startsWith(drug.label));
  await page.getByLabel('How often you fill it').selectOption(String(days));
  await page.getByLabel('Where you fill it').selectOption({ label: PHARMACY_LABELS[pharmacy] });
  await page.getByRole('button', { name: 'Add drug' }).click();
  await page.locator(`.drug-list__item[data-rxcui="${drug.rxcui}"]`).first().waitFor();
  await settled(page);
}

/** Waits until the page's last estimate pass is done (drugs.mjs marks the body). */
export async function settled(page) {
  await page.waitForFunction(() => document.body.dataset.drugs === 'ready');
}

/**
 * What each plan must show for `list` from `startMonth` of `year`:
 * `{plan_id, total, drugTotal, premiums, months, coversAll, notCovered, unpriced}`.
 */
export async function expected(get, planIds, list, year, startMonth) {
  const years = (await get('data/benefit-year.json')).years;
  const row = years.find((y) => y.year === year);
  assert.ok(row, `the site publishes benefit year ${year}`);
  const drugs = await Promise.all(list.map((e) => get(`data/drugs/${e.rxcui}.json`)));
  return Promise.all(
    planIds.map(async (id) => {
      const plan = await get(`data/plans/${id}.json`);
      const entries = list.map((e, i) => resolveEntry(plan, drugs[i], e.days, e.pharmacy));
      const r = estimate(row, plan, startMonth, entries);
      const placements = drugs.map((d) => (plan.formulary_id ? d.formularies[plan.formulary_id] : undefined));
      return {
        plan_id: id,
        plan,
        ...r,
        tiers: placements.map((p) => (p ? p.tier : null)),
        placements,
        coversAll: Boolean(plan.formulary_id) && placements.every(Boolean),
        notCovered: plan.formulary_id ? list.filter((_, i) => !placements[i]).map((e) => e.rxcui) : [],
      };
    }),
  );
}

/** Plan ids by total, plans without an estimate last, then by id. */
export function byTotalOrder(rows) {
  const key = (r) => (r.total == null ? Infinity : r.total);
  return [...rows].sort((a, b) => key(a) - key(b) || (a.plan_id < b.plan_id ? -1 : a.plan_id > b.plan_id ? 1 : 0)).map((r) => r.plan_id);
}

export { formatDollars };
